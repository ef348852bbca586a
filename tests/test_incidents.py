"""Incidents from the real stream detector (tables.spikes.SpikeWatch) and incident book
(tables.incidents.IncidentBook), fed as the worker feeds them: partial deltas while a minute
grows, ticks a few times a minute, on a synthetic day. Across a worker restart: the publisher
(agents.alerts.AlertPublisher) over a real embedded ClickHouse (chdb) holding what it published."""

from __future__ import annotations

import asyncio
import random
import zlib
from collections import Counter, defaultdict
from datetime import datetime, timezone

import pytest

from agents.alerts import AlertPublisher
from schemas.records import Alert, WindowSums
from scoring.anomaly import VolumeDetector
from tables.clickhouse.store import ClickHouseStore
from tables.incidents import IncidentBook, log_odds, stem, stopwords, stored_alerts, to_alert
from tables.spikes import ALL, MINUTE, SpikeWatch, Thresholds, _walk

DAY0 = 1_767_225_600  # 2026-01-01T00:00:00Z
PLATFORMS = ("twitter", "dcinside", "theqoo", "naver_cafe", "blind", "youtube")
CAMPAIGNS = {"ramen": 1.5, "phone": 3.0, "cream": 0.8}  # baseline mentions per minute per platform
# campaign, start minute of the day, minutes, extra mentions per minute per platform, platforms, negative
BURSTS = [
    ("ramen", 200, 12, 12, ("dcinside", "theqoo", "blind"), True),
    ("phone", 420, 20, 10, PLATFORMS, False),
    ("cream", 610, 8, 25, ("youtube",), False),
    ("ramen", 900, 15, 10, ("twitter", "naver_cafe", "dcinside", "theqoo"), False),
    ("phone", 1210, 10, 20, ("blind", "dcinside"), True),
]


def thresholds(campaign: str) -> Thresholds:
    return Thresholds(zscore=4.0, min_mentions=30) if campaign == ALL else Thresholds(zscore=3.0, min_mentions=20)


