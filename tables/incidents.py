"""Incidents: the detections of one campaign that belong together, raised once and then updated.

``IncidentBook.process(observations)`` takes what ``tables.spikes.SpikeWatch.tick`` saw (in minute
order) and keeps at most one open incident per campaign (the all-campaigns key ``*`` is its own
campaign). A detection — velocity or negative shift, of the campaign over all platforms or of
one platform — opens an incident when there is none, and otherwise joins it: kinds and
platforms are added, the severity can only go up, the peak is the busiest minute. The incident
is resolved when the campaign's closed minutes have been back within the band for
``resolve_minutes`` in a row. It returns the incidents to publish now: a new one (status
"open"), one whose severity rose or which gained a kind or a platform ("updated"), one just
resolved ("resolved"). Several changes before a publication become one record.

``explain(store, ...)`` reads ClickHouse for the explanation of an incident (run it in a thread):
the terms that are new or over-represented in the incident's minutes against the hour before
(weighted log-odds with an informative Dirichlet prior, Monroe et al. 2008, over the normalised
text with Korean and English stop words removed, Korean particles stripped; the stop words are
data: ``tables/stopwords/``), a few example mentions and the sentiment of both periods.
``to_alert`` makes the ``schemas.Alert`` record with its message; ``stored_alerts`` reads the
latest state of each incident back from ClickHouse (the API after a restart), ``open_incidents``
the incidents still open there (``IncidentBook.restore`` takes them back: a restarted worker
updates and resolves them instead of raising them again).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from schemas.records import Alert, AlertExample
from tables.spikes import ALL, MINUTE, MINUTE_Z_FACTOR, Observation, Thresholds

STOPWORDS_DIR = Path(__file__).resolve().parent / "stopwords"
SEVERITIES = ("low", "medium", "high", "critical")


@dataclass
class Incident:
    campaign_id: str
    alert_id: str
    start: int  # epoch seconds of its first minute
    last_active: int  # the newest minute that alerted or was above the band
    raised_at: datetime
    peak: Observation
    severity: int = 0
    kinds: set[str] = field(default_factory=set)
    platforms: dict[str, int] = field(default_factory=dict)  # platform -> first minute involved
    totals: dict[int, tuple[int, int, float]] = field(default_factory=dict)  # minute -> count, negative, sentiment sum
    before: tuple[int, int, float] = (0, 0, 0.0)  # count, negative, sentiment sum of its minutes before a restart
    quiet: int = 0
    status: str = "open"
    revision: int = -1  # the revision last published (-1: not yet)
    published: tuple = ()  # (severity, kinds, platforms, status) when last published

    def state(self) -> tuple:
        return self.severity, frozenset(self.kinds), frozenset(self.platforms), self.status

    def sums(self) -> tuple[int, int, float]:
        """Mentions, negative mentions and the sentiment sum of its minutes (over all platforms)."""
        count, negative, sentiment = self.before
        for c, n, s in self.totals.values():
            count, negative, sentiment = count + c, negative + n, sentiment + s
        return count, negative, sentiment

    seen: int = 0  # the newest minute observed for it
    published_at: int = 0  # the newest minute observed when it was last published

    def changed(self, platform_every: int) -> bool:
        """Worth a record now: new, resolved, more severe, a new kind, or new platforms (these at
        most every ``platform_every`` seconds of the stream's time, so platforms joining one by
        one make one update, not one each)."""
        if self.revision < 0:
            return True
        severity, kinds, platforms, status = self.published
        return (self.severity > severity or not self.kinds <= kinds
                or (self.status == "resolved" and status != "resolved")
                or (not set(self.platforms) <= platforms and self.seen >= self.published_at + platform_every))


def severity_of(obs: Observation, limits: Thresholds) -> int:
    """0-3 (low, medium, high, critical) from how far past the campaign's threshold the z went."""
    r = obs.z / (max(limits.zscore, 0.1) * MINUTE_Z_FACTOR)
    level = 0 if r < 1.5 else 1 if r < 2.5 else 2 if r < 4 else 3
    if obs.negative_alert:
        level = max(level, 1)
    return level


