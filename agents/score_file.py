"""Offline scoring of recorded mentions, no broker: what ``truevoice score FILE`` (and the
predictor's ``predict FILE``) run.

``score_mentions`` sends each batch through exactly the code of the score agent: the scoring
process's ``agents.score.score_records_with_voices`` (validation, anonymisation, normalisation,
campaigns, text models, per-mention credibility, fingerprints), then ``agents.voices.VoiceStage``
(the same tracker, here over an in-memory store) in file order.

Retroactive coordination: a cluster is recognised only when its k-th account posts; in the stream
the earlier members keep the record they were sent with. Here the whole file is known, so with
``retroactive`` (the default) the results are spooled to a temporary file and every member of a
cluster recognised anywhere in the file gets the ``coordination`` reason and id on the way out
(nothing is printed before the file is read to its end; memory stays flat).
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator

import orjson

from agents.enrich import MentionEnricher
from agents.score import score_records_with_voices
from agents.voices import VoiceStage, with_finding
from schemas.records import event_id_for
from scoring.credibility import CredibilityRules
from scoring.voices import COORDINATION, VOICE_FACTORS, VoiceReason, VoiceTracker

SOURCE = "file"


def score_mentions(records: Iterable[dict | bytes], *, enricher: MentionEnricher, tracker: VoiceTracker,
                   rules: CredibilityRules | None = None, batch_size: int = 512, retroactive: bool = True,
                   on_progress: Callable[[int], None] | None = None) -> Iterator[dict]:
    """One dict per input record, in input order.

    A scored record is the JSON ``mentions.scored`` carries (text scores, campaigns,
    credibility, ``bot_likelihood``, ``credibility_reasons``, ``coordination``, …) except that
    ``author`` is the author object as given in the input (the stream pseudonymises it; the
    tracker keys on the pseudonym either way). An invalid record is
    ``{"error": reason, "error_type": kind, "line": n}`` (n counts records from 1).
    ``records``: dicts (a parsed JSON object, or a CSV row shaped by ``streams.replay.files``) or
    raw bytes (a line that did not parse). ``on_progress(n)``: after each batch, records done."""
    rules = rules or enricher.rules
    stage = VoiceStage(tracker, rules)
    if retroactive and tracker.recognised is None:
        tracker.recognised = {}
    batches = _scored(records, enricher, stage, batch_size, on_progress)
    if not retroactive:
        for _, item in batches:
            yield item
        return
    with tempfile.TemporaryFile() as spool:
        for cid, item in batches:
            spool.write(cid.encode() + b"\t" + orjson.dumps(item) + b"\n")
        spool.seek(0)
        recognised = tracker.recognised or {}
        for line in spool:
            cid, _, body = line.partition(b"\t")
            item = orjson.loads(body)
            reason = recognised.get(cid.decode()) if cid else None
            if reason is not None:  # earlier members get it; all carry the cluster's final evidence
                item = _mark(item, reason, cid.decode(), rules)
            yield item


def _mark(item: dict, reason: VoiceReason, cid: str, rules: CredibilityRules) -> dict:
    """A member of a cluster recognised in the file: the cluster's last reason and its id."""
    voice = [VoiceReason(r["factor"], r["points"], r["evidence"]) for r in item.get("credibility_reasons") or ()
             if r.get("factor") in VOICE_FACTORS and r.get("factor") != COORDINATION]
    return with_finding(item, [*voice, reason], cid, rules)


def _scored(records: Iterable[dict | bytes], enricher: MentionEnricher, stage: VoiceStage, batch_size: int,
            on_progress: Callable[[int], None] | None) -> Iterator[tuple[str, dict]]:
    """(cluster id or "", output dict) per record, in input order."""
    batch: list[dict | bytes] = []
    done = 0
    for record in records:
        batch.append(record)
        if len(batch) >= batch_size:
            yield from _batch(batch, done, enricher, stage)
            done += len(batch)
            batch = []
            if on_progress:
                on_progress(done)
    if batch:
        yield from _batch(batch, done, enricher, stage)
        done += len(batch)
        if on_progress:
            on_progress(done)


def _batch(batch: list[dict | bytes], start: int, enricher: MentionEnricher,
           stage: VoiceStage) -> Iterator[tuple[str, dict]]:
    now_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
    values = [r if isinstance(r, bytes) else orjson.dumps(r) for r in batch]
    metas = [(SOURCE, 0, start + i, now_ms) for i in range(len(batch))]
    scored, letters, posts = score_records_with_voices(enricher, values, metas)
    scored = stage.apply(scored, posts)
    cluster_ids = stage.tracker.cluster_ids
    failed = {}
    for _, value in letters:
        letter = orjson.loads(value)
        failed[letter["source_offset"]] = {"error": letter["reason"], "error_type": letter["error_type"],
                                           "line": letter["source_offset"] + 1}
    authors = {}
    for r in batch:
        if isinstance(r, dict):
            authors[event_id_for(str(r.get("platform")), str(r.get("post_id")))] = r.get("author")
    it = iter(zip(scored, cluster_ids))
    for i in range(len(batch)):
        offset = start + i
        if offset in failed:
            yield "", failed[offset]
            continue
        (_, value), cid = next(it)
        item = orjson.loads(value)
        item["author"] = authors.get(item["event_id"], item["author"])
        yield cid, item