def synthetic_day(seed: int = 7):
    """(minute, campaign, platform, count, negative) rows of one day, bursts included."""
    rng = random.Random(seed)
    rows = []
    for minute in range(1440):
        for campaign, rate in CAMPAIGNS.items():
            for platform in PLATFORMS:
                lam = rate * (1.0 + 0.5 * (8 <= (minute // 60 + 9) % 24 <= 23))  # busier in Korean daytime
                count = _poisson(rng, lam)
                negative = sum(rng.random() < 0.2 for _ in range(count))
                for c, start, length, extra, platforms, neg in BURSTS:
                    if c == campaign and platform in platforms and start <= minute < start + length:
                        decay = 1.0 - (minute - start) / (length + 2)
                        more = _poisson(rng, extra * decay)
                        count += more
                        negative += sum(rng.random() < (0.8 if neg else 0.15) for _ in range(more))
                if count:
                    rows.append((DAY0 + minute * 60, campaign, platform, count, negative))
    return rows


def _poisson(rng: random.Random, lam: float) -> int:
    n, p, limit = 0, 1.0, pow(2.718281828459045, -lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def run_stream(rows, seed_history=None):
    """Feed rows as the worker does: three partial deltas per minute and key (also under the
    all-campaigns key), a tick every 15 s of simulated time; every published record."""
    watch = SpikeWatch(thresholds, seed=seed_history, platforms=PLATFORMS)
    book = IncidentBook(thresholds)
    by_minute = defaultdict(list)
    for row in rows:
        by_minute[row[0]].append(row)
    records = []

    def tick(now):
        for inc in book.process(watch.tick(now)):
            records.append(to_alert(inc, None))
            book.published(inc)

    for minute in range(DAY0, DAY0 + 1440 * 60 + 600, 60):
        for part, at in ((0, 10), (1, 30), (2, 55)):
            for _, campaign, platform, count, negative in by_minute.get(minute, ()):
                c = count // 3 + (part < count % 3)
                n = negative // 3 + (part < negative % 3)
                if c:
                    for key in (campaign, ALL):
                        watch.add(key, platform, minute, WindowSums(count=c, negative=n, sentiment_sum=-0.5 * n), at + minute)
            tick(minute + at + 2)
    return records


def history(campaign: str, platform: str, end_minute: int, count: int) -> dict[int, WindowSums]:
    """The window table's hour before the day: the campaigns' quiet rates."""
    rng = random.Random(zlib.crc32(f"{campaign}|{platform}".encode()))
    rate = CAMPAIGNS.get(campaign, 0.0) * 1.5  # 23:00 UTC is 08:00 in Korea: daytime
    out = {}
    for m in range(end_minute - (count - 1) * 60, end_minute + 60, 60):
        n = _poisson(rng, rate)
        if n:
            out[m] = WindowSums(count=n, negative=n // 5)
    return out


def all_campaigns_history(campaign, platform, end_minute, count):
    if campaign != ALL:
        return history(campaign, platform, end_minute, count)
    parts = [history(c, platform, end_minute, count) for c in CAMPAIGNS]
    return {m: sum((p[m] for p in parts if m in p), WindowSums()) for m in set().union(*parts)}


@pytest.fixture(scope="module")
def day_records():
    return run_stream(synthetic_day(), seed_history=all_campaigns_history)


def test_a_synthetic_day_with_five_incidents_gives_five_incidents_each_raised_once(day_records):
    campaign_records = [r for r in day_records if r.campaign_id != ALL]
    by_id = defaultdict(list)
    for r in campaign_records:
        by_id[r.alert_id].append(r)
    assert len(by_id) == 5, sorted(by_id)
    starts = sorted((records[0].campaign_id, (records[0].minute.timestamp() - DAY0) // 60) for records in by_id.values())
    expected = sorted((c, s) for c, s, *_ in BURSTS)
    for (campaign, start), (want_campaign, want_start) in zip(starts, expected):
        assert campaign == want_campaign and want_start <= start <= want_start + 3
    for alert_id, records in by_id.items():
        # one raise, then updates of the same incident, the last one resolving it
        assert [r.status for r in records][0] == "open" and all(r.status == "updated" for r in records[1:-1])
        assert records[-1].status == "resolved", [r.status for r in records]
        assert [r.revision for r in records] == list(range(len(records)))
        assert len(records) <= 6, [(r.status, r.severity, r.platforms, r.kinds) for r in records]
        assert len({r.minute for r in records}) == 1  # the first minute: the row ClickHouse keeps per incident


def test_incidents_name_their_platforms_kinds_and_severity(day_records):
    last = {}
    for r in day_records:
        last[r.alert_id] = r
    for campaign, start, _, _, platforms, negative in BURSTS:
        (inc,) = [r for r in last.values() if r.campaign_id == campaign and
                  abs((r.minute.timestamp() - DAY0) // 60 - start) <= 3]
        assert set(inc.platforms) <= set(platforms) and inc.platforms, (campaign, inc.platforms)
        assert ("negative_sentiment" in inc.kinds) == negative
        assert inc.count > inc.expected_high >= inc.baseline_mean >= inc.expected_low
        assert inc.severity in ("low", "medium", "high", "critical") and 0 < inc.anomaly_score <= 1
        assert f"campaign {campaign}" in inc.message and "expected (band" in inc.message


def test_the_all_campaigns_key_is_its_own_campaign(day_records):
    brand_wide = {r.alert_id for r in day_records if r.campaign_id == ALL}
    assert len(brand_wide) <= len(BURSTS)


def test_a_quiet_day_raises_nothing():
    rows = [r for r in synthetic_day(seed=11)]
    quiet = []
    for minute, campaign, platform, count, negative in rows:
        in_burst = any(c == campaign and platform in ps and s <= (minute - DAY0) // 60 < s + n
                       for c, s, n, _, ps, _ in BURSTS)
        if not in_burst:
            quiet.append((minute, campaign, platform, count, negative))
    assert run_stream(quiet, seed_history=all_campaigns_history) == []


def test_an_open_minute_alerts_before_it_closes():
    """A burst of a fresh campaign (no history: the Poisson floor) alerts while its minute grows."""
    watch = SpikeWatch(thresholds, platforms=PLATFORMS)
    book = IncidentBook(thresholds)
    minute = DAY0 + 3600
    watch.add("new", "blind", minute, WindowSums(count=30, negative=25), now=minute + 5)
    obs = watch.tick(minute + 6)
    assert any(o.alert and not o.closed for o in obs)
    (inc,) = book.process(obs)
    alert = to_alert(inc, None)
    assert alert.status == "open" and alert.count == 30 and alert.platforms == ["blind"]
    assert set(alert.kinds) == {"velocity", "negative_sentiment"}
    book.published(inc)
    watch.add("new", "blind", minute, WindowSums(count=1, negative=1), now=minute + 20)
    assert book.process(watch.tick(minute + 21)) == []  # the same incident, nothing new to say


def test_late_and_replayed_minutes():
    """A replay (historic minutes, arriving within a second) is fed in order once it settles."""
    watch = SpikeWatch(thresholds, platforms=PLATFORMS)
    now = DAY0 + 10 * 3600
    for m in range(120):
        watch.add("c", "twitter", DAY0 + m * 60, WindowSums(count=2 if m != 100 else 60), now=now)
    first = [o for o in watch.tick(now + 0.5) if o.platform == ALL]
    # still arriving (and across the table's partitions out of order): only looked at
    assert [o.minute for o in first if not o.closed] == [DAY0 + m * 60 for m in range(120)]
    assert [o.minute for o in first if o.alert] == [DAY0 + 100 * 60]
    settled = [o for o in watch.tick(now + 3) if o.closed and o.platform == ALL]  # quiet for 2 s: closed
    assert [o.minute for o in settled][:120] == [DAY0 + m * 60 for m in range(120)]
    assert [o.minute for o in settled if o.alert] == [DAY0 + 100 * 60]
    watch.add("c", "twitter", DAY0, WindowSums(count=5), now=now + 4)
    assert watch.late == 2  # its minute was fed already (the platform and the all-platforms series)


def test_walk_skips_long_silences():
    assert list(_walk(0, {300: [1.0]}, 360, 120)) == [180, 240, 300, 360]
    assert len(list(_walk(0, {10**9 // 60 * 60: [1.0]}, 10**9 // 60 * 60, 3600))) == 61


def test_detector_copy_and_expected_leave_it_unchanged():
    d = VolumeDetector(bucket_seconds=60.0, warmup_hours=0.0)
    for i in range(30):
        d.update(i * 60, 4)
    before = d.to_state()
    twin = d.copy()
    twin.update(30 * 60, 100)
    assert d.to_state() == before and twin.to_state() != before
    expected, low, high = d.expected(30 * 60)
    assert low < expected < high and abs(expected - 4) < 0.5


def test_log_odds_terms_and_korean_stems():
    assert stem("불꽃라면에서") == "불꽃라면" and stem("벌레가") == "벌레" and stem("사이") == "사이"
    assert {"the", "진짜", "ㅋㅋ"} <= stopwords()
    incident = Counter({"이물질": 40, "벌레": 30, "라면": 50, "맛있음": 2})
    baseline = Counter({"라면": 200, "맛있음": 60, "이물질": 0})
    ranked = log_odds(incident, baseline)
    assert [t for t, _ in ranked[:2]] == ["이물질", "벌레"] and all(z < 0 for t, z in ranked[2:])
    assert [t for t, _ in log_odds(incident, Counter())] == ["라면", "이물질", "벌레", "맛있음"]  # all new


# -- across a restart --------------------------------------------------------------------------------

T0 = DAY0 + 6 * 3600


@pytest.fixture
def store(tmp_path):
    with ClickHouseStore(f"chdb://{tmp_path / 'ch'}", "tv_incidents") as s:
        s.migrate()
        yield s


class Worker:
    """One worker's spike watch, incident book and publisher; what it publishes is stored in
    ClickHouse as the sink stores ``alerts.spikes``."""

    def __init__(self, store: ClickHouseStore) -> None:
        self.store = store
        self.watch = SpikeWatch(thresholds, platforms=PLATFORMS)
        self.book = IncidentBook(thresholds)
        self.publisher = AlertPublisher(self.watch, self.book, self._send, store)
        self.sent: list[Alert] = []

    async def _send(self, key: bytes, value: bytes) -> None:
        alert = Alert.loads(value)
        assert key == alert.alert_id.encode()
        self.store.insert_alerts([alert])
        self.sent.append(alert)

    async def burst(self, campaign: str, platform: str, minute: int, negative: int = 0) -> list[Alert]:
        """30 mentions of ``campaign`` on ``platform`` in ``minute`` (no history: well over the band)."""
        self.watch.add(campaign, platform, minute, WindowSums(count=30, negative=negative,
                                                             sentiment_sum=-0.5 * negative), now=minute + 5)
        return await self.publisher.tick(minute + 6)

    async def quiet(self, minute: int, minutes: int) -> list[Alert]:
        """Ticks over ``minutes`` minutes from ``minute`` on in which nothing arrives."""
        out = []
        for m in range(minute, minute + minutes * MINUTE, MINUTE):
            out += await self.publisher.tick(m + 10)
        return out

    def close(self) -> None:
        self.publisher.executor.shutdown(wait=True)


def restarted(store: ClickHouseStore, body) -> None:
    """Run ``body(worker)`` (a coroutine function) with a fresh worker on ``store``."""
    async def run() -> None:
        worker = Worker(store)
        try:
            await body(worker)
        finally:
            worker.close()
    asyncio.run(run())


def stored(store: ClickHouseStore, campaign: str) -> list[dict]:
    return [a for a in stored_alerts(store) if a["campaign_id"] == campaign]


def test_an_open_incident_survives_a_restart_and_is_updated_not_raised_again(store):
    first: list[Alert] = []

    async def before(w: Worker) -> None:
        first.extend(await w.burst("soup", "blind", T0))

    restarted(store, before)
    (raised,) = first
    assert raised.status == "open" and raised.platforms == ["blind"] and raised.kinds == ["velocity"]

    async def after(w: Worker) -> None:
        restored = await w.publisher.restore(T0 + 2 * MINUTE)
        assert [i.alert_id for i in restored] == [raised.alert_id]
        # the burst goes on, now on another platform and negative: one update of the same incident
        (update,) = await w.burst("soup", "theqoo", T0 + 3 * MINUTE, negative=28)
        assert update.alert_id == raised.alert_id and update.status == "updated" and update.revision == 1
        assert update.raised_at == raised.raised_at and update.minute == raised.minute
        assert update.platforms == ["blind", "theqoo"] and update.kinds == ["negative_sentiment", "velocity"]
        assert update.message.startswith("[update] ")
        assert w.book.raised == 0 and w.publisher.published == 1

    restarted(store, after)
    (latest,) = stored(store, "soup")  # one incident in ClickHouse, at its update
    assert latest["alert_id"] == raised.alert_id and latest["status"] == "updated" and latest["revision"] == 1


def test_a_resolved_incident_is_not_restored(store):
    first: list[Alert] = []

    async def before(w: Worker) -> None:
        first.extend(await w.burst("tea", "dcinside", T0))
        first.extend(await w.quiet(T0 + MINUTE, 8))

    restarted(store, before)
    assert [a.status for a in first] == ["open", "resolved"] and len({a.alert_id for a in first}) == 1

    async def after(w: Worker) -> None:
        assert await w.publisher.restore(T0 + 10 * MINUTE) == []
        assert w.book.open == {}
        # a burst after the restart is a new incident
        (new,) = await w.burst("tea", "dcinside", T0 + 30 * MINUTE)
        assert new.status == "open" and new.revision == 0 and new.alert_id != first[0].alert_id

    restarted(store, after)
    assert sorted(a["status"] for a in stored(store, "tea")) == ["open", "resolved"]


def test_a_restored_incident_that_stays_quiet_resolves_with_its_id(store):
    first: list[Alert] = []

    async def before(w: Worker) -> None:
        first.extend(await w.burst("milk", "youtube", T0, negative=25))

    restarted(store, before)
    (raised,) = first

    async def after(w: Worker) -> None:
        (restored,) = await w.publisher.restore(T0 + 2 * MINUTE)
        # nothing more arrives for the campaign: its quiet minutes are observed all the same
        alerts = await w.quiet(T0 + 2 * MINUTE, 8)
        assert [(a.alert_id, a.status, a.revision) for a in alerts] == [(raised.alert_id, "resolved", 1)]
        resolved = alerts[0]
        assert resolved.message.startswith("[resolved] ") and resolved.platforms == ["youtube"]
        assert resolved.kinds == raised.kinds and resolved.severity == raised.severity
        assert w.book.open == {} and w.book.raised == 0

    restarted(store, after)
    (latest,) = stored(store, "milk")
    assert latest["alert_id"] == raised.alert_id and latest["status"] == "resolved"


def test_an_incident_left_open_long_ago_is_not_restored(store):
    """An open record older than the book's restore horizon (the worker was down long): a burst now is new."""
    book = IncidentBook(thresholds)
    watch = SpikeWatch(thresholds, platforms=PLATFORMS)
    watch.add("salt", "blind", T0, WindowSums(count=30), now=T0 + 5)
    (inc,) = book.process(watch.tick(T0 + 6))
    store.insert_alerts([to_alert(inc, None, now=datetime.fromtimestamp(T0 + 6, timezone.utc))])

    async def after(w: Worker) -> None:
        assert await w.publisher.restore(T0 + (book.restore_minutes + 1) * MINUTE) == []

    restarted(store, after)
    assert [a["status"] for a in stored(store, "salt")] == ["open"]