class IncidentBook:
    def __init__(self, thresholds_for: Callable[[str], Thresholds], resolve_minutes: int = 5,
                 platform_every_minutes: int = 3, restore_minutes: int = 60) -> None:
        """``restore_minutes``: how recent an open incident's last record must be for a restarted
        worker to take it back (``restore``). A record is written only when the incident changes,
        so a burst going on steadily has an old last record: hence well over ``resolve_minutes``."""
        self.thresholds_for = thresholds_for
        self.resolve_minutes = resolve_minutes
        self.platform_every = platform_every_minutes * MINUTE
        self.restore_minutes = restore_minutes
        self.open: dict[str, Incident] = {}
        self.resolved: dict[str, Incident] = {}  # the campaign's last resolved incident (late detections join nothing)
        self.raised = 0

    def process(self, observations: Iterable[Observation], now: datetime | None = None) -> list[Incident]:
        now = now or datetime.now(timezone.utc)
        touched: dict[str, Incident] = {}
        for obs in observations:
            inc = self._observe(obs, now)
            if inc is not None:
                touched[inc.alert_id] = inc
        out = [inc for inc in touched.values() if inc.changed(self.platform_every)]
        for inc in out:
            if inc.status == "resolved":
                self.open.pop(inc.campaign_id, None)
        return out

    def published(self, inc: Incident) -> None:
        inc.revision += 1
        inc.published = inc.state()
        inc.published_at = inc.seen

    def restore(self, alerts: Iterable[Alert]) -> list[Incident]:
        """Take back the incidents a previous worker left open (``open_incidents``: the latest record
        of each), as published: later detections of their campaigns update them (same id, next
        revision) and quiet minutes after their last active one resolve them. A campaign with an
        open incident here already keeps it; of several stored for one campaign the newest is
        taken. Returns the incidents restored."""
        newest: dict[str, Alert] = {}
        for a in alerts:
            if a.status == "resolved" or a.campaign_id in self.open:
                continue
            known = newest.get(a.campaign_id)
            if known is None or (a.minute, a.alert_id) > (known.minute, known.alert_id):
                newest[a.campaign_id] = a
        out = []
        for a in newest.values():
            start = int(a.minute.timestamp())
            last = int(a.last_minute.timestamp()) if a.last_minute else start
            kinds = set(a.kinds)
            peak = Observation(a.campaign_id, ALL, int((a.peak_minute or a.minute).timestamp()), True, a.count, 0, 0.0,
                               a.baseline_mean, a.expected_low, a.expected_high, a.zscore, a.anomaly_score,
                               "velocity" in kinds, "negative_sentiment" in kinds)
            negative = round(a.negative_share * a.mentions)
            inc = Incident(a.campaign_id, a.alert_id, start, last, a.raised_at, peak, SEVERITIES.index(a.severity),
                           kinds, {p: start + i for i, p in enumerate(a.platforms)},  # the recorded order
                           before=(a.mentions, negative, a.sentiment_mean * a.mentions), revision=a.revision,
                           seen=last, published_at=last)
            inc.published = inc.state()
            self.open[a.campaign_id] = inc
            out.append(inc)
        return out

    def _observe(self, obs: Observation, now: datetime) -> Incident | None:
        c = obs.campaign_id
        inc = self.open.get(c)
        limits = self.thresholds_for(c)
        if inc is None:
            if not obs.alert:
                return None
            done = self.resolved.get(c)
            if done is not None and obs.minute <= done.last_active + self.resolve_minutes * MINUTE:
                return None  # late news of an incident already resolved
            start = obs.minute
            raised_at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as ClickHouse keeps it (restore)
            inc = Incident(c, f"{c}:{datetime.fromtimestamp(start, timezone.utc):%Y%m%dT%H%MZ}", start, start,
                           raised_at, obs)
            self.open[c] = inc
            self.raised += 1
        if inc.status == "resolved":
            return None
        inc.seen = max(inc.seen, obs.minute)
        if obs.platform == ALL:
            if obs.minute >= inc.start:
                prev = inc.totals.get(obs.minute)
                if prev is None or obs.count >= prev[0]:
                    inc.totals[obs.minute] = (obs.count, obs.negative, obs.sentiment_sum)
            if obs.count >= inc.peak.count or inc.peak.platform != ALL:
                inc.peak = obs
        if obs.alert:
            inc.kinds |= ({"velocity"} if obs.velocity else set()) | ({"negative_sentiment"} if obs.negative_alert else set())
            inc.severity = max(inc.severity, severity_of(obs, limits))
            if obs.minute > inc.last_active:
                inc.last_active, inc.quiet = obs.minute, 0
            if obs.platform != ALL:
                inc.platforms.setdefault(obs.platform, obs.minute)
        elif obs.platform != ALL:
            # a platform joins when its own minute is clearly out of its band (z over the campaign's
            # threshold) with a few mentions, even where they are too few to alert on their own
            if (obs.z >= limits.zscore and obs.count >= max(3, limits.min_mentions // 4)
                    and obs.minute >= inc.start - MINUTE):
                inc.platforms.setdefault(obs.platform, obs.minute)
        elif obs.closed and obs.minute > inc.last_active:
            if obs.above_band:
                inc.last_active, inc.quiet = obs.minute, 0
            else:
                inc.quiet += 1
                if inc.quiet >= self.resolve_minutes:
                    inc.status = "resolved"
                    self.resolved[c] = inc
        return inc


# -- explanation -----------------------------------------------------------------------------------

def _read_words(name: str) -> list[str]:
    lines = (STOPWORDS_DIR / name).read_text(encoding="utf-8").splitlines()
    return [w.strip().lower() for w in lines if w.strip() and not w.startswith("#")]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(_read_words("en.txt") + _read_words("ko.txt"))


@lru_cache(maxsize=1)
def particles() -> tuple[str, ...]:
    return tuple(sorted(_read_words("ko_particles.txt"), key=len, reverse=True))


_HANGUL = re.compile(r"[가-힣]")


def stem(token: str) -> str:
    """A Korean word without its trailing particle (at least two characters remain)."""
    if _HANGUL.search(token[-1:]):
        for p in particles():
            if token.endswith(p) and len(token) - len(p) >= 2:
                return token[: -len(p)]
    return token


def log_odds(incident: dict[str, int], baseline: dict[str, int], prior: float = 50.0,
             min_baseline: int = 30) -> list[tuple[str, float]]:
    """Terms by the z of their weighted log-odds ratio, incident vs baseline (informative Dirichlet
    prior from both periods), highest first; only terms seen at least twice in the incident. With
    fewer than ``min_baseline`` baseline tokens every term is new: by count (as the z)."""
    n_a, n_b = sum(incident.values()), sum(baseline.values())
    if not n_a:
        return []
    if n_b < min_baseline:  # (almost) nothing before: every term is new; the most frequent first
        return sorted(((t, float(a)) for t, a in incident.items() if a >= 2), key=lambda t: (-t[1], t[0]))
    total = n_a + n_b
    out = []
    for term, a in incident.items():
        if a < 2:
            continue
        b = baseline.get(term, 0)
        alpha = prior * (a + b) / total
        da = math.log((a + alpha) / (n_a + prior - a - alpha))
        db = math.log((b + alpha) / (n_b + prior - b - alpha)) if n_b + prior - b - alpha > 0 else da
        z = (da - db) / math.sqrt(1.0 / (a + alpha) + 1.0 / (b + alpha))
        out.append((term, z))
    out.sort(key=lambda t: (-t[1], t[0]))
    return out


@dataclass
class Explanation:
    terms: list[str] = field(default_factory=list)
    examples: list[AlertExample] = field(default_factory=list)
    mentions: int = 0
    sentiment_mean: float = 0.0
    negative_share: float = 0.0
    baseline_sentiment: float = 0.0
    platforms: list[str] = field(default_factory=list)  # mentioned at least twice their usual rate


_TOKENS = r"[^\p{L}\p{N}_]+"  # a token: a run of letters, digits and underscores (Hangul included)


def explain(store: Any, campaign_id: str, start: int, end: int, *, negative: bool = False, n_terms: int = 8,
            n_examples: int = 3, sample_rows: int = 20_000) -> Explanation:
    """The explanation of ``campaign_id``'s incident over [start, end) (epoch seconds) against the
    hour before ``start``, from ClickHouse ``mentions`` (blocking: run it in a thread)."""
    db = store.database
    where = "posted_at >= {b:DateTime64(3)} AND posted_at < {e:DateTime64(3)}"
    params: dict[str, Any] = {"b": datetime.fromtimestamp(start - 3600, timezone.utc),
                              "s": datetime.fromtimestamp(start, timezone.utc),
                              "e": datetime.fromtimestamp(end, timezone.utc), "c": campaign_id,
                              "tokens": _TOKENS}
    if campaign_id != ALL:
        where += " AND has(campaigns, {c:String})"
    conn = store.conn
    # each post once although a re-delivered copy may wait for its merge (cheaper than FINAL here:
    # the table is ordered by platform and event id, not time)
    once = "LIMIT 1 BY event_id"
    stats = conn.select(
        f"SELECT posted_at >= {{s:DateTime64(3)}} AS inc, platform, count(), sum(sentiment), "
        f"countIf(sentiment_label = 'negative') FROM (SELECT posted_at, platform, sentiment, sentiment_label "
        f"FROM {db}.mentions WHERE {where} {once}) GROUP BY inc, platform", params).rows
    by: dict[bool, list] = {}
    per_platform: dict[str, list[int]] = {}
    for inc, platform, n, sent, neg in stats:
        agg = by.setdefault(bool(inc), [bool(inc), 0, 0.0, 0])
        agg[1], agg[2], agg[3] = agg[1] + n, agg[2] + sent, agg[3] + neg
        per_platform.setdefault(platform, [0, 0])[0 if inc else 1] += int(n)
    out = Explanation()
    minutes = max((end - start) / 60.0, 1.0)
    excess = {p: a / minutes - b / 60.0 for p, (a, b) in per_platform.items()
              if a >= 3 and a / minutes >= 2.0 * max(b / 60.0, 0.5)}  # at least twice its rate (and a few mentions)
    out.platforms = sorted(excess, key=lambda p: (-excess[p], p))
    if True in by:
        _, n, s, neg = by[True]
        out.mentions, out.sentiment_mean, out.negative_share = int(n), float(s) / max(n, 1), int(neg) / max(n, 1)
    if False in by:
        _, n, s, _neg = by[False]
        out.baseline_sentiment = float(s) / max(n, 1)
    rows = conn.select(
        f"SELECT inc, tok, count() FROM ("
        f"  SELECT inc, arrayJoin(arrayDistinct(splitByRegexp({{tokens:String}}, lower(text_normalised)))) AS tok FROM ("
        f"    (SELECT 1 AS inc, text_normalised FROM {db}.mentions WHERE {where} AND posted_at >= {{s:DateTime64(3)}} "
        f"     {once} LIMIT {int(sample_rows)})"
        f"    UNION ALL"
        f"    (SELECT 0 AS inc, text_normalised FROM {db}.mentions WHERE {where} AND posted_at < {{s:DateTime64(3)}} "
        f"     {once} LIMIT {int(sample_rows)})))"
        f" WHERE lengthUTF8(tok) >= 2 GROUP BY inc, tok", params).rows
    stop = stopwords()
    counts: tuple[dict[str, int], dict[str, int]] = ({}, {})
    for inc, tok, n in rows:
        tok = stem(tok.strip("'"))
        if len(tok) < 2 or tok in stop or tok.isdigit():
            continue
        side = counts[0] if inc else counts[1]
        side[tok] = side.get(tok, 0) + int(n)
    out.terms = [t for t, z in log_odds(*counts) if z > 1.0][:n_terms]
    order = "sentiment ASC, " if negative else ""
    candidates = conn.select(
        f"SELECT event_id, platform, text, text_normalised FROM {db}.mentions WHERE {where} "
        f"AND posted_at >= {{s:DateTime64(3)}} ORDER BY {order}(likes + comments + shares) DESC, event_id LIMIT 200",
        params).rows
    seen: set[str] = set()
    ranked = sorted(candidates, key=lambda r: -sum(t in r[3].lower() for t in out.terms[:5]))
    for event_id, platform, text, normalised in ranked:
        if normalised in seen:
            continue
        seen.add(normalised)
        out.examples.append(AlertExample(event_id=event_id, platform=platform, text=text[:280]))
        if len(out.examples) >= n_examples:
            break
    return out


def _dt(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def to_alert(inc: Incident, expl: Explanation | None, now: datetime | None = None) -> Alert:
    """The record of ``inc`` at its next revision (``IncidentBook.published`` counts it)."""
    now = now or datetime.now(timezone.utc)
    expl = expl or Explanation()
    peak = inc.peak
    revision = inc.revision + 1
    status = "resolved" if inc.status == "resolved" else "open" if revision == 0 else "updated"
    kinds = sorted(inc.kinds) or ["velocity"]
    kind = "negative_sentiment" if "negative_sentiment" in kinds else "velocity"
    platforms = sorted(inc.platforms, key=lambda p: (inc.platforms[p], p))
    platforms += [p for p in expl.platforms if p not in inc.platforms]
    count, negative, sentiment_sum = inc.sums()
    mentions = expl.mentions or count
    if expl.mentions:
        sentiment, negative_share = expl.sentiment_mean, expl.negative_share
    else:
        n = max(mentions, 1)
        sentiment, negative_share = sentiment_sum / n, negative / n
    shift = sentiment - expl.baseline_sentiment
    severity = SEVERITIES[inc.severity]
    scope = "all campaigns" if inc.campaign_id == ALL else f"campaign {inc.campaign_id}"
    what = " and ".join("negative sentiment" if k == "negative_sentiment" else "mention velocity" for k in kinds)
    head = {"open": "", "updated": "[update] ", "resolved": "[resolved] "}[status]
    msg = (f"{head}{severity} {what} spike for {scope}"
           f"{' on ' + ', '.join(platforms) if platforms else ''}: {peak.count} mentions in the minute of "
           f"{_dt(peak.minute):%H:%M} UTC vs {peak.expected:.1f} expected (band {peak.low:.0f}-{peak.high:.0f}, "
           f"z={peak.z:.1f}, score {peak.score:.2f}); {mentions} mentions since {_dt(inc.start):%H:%M}, "
           f"sentiment {sentiment:+.2f} ({shift:+.2f} vs the hour before), {negative_share:.0%} negative.")
    if expl.terms:
        msg += " People are saying: " + ", ".join(expl.terms) + "."
    if expl.examples:
        msg += " E.g. " + " / ".join(f"\"{e.text[:80]}\" ({e.platform}, {e.event_id})" for e in expl.examples[:2])
    return Alert(
        alert_id=inc.alert_id, campaign_id=inc.campaign_id, platform=ALL, kind=kind, minute=_dt(inc.start),
        count=peak.count, baseline_mean=round(peak.expected, 3),
        baseline_std=round((peak.high - peak.low) / 4.0, 3), zscore=round(peak.z, 2),
        sentiment_mean=round(sentiment, 4), negative_share=round(negative_share, 4), raised_at=inc.raised_at,
        message=msg, status=status, revision=revision, updated_at=now, severity=severity,
        anomaly_score=round(peak.score, 3), expected_low=round(peak.low, 3), expected_high=round(peak.high, 3),
        peak_minute=_dt(peak.minute), last_minute=_dt(inc.last_active), kinds=kinds, platforms=platforms,
        mentions=int(mentions), baseline_sentiment=round(expl.baseline_sentiment, 4),
        sentiment_shift=round(shift, 4), terms=expl.terms, examples=expl.examples)


_STORED = ("alert_id", "campaign_id", "platform", "kind", "minute", "count", "baseline_mean", "baseline_std", "zscore",
           "sentiment_mean", "negative_share", "raised_at", "message", "status", "revision", "updated_at", "severity",
           "anomaly_score", "expected_low", "expected_high", "peak_minute", "last_minute", "kinds", "platforms",
           "mentions", "baseline_sentiment", "sentiment_shift", "terms", "example_ids", "example_platforms",
           "example_texts")


def _latest(store: Any, where: str = "", params: dict[str, Any] | None = None) -> list[Alert]:
    """The latest record (highest revision, whatever the merges did) of each incident with a record
    matching ``where``."""
    res = store.conn.select(
        f"SELECT {', '.join(_STORED)} FROM {store.database}.alerts {where} "
        f"ORDER BY alert_id, revision DESC, ingested_at DESC LIMIT 1 BY alert_id", params)
    out = []
    for row in res.rows:
        d = dict(zip(_STORED, row))
        d["examples"] = [{"event_id": i, "platform": p, "text": t}
                         for i, p, t in zip(d.pop("example_ids"), d.pop("example_platforms"), d.pop("example_texts"))]
        out.append(Alert.model_validate(d))
    return out


def stored_alerts(store: Any, limit: int = 100) -> list[dict]:
    """The latest revision of the ``limit`` most recently updated incidents, from ClickHouse, as the
    JSON the topic carries (blocking: run it in a thread)."""
    out = [a.model_dump(mode="json") for a in _latest(store)]
    out.sort(key=lambda a: a["updated_at"] or a["raised_at"])
    return out[-limit:]


def open_incidents(store: Any, since: datetime) -> list[Alert]:
    """The latest record of each incident not resolved whose last record (its last active minute or
    its publication) is from ``since`` on, from ClickHouse (blocking: run it in a thread). A later
    revision is never older than an earlier one, so the latest of the recent records is the latest."""
    recent = "WHERE greatest(ifNull(last_minute, minute), ifNull(updated_at, raised_at)) >= {since:DateTime64(3)}"
    return [a for a in _latest(store, recent, {"since": since}) if a.status != "resolved"]
