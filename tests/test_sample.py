"""The bundled sample: valid records, deterministic, five brands, bursts, PII, bots, shifting."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from schemas.records import Campaign, Mention
from scoring.campaigns import CampaignMatcher
from scoring.privacy import Anonymiser
from streams.sample import CAMPAIGNS_PATH, MENTIONS_PATH, load_campaigns, load_sample
from streams.sample.generate import BURSTS, START, campaigns, generate

BRANDS = ("haedam", "haruon", "nova", "morningbean", "aether")


@pytest.fixture(scope="module")
def raw() -> list[dict]:
    with gzip.open(MENTIONS_PATH, "rb") as fh:
        return [orjson.loads(line) for line in fh]


@pytest.fixture(scope="module")
def generated():
    return generate()


@pytest.fixture(scope="module")
def mentions(raw) -> list[Mention]:
    return [Mention.model_validate(r) for r in raw]  # every line must validate


def test_file_size_and_count(raw, mentions):
    assert MENTIONS_PATH.stat().st_size < 1_000_000
    assert 3000 <= len(raw) <= 5000
    assert len({m.event_id for m in mentions}) == len(mentions)


def test_shipped_file_is_the_generator_output(raw, generated):
    assert raw == generated[0]
    assert orjson.loads(CAMPAIGNS_PATH.read_bytes()) == campaigns()


def test_counts_per_brand_and_language(mentions, generated):
    meta = generated[1]
    per_brand = Counter(x["brand"] for x in meta)
    for b in BRANDS:
        assert per_brand[b] >= 300, (b, per_brand)
    assert per_brand[None] >= 50  # off-topic noise
    langs = Counter(x["lang"] for x in meta)
    assert 0.05 < langs["en"] / len(meta) < 0.25
    assert Counter(m.platform for m in mentions).keys() >= {"twitter", "instagram", "youtube", "naver_blog", "naver_cafe",
                                                           "dcinside", "fmkorea", "clien", "ruliweb", "theqoo", "blind", "news"}
    texts = " ".join(m.text for m in mentions)
    for slang in ("ㅋㅋ", "존맛", "내돈내산", "개이득", "ㄹㅇ", "ㅠㅠ", "🔥"):
        assert slang in texts, slang


def test_time_span_and_collection_delay(mentions):
    posted = [m.posted_at for m in mentions]
    assert posted == sorted(posted)
    assert timedelta(hours=5, minutes=45) <= posted[-1] - posted[0] <= timedelta(hours=6)
    for m in mentions:
        assert timedelta(0) < m.collected_at - m.posted_at <= timedelta(minutes=30)


def _per_minute(mentions, meta, brand):
    c = Counter(int((m.posted_at - START).total_seconds() // 60) for m, x in zip(mentions, meta) if x["brand"] == brand)
    return [c.get(i, 0) for i in range(360)]


@pytest.mark.parametrize("burst", sorted(BURSTS))
def test_bursts_present(mentions, generated, burst):
    meta = generated[1]
    brand, at, n, _ = BURSTS[burst]
    series = _per_minute(mentions, meta, brand)
    before = series[: at - 5]
    baseline = sorted(before)[len(before) // 2] + 1
    peak = max(series[at: at + 15])
    assert peak >= 5 * baseline, (burst, peak, baseline)
    in_burst = [x for x in meta if x["burst"] == burst]
    assert len(in_burst) >= 0.9 * n
    sentiments = Counter(x["sentiment"] for x in in_burst)
    if burst == "nova-launch":
        assert sentiments["positive"] > 0.6 * len(in_burst)
        assert any(x["bot"] for x in in_burst)
    else:
        assert sentiments["negative"] > 0.8 * len(in_burst)


def test_bots_and_heavy_tails(mentions, generated):
    bots = [m for m, x in zip(mentions, generated[1]) if x["bot"]]
    assert len(bots) >= 20
    for m in bots:
        assert m.author.followers == 0 and m.author.created_at >= datetime(2025, 3, 8).date()
    followers = sorted(m.author.followers for m in mentions)
    assert followers[len(followers) // 2] < 500 and followers[-1] > 100_000
    likes = sorted(m.engagement.likes for m in mentions)
    assert likes[-1] > 20 * (likes[len(likes) // 2] + 1)
    assert sum(bool(m.media_urls) for m in mentions) > 300 and sum(bool(m.hashtags) for m in mentions) > 300


URL_SHAPES = {
    "twitter": r"https://twitter\.com/[^/]+/status/\d+", "instagram": r"https://www\.instagram\.com/p/[\w-]{11}/",
    "youtube": r"https://www\.youtube\.com/watch\?v=[\w-]{11}&lc=Ugx[\w-]+", "naver_blog": r"https://blog\.naver\.com/\w+/\d+",
    "naver_cafe": r"https://cafe\.naver\.com/\w+/\d+", "dcinside": r"https://gall\.dcinside\.com/mgallery/board/view/\?id=\w+&no=\d+",
    "fmkorea": r"https://www\.fmkorea\.com/\d+", "clien": r"https://www\.clien\.net/service/board/park/\d+",
    "ruliweb": r"https://bbs\.ruliweb\.com/community/board/\d+/read/\d+", "theqoo": r"https://theqoo\.net/square/\d+",
    "blind": r"https://www\.teamblind\.com/kr/post/\w+", "news": r"https://www\.[\w.]+/news/articleView\.html\?idxno=\d+",
    "naver_news": r"https://n\.news\.naver\.com/mnews/article/\d{3}/\d{10}", "instiz": r"https://www\.instiz\.net/pt/\d+",
    "tiktok": r"https://www\.tiktok\.com/@[\w.]+/video/\d+", "reddit": r"https://www\.reddit\.com/r/korea/comments/\w+/",
}


def test_url_shapes(mentions):
    for m in mentions:
        assert re.fullmatch(URL_SHAPES[m.platform], m.url), (m.platform, m.url)


def test_personal_data_present_and_anonymised(mentions, generated):
    a = Anonymiser(salt="t")
    pii = [m for m, x in zip(mentions, generated[1]) if x["pii"]]
    assert len(pii) >= 60
    changed = [m for m in pii if a(m.text) != m.text]
    assert len(changed) >= 0.95 * len(pii)
    texts = " ".join(m.text for m in pii)
    assert re.search(r"010-\d{4}-\d{4}", texts) and "@gmail.com" in texts or "@naver.com" in texts
    assert re.search(r"\d+\.\d+\.\d+\.\d+", texts) and re.search(r"님|씨|이름:", texts)
    anon = " ".join(a(m.text) for m in pii)
    assert not re.search(r"010-\d{4}-\d{4}", anon) and "[phone]" in anon and "[ip]" in anon and "@user_" in anon


def test_campaigns_match_their_brand(mentions, generated):
    cs = [Campaign.model_validate(c) for c in orjson.loads(CAMPAIGNS_PATH.read_bytes())]
    assert any(c.query for c in cs) and any(c.exclude for c in cs) and any(not c.active for c in cs)
    matcher = CampaignMatcher(cs)
    by_brand = {}
    for c in cs:
        if c.active:
            by_brand.setdefault(c.brand, set()).add(c.campaign_id)
    checked = hits = 0
    for m, x in zip(mentions, generated[1]):
        got = set(matcher.match(m.text, m.platform, m.posted_at))
        if x["brand"] is None:
            assert not got, m.text
            continue
        if x["brand"] == "haruon" and m.platform not in cs[1].platforms:
            continue
        checked += 1
        hits += bool(got & by_brand[x["brand"]])
        assert got <= by_brand[x["brand"]], (m.text, got)
    assert hits >= 0.98 * checked


def test_load_sample_shift(raw):
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    shifted = list(load_sample(shift_to=now))
    assert len(shifted) == len(raw)
    ms = [Mention.model_validate(r) for r in shifted]
    assert max(m.posted_at for m in ms) == now
    orig = [Mention.model_validate(r) for r in raw]
    delta = ms[0].posted_at - orig[0].posted_at
    for a, b in zip(orig[:50], ms[:50]):
        assert b.posted_at - a.posted_at == delta and b.collected_at - a.collected_at == delta
    assert list(load_sample()) == raw
    naive = list(load_sample(shift_to=datetime(2030, 1, 2, 3, 4, 5)))
    assert naive == shifted
    # time-bounded campaigns move with the sample
    cs = {c.campaign_id: c for c in load_campaigns(shift_to=now)}
    assert cs["morningbean-strawberry"].starts_at < ms[0].posted_at and cs["morningbean-strawberry"].ends_at > now
