"""``truevoice score FILE``: score a file of raw mentions offline and print the scored mentions."""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import Any, Sequence

DESCRIPTION = """\
Score every record of FILE (.jsonl, .jsonl.gz, .csv: the formats `replay` reads) with no broker,
through the code the score agent runs: validation, anonymisation, normalisation, campaigns, the
text models, credibility 0-100 with its reasons, and the cross-mention tracker over the file in
order (self-repetition, coordinated campaigns: every member of a cluster recognised anywhere in
the file gets its coordination id). Prints one JSON object per input record on stdout, in input
order: the scored mention as mentions.scored carries it, with `author` as given in the input
(nothing is stored; the stream pseudonymises authors). An invalid record prints
{"error": reason, "error_type": kind, "line": n} in its place. Progress and a summary go to
stderr. Output starts once the whole file is read (coordination is retroactive)."""


def add_score_command(sub) -> None:
    p = sub.add_parser("score", help="score a JSONL/CSV file of mentions offline, print JSON lines",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Configuration also comes from TRUEVOICE_* environment variables (see README): "
                              "models (TRUEVOICE_MODEL_ROOT, ...) and the tracker (TRUEVOICE_VOICES_*).")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--campaigns", type=Path, metavar="campaigns.json",
                   help="campaigns to match: a JSON list of campaign objects (or JSON lines)")
    p.add_argument("--batch-size", type=int, default=512, help="mentions per model batch (default 512)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=cmd_score)


def load_campaigns(path: Path) -> list:
    import orjson
    from pydantic import ValidationError

    from schemas.records import Campaign

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SystemExit(f"error: {path}: {exc.strerror}") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            data = [orjson.loads(line) for line in raw.splitlines() if line.strip()]
        except orjson.JSONDecodeError as exc:
            raise SystemExit(f"error: {path}: not JSON or JSON lines: {exc}") from None
    if isinstance(data, dict):
        data = data.get("campaigns", [data])
    try:
        return [Campaign.model_validate(c) for c in data]
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SystemExit(f"error: {path}: invalid campaign: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def offline_scorer(campaigns: Sequence[Any] = (), settings: Any = None, *, salt: bytes | None = None):
    """(enricher, tracker) as the score agent runs them, for a file scored offline (``score FILE``,
    ``predict FILE``): the same models (with the settings' overrides), rules and tracker limits,
    author state in memory. The salt is random per run unless given: pseudonyms only have to
    agree within the file (the tracker keys authors on them), and nothing is stored."""
    from agents.enrich import MentionEnricher
    from agents.voices import voice_config
    from scoring.campaigns import CampaignMatcher
    from scoring.credibility import CredibilityRules
    from scoring.privacy import Anonymiser
    from scoring.text import TextScorer
    from scoring.voices import VoiceTracker
    from streams.settings import Settings
    from tables.voices import MemoryVoiceStore

    settings = settings or Settings.from_env()
    rules = CredibilityRules.load()
    enricher = MentionEnricher(TextScorer.load(settings.model_root, intra_op_threads=settings.ort_threads,
                                               overrides=settings.model_overrides),
                               CampaignMatcher(list(campaigns)), Anonymiser(salt or secrets.token_bytes(32)), rules)
    return enricher, VoiceTracker(MemoryVoiceStore(), voice_config(rules, **settings.voice_limits))


def cmd_score(args: argparse.Namespace) -> int:
    import orjson
    from tqdm import tqdm

    from agents.score_file import score_mentions
    from streams.replay.files import ReplayFileError, count_records, iter_records

    campaigns = load_campaigns(args.campaigns) if args.campaigns else []
    try:
        total = None if args.no_progress else count_records(args.file)
        records = iter_records(args.file)
    except ReplayFileError as exc:
        raise SystemExit(f"error: {exc}") from None
    enricher, tracker = offline_scorer(campaigns)
    bar = tqdm(total=total, desc=f"scoring {args.file.name}", unit=" mentions", file=sys.stderr,
               disable=args.no_progress, mininterval=0.5)
    scored = invalid = coordinated = 0
    out = sys.stdout.buffer
    try:
        for item in score_mentions(records, enricher=enricher, tracker=tracker,
                                   batch_size=max(1, args.batch_size), on_progress=lambda n: bar.update(n - bar.n)):
            if "error" in item:
                invalid += 1
            else:
                scored += 1
                coordinated += bool(item.get("coordination"))
            out.write(orjson.dumps(item) + b"\n")
    except ReplayFileError as exc:
        raise SystemExit(f"error: {exc}") from None
    finally:
        bar.close()
    out.flush()
    clusters = len(tracker.recognised or {})
    print(f"scored {scored} mentions, {invalid} invalid; {coordinated} in {clusters} coordinated "
          f"cluster{'s' if clusters != 1 else ''}", file=sys.stderr)
    return 0
