"""The dashboard at / in a real browser (Debian's chromium driven by Playwright) against a real
worker: it loads without console errors, a spike injected into the stream shows within 5 seconds,
analyst SQL shows its rows (and the server's refusal), data never becomes markup, a missing key is
asked for. Screenshots go to tests/artefacts/ (or $TRUEVOICE_TEST_ARTEFACTS)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from streams.kafka.embedded import EmbeddedBroker, free_port
from tests.conftest import REPO, WorkerProcess, wait_until, worker_env
from tests.mentions import make_mentions

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
LAPTOP = {"width": 1366, "height": 768}
ARTEFACTS = Path(os.environ.get("TRUEVOICE_TEST_ARTEFACTS") or REPO / "tests" / "artefacts")
SPIKE_VISIBLE_SECONDS = 5.0

HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">캠페인'
HOSTILE_TEXT = '대시보드 <script>window.__pwned=1</script><b>굵게</b> 최고 <img src=x onerror="window.__pwned=1">'


def _post(worker: WorkerProcess, path: str, body: object, status: int = 202) -> dict:
    got, answer = worker.post(path, body)
    assert got == status, answer
    return answer


def _campaign(worker: WorkerProcess, campaign_id: str, **fields) -> None:
    _post(worker, "/api/v1/campaigns", {"campaign_id": campaign_id, "brand": "대시", **fields}, 201)
    wait_until(lambda: any(c["campaign_id"] == campaign_id for c in worker.get("/api/v1/campaigns")["campaigns"]), 30,
               f"campaign {campaign_id}")


@pytest.fixture(scope="module")
def worker(tmp_path_factory) -> Iterator[WorkerProcess]:
    """A worker with campaign "dash" (a hostile name, mentions with a hostile text, a prediction)
    and campaign "dash-spike" that nothing has been sent to yet."""
    tmp = tmp_path_factory.mktemp("dashboard")
    with EmbeddedBroker() as broker:
        port = free_port()
        w = WorkerProcess(["worker"], worker_env(broker, tmp / "data", port), tmp / "data", port,
                          tmp / "worker.log").start()
        try:
            _campaign(w, "dash", name=HOSTILE_NAME, keywords=["대시보드"])
            _campaign(w, "dash-spike", keywords=["급증테스트"], min_mentions=25, spike_threshold=3.0)
            now = datetime.now(timezone.utc)
            mentions = [dict(m, text=text, posted_at=(now - timedelta(minutes=i % 20)).isoformat())
                        for i, (m, text) in enumerate(zip(make_mentions(24, seed=31, prefix="dash"),
                                                          [HOSTILE_TEXT, "대시보드 너무 별로 환불 원함",
                                                           "대시보드 그냥 그럼 가격은 얼마?"] * 8))]
            assert _post(w, "/api/v1/mentions", mentions)["accepted"] == 24
            wait_until(lambda: w.scalar("SELECT count() FROM mentions FINAL WHERE has(campaigns, 'dash')") == 24,
                       60, "the campaign's mentions in ClickHouse")
            _post(w, "/api/predictions", {"campaign_id": "dash"}, 201)  # now, not at the predictor's next round
            yield w
        finally:
            w.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Console:
    """Every console error and uncaught exception of a page."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(f"console: {msg.text} at {msg.location['url']}")

    def errors_but(self, status: int, route: str) -> list[str]:
        """The errors but the browser's own line for an answer ``status`` of ``route``, which the
        page expects (e.g. 404: no prediction yet) and shows as such."""
        return [e for e in self.errors if not (f"status of {status}" in e and route in e)]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=LAPTOP, locale="ko-KR")
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def open_dashboard(page: Page, worker: WorkerProcess, campaign: str) -> Console:
    console = Console(page)
    page.goto(f"{worker.url}/?campaign={campaign}#key={worker.api_key}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    return console


def screenshot(page: Page, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_the_page_loads_in_korean_with_no_console_errors_and_shows_the_campaign(page, worker):
    console = open_dashboard(page, worker, "dash")
    expect(page.locator("h1")).to_have_text("TrueVoice 대시보드")
    expect(page.locator("#campaign option:checked")).to_have_text(f"{HOSTILE_NAME} (dash)")
    # the live tick fills the numbers: 24 mentions in the last hour
    expect(page.locator("#kpis .kpi").nth(1).locator(".kpi-value")).to_have_text("24", timeout=10_000)
    expect(page.locator("#velocity-chart canvas")).to_have_count(1)
    expect(page.locator("#sentiment-chart canvas")).to_have_count(1)
    # top mentions with their scores and credibility reasons; the prediction with its figures
    expect(page.locator("#mentions tr")).to_have_count(20, timeout=10_000)
    expect(page.locator("#mentions .scores .chip").first).to_be_visible()
    expect(page.locator("#prediction .figure")).to_have_count(4, timeout=10_000)
    expect(page.locator("#prediction .risks h3")).to_have_text("위험")
    # the server's insights and recommendations, in the page's language
    expect(page.locator("#prediction .insights h3")).to_have_text("인사이트")
    expect(page.locator("#prediction .recommendations li").first).to_be_visible()
    # the address bar no longer shows the key; the page keeps it for its calls
    assert "key=" not in page.url
    assert page.evaluate("localStorage.getItem('truevoice.apiKey')") == worker.api_key
    screenshot(page, "dashboard-ko")
    assert console.errors == []


def test_data_from_the_server_renders_as_text_never_as_markup(page, worker):
    console = open_dashboard(page, worker, "dash")
    hostile = page.locator("#mentions td.text", has_text="<script>window.__pwned=1</script>")
    expect(hostile.first).to_be_visible(timeout=10_000)
    assert hostile.first.text_content() == HOSTILE_TEXT
    assert page.locator("#mentions img, #mentions script, #mentions b, #campaign img").count() == 0
    # an analyst's result holding markup is shown as the text it is
    page.locator("#sql-input").fill("SELECT '<img src=x onerror=\"window.__pwned=1\">' AS html")
    page.locator("#sql-input").press("Control+Enter")
    expect(page.locator("#sql-result td")).to_have_text('<img src=x onerror="window.__pwned=1">', timeout=30_000)
    assert page.locator("#sql-result img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert console.errors == []


def test_a_spike_in_the_stream_appears_on_the_page_within_5_seconds(page, worker):
    console = open_dashboard(page, worker, "dash-spike")
    expect(page.locator("#no-spikes")).to_be_visible()
    now = datetime.now(timezone.utc).isoformat()
    burst = [dict(m, text="급증테스트 완전 최악 환불해줘", posted_at=now, platform="blind")
             for m in make_mentions(30, seed=41, prefix="dspike")]
    assert _post(worker, "/api/v1/mentions", burst)["accepted"] == 30

    def published() -> dict | None:
        return next(iter(worker.get("/api/v1/alerts?campaign_id=dash-spike")["alerts"]), None)

    alert = wait_until(published, 60, "the spike alert of dash-spike", interval=0.05)
    seen_at = time.monotonic()
    spike = page.locator(f'#spikes [data-alert-id="{alert["alert_id"]}"]')
    expect(spike).to_be_visible(timeout=SPIKE_VISIBLE_SECONDS * 1000)
    assert time.monotonic() - seen_at <= SPIKE_VISIBLE_SECONDS
    expect(spike.locator(".spike-message")).to_have_text(alert["message"])
    expect(spike).to_contain_text("blind")
    expect(page.locator("#no-spikes")).to_be_hidden()
    # the same tick stream moves the numbers: the burst is the campaign's last hour (not "the last
    # minute": the minute may have turned since the burst)
    expect(page.locator("#kpis .kpi").nth(1).locator(".kpi-value")).to_have_text("30", timeout=10_000)
    expect(page.locator("#prediction")).to_have_text("아직 예측이 없습니다")
    # the spike reloads the top mentions: the burst's posts with their scores
    expect(page.locator("#mentions td.text", has_text="급증테스트")).to_have_count(20, timeout=10_000)
    screenshot(page, "dashboard-spike")
    assert console.errors_but(404, "/api/v1/predictions/dash-spike") == []


def test_a_sql_query_shows_its_rows_and_a_refused_one_its_error(page, worker):
    console = open_dashboard(page, worker, "dash")
    query = ("SELECT sentiment_label, count() AS n FROM mentions FINAL WHERE has(campaigns, 'dash') "
             "GROUP BY sentiment_label ORDER BY sentiment_label")
    expected = [[str(v) for v in row] for row in worker.sql(query)]
    page.locator("#sql-input").fill(query)
    page.get_by_role("button", name="실행").click()
    expect(page.locator("#sql-status")).to_have_text(f"{len(expected)}개 행", timeout=30_000)
    expect(page.locator("#sql-result th")).to_have_text(["sentiment_label", "n"])
    shown = [row.locator("td").all_text_contents() for row in page.locator("#sql-result tbody tr").all()]
    assert shown == expected and sum(int(n) for _, n in shown) == 24
    screenshot(page, "dashboard-sql-rows")

    page.locator("#sql-input").fill("INSERT INTO mentions SELECT * FROM mentions")
    page.locator("#sql-input").press("Control+Enter")
    expect(page.locator("#sql-status")).to_contain_text("INSERT is not allowed", timeout=30_000)
    expect(page.locator("#sql-status")).to_contain_text("403")
    expect(page.locator("#sql-result tr")).to_have_count(0)
    screenshot(page, "dashboard-sql-refused")
    # the refusal is an answer of the server (403), logged by the browser as a failed resource
    assert console.errors_but(403, "/api/v1/sql") == []


def test_english_toggle_switches_the_words_and_is_remembered(page, worker):
    console = open_dashboard(page, worker, "dash")
    page.get_by_role("button", name="EN").click()
    expect(page.locator("h1")).to_have_text("TrueVoice dashboard")
    expect(page.locator(".spikes-panel h2")).to_have_text("Spike alerts")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#prediction .risks h3")).to_have_text("Risks")
    page.reload()
    expect(page.locator("h1")).to_have_text("TrueVoice dashboard")
    expect(page.locator("#connection")).to_have_text("Live", timeout=15_000)
    expect(page.locator("#kpis .kpi-label").first).to_have_text("Last minute", timeout=10_000)
    expect(page.locator("#mentions tr")).to_have_count(20, timeout=10_000)
    expect(page.locator("#prediction .figure-label").first).to_have_text("Brand sentiment", timeout=10_000)
    expect(page.locator("#prediction .recommendations h3")).to_have_text("Recommendations")
    screenshot(page, "dashboard-en")
    page.get_by_role("button", name="한국어").click()
    expect(page.locator("h1")).to_have_text("TrueVoice 대시보드")
    assert console.errors == []


def test_without_a_key_the_page_asks_for_one_and_works_once_given(page, worker):
    page.goto(worker.url + "/")
    form = page.locator("#key-form")
    expect(form).to_be_visible()
    expect(page.locator("#errors")).to_contain_text("401", timeout=10_000)
    page.locator("#key-input").fill(worker.api_key)
    page.get_by_role("button", name="저장").click()
    expect(form).to_be_hidden()
    expect(page.locator("#campaign option[value='dash']")).to_have_count(1, timeout=10_000)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)


def test_clients_asking_for_json_still_get_the_endpoint_list(worker):
    import urllib.request

    import orjson

    with urllib.request.urlopen(urllib.request.Request(worker.url + "/", headers={"Accept": "application/json"}),
                                timeout=30) as r:
        assert "/api/campaigns" in orjson.loads(r.read())["endpoints"]
    with urllib.request.urlopen(worker.url + "/", timeout=30) as r:
        assert r.headers["Content-Type"].startswith("text/html") and b'<select id="campaign">' in r.read()
