"""The score stage's cross-mention step: ``scoring.voices`` wired into scored records.

Two halves, one per side of the process boundary of ``agents.score``:

* ``voice_posts`` runs in the scoring process, where the text is at hand (and normalised): it
  builds the small ``VoicePost`` (pseudonymised author id, time, account age, the MinHash band
  hashes) of each scored mention of a batch, which cross back with the encoded records.
* ``VoiceStage.apply`` runs in ONE place (the worker's event loop, batches in the order they were
  read), feeds the tracker and rewrites only the records that gained a cross-mention reason:
  their ``credibility_reasons`` get the tracker's reasons (replacing earlier cross-mention
  ones), ``credibility``/``credible`` are recombined with ``scoring.credibility.combine`` and
  ``coordination`` is set. Every other record is passed on as the bytes the scoring process made.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import islice
from typing import Iterator, Sequence

import orjson

from schemas import ScoredMention
from schemas.records import CredibilityReason
from scoring.credibility import CredibilityRules, combine, is_credible
from scoring.normalise import normalise, normalise_many
from scoring.voices import (CADENCE, COORDINATION, REPETITION, VOICE_FACTORS, VoiceConfig, VoiceFinding,
                            VoicePost, VoiceReason, VoiceTracker, fingerprints)

Encoded = tuple[bytes, bytes]


def _post(event_id: str, author_id: str, posted_at: datetime, created, bands) -> VoicePost:
    age = (posted_at.date() - created).days if created is not None else None
    return VoicePost(event_id, author_id, posted_at.timestamp(), age, bands)


def voice_posts(mentions: Sequence[ScoredMention]) -> list[VoicePost]:
    """What the tracker needs of each scored (already pseudonymised) mention of a batch,
    fingerprinted at once from the normalised texts the enricher made (the same band hashes as
    ``fingerprint(m.text)``)."""
    bands = fingerprints([m.text for m in mentions],
                         [m.text_normalised or normalise(m.text) for m in mentions])
    return [_post(m.event_id, m.author.id, m.posted_at, m.author.created_at, b) for m, b in zip(mentions, bands)]


def voice_config(rules: CredibilityRules, **limits) -> VoiceConfig:
    """The tracker's settings: limits from the caller (settings), points from the rules file."""
    w = rules.weights
    return VoiceConfig(repetition_points=w.get(REPETITION, 0.0), coordination_points=w.get(COORDINATION, 0.0),
                       cadence_points=w.get(CADENCE, 0.0), **limits)


def with_finding(data: dict, reasons: Sequence[VoiceReason], coordination: str, rules: CredibilityRules) -> dict:
    """A scored mention's JSON with the cross-mention reasons and recombined credibility."""
    kept = [r for r in data.get("credibility_reasons") or () if r.get("factor") not in VOICE_FACTORS]
    merged = kept + [{"factor": r.factor, "points": r.points, "evidence": r.evidence} for r in reasons]
    data["credibility_reasons"] = merged
    cred = combine([CredibilityReason.model_construct(**r) for r in merged], rules)
    data["credibility"] = cred
    data["credible"] = is_credible(cred)
    data["coordination"] = coordination
    return data


class VoiceStage:
    def __init__(self, tracker: VoiceTracker, rules: CredibilityRules) -> None:
        self.tracker = tracker
        self.rules = rules
        self.changed = 0

    def apply(self, scored: Sequence[Encoded], posts: Sequence[VoicePost]) -> list[Encoded]:
        """``scored[i]`` is the record of ``posts[i]``; returns the records, rewritten where needed."""
        findings = self.tracker.observe(posts)
        out = list(scored)
        for i, finding in enumerate(findings):
            if finding is not None:
                out[i] = (out[i][0], self.rewrite(out[i][1], finding))
        return out

    def rewrite(self, value: bytes, finding: VoiceFinding) -> bytes:
        self.changed += 1
        return orjson.dumps(with_finding(orjson.loads(value), finding.reasons, finding.coordination, self.rules))


def posts_from_rows(rows, *, chunk: int = 2048) -> Iterator[VoicePost]:
    """``VoicePost``s from ``ClickHouseStore.voice_rows`` (a rebuild of the tracker), fingerprinted
    ``chunk`` rows at a time (as the scoring process does: the same band hashes)."""
    it = iter(rows)
    while batch := list(islice(it, chunk)):
        texts = [r[4] for r in batch]
        for (event_id, author_id, posted_at, created, _), bands in zip(batch, fingerprints(texts, normalise_many(texts))):
            yield _post(event_id, author_id, posted_at, created, bands)


def rebuild(tracker: VoiceTracker, store, now: datetime, *, full: bool) -> int:
    """Re-seed ``tracker`` from ClickHouse (blocking: run it in an executor, before scoring starts).

    ``full``: the author store is empty (a new or lost ``voices`` folder), so the last TTL of
    mentions is read; otherwise only the coordination window (the index is memory only) — the
    author state on disk already holds the rest. Posts already known are skipped (by event key)."""
    cfg = tracker.config
    minutes = cfg.ttl_minutes if full else cfg.coordination_window_minutes + 1
    return tracker.remember(posts_from_rows(store.voice_rows(now - timedelta(minutes=minutes))))
