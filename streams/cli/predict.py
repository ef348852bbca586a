"""``truevoice predict``: reaction predictions from a file of raw mentions, and their tracked accuracy.

    truevoice predict FILE [--campaigns campaigns.json] [--config predictor.json] [--no-rating] [--save]
    truevoice predict actual CAMPAIGN --metric brand_sentiment --value 0.4 [--at 2026-12-01T00:00:00Z]
    truevoice predict accuracy [--last 20] [--json]

``predict FILE`` scores the file offline, with no broker, through the score agent's own code
(``agents.score.score_records`` with a ``MentionEnricher`` built as the scoring processes build
it), adds the 1-10 rating regressor's prediction per text (``scoring.rating``), groups the
scored mentions by ``brand`` (or by matched campaign with ``--campaigns``) and prints one JSON
line per group (``scoring.predictor``). ``bench/predict_eval.py`` uses the same functions.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

NO_BRAND = "(no brand)"
ACTIONS = ("actual", "accuracy")


def add_predict_command(sub) -> None:
    p = sub.add_parser(
        "predict", help="predict the reaction per brand or campaign from a file; record and track outcomes",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
truevoice predict FILE
    Score FILE (.jsonl, .jsonl.gz, .csv of raw mentions, as for `replay`) offline with the
    shipped models, through the score agent's code, and print one JSON line per brand (or per
    campaign with --campaigns): campaign_id, purchase_intent (0-1), brand_sentiment (-1..1),
    viral_potential (0-1), confidence (0-1), risks, opportunities, mentions_used, signals.
    Only credible mentions are used (all of them, with lower confidence, when none is).
    --save also stores the predictions in ClickHouse (--data-dir) for `actual` to measure.

truevoice predict actual CAMPAIGN --metric METRIC --value X [--at TIME]
    Record what actually happened (ClickHouse table `outcomes` in --data-dir). Embedded
    ClickHouse allows one process per data directory: stop `truevoice up` first.

truevoice predict accuracy [--last N]
    Rolling accuracy per campaign and metric: for each outcome, the latest prediction made
    before it; accuracy = 1 - |predicted - actual| / range (range 2 for brand_sentiment, 1
    otherwise), averaged over the last N outcomes. Below 0.70 is flagged.""")
    p.add_argument("target", metavar="FILE|actual|accuracy",
                   help="a mentions file to predict from, or the action `actual` / `accuracy`")
    p.add_argument("campaign", nargs="?", metavar="CAMPAIGN", help="(actual) the campaign the outcome belongs to")
    p.add_argument("--campaigns", type=Path, help="(FILE) JSON list of campaigns: group by matched campaign "
                                                   "instead of the brand field")
    p.add_argument("--config", type=Path, help="(FILE) predictor tunables overriding scoring/predictor.json")
    p.add_argument("--no-rating", action="store_true", help="(FILE) brand sentiment from the sentiment model only")
    p.add_argument("--now", help="(FILE) reference time for velocity (ISO 8601; default: each group's newest mention)")
    p.add_argument("--batch", type=int, default=1024, help="(FILE) mentions scored per batch (default 1024)")
    p.add_argument("--no-progress", action="store_true", help="(FILE) no progress bar on stderr")
    p.add_argument("--save", action="store_true", help="(FILE) also store the predictions in ClickHouse (--data-dir), "
                                                       "so that outcomes recorded later measure them")
    p.add_argument("--metric", choices=["brand_sentiment", "purchase_intent", "viral_potential"],
                   help="(actual) which figure the value is")
    p.add_argument("--value", type=float, help="(actual) brand_sentiment in -1..1, the others in 0..1")
    p.add_argument("--at", help="(actual) when it was observed, ISO 8601 (default: now)")
    p.add_argument("--source", default="", help="(actual) where the figure comes from")
    p.add_argument("--last", type=int, default=20, help="(accuracy) outcomes per rolling window (default 20)")
    p.add_argument("--json", action="store_true", help="(accuracy) JSON lines instead of a table")
    p.add_argument("--data-dir", type=Path, help="(actual, accuracy) data directory (default: ./data)")
    p.set_defaults(func=cmd_predict)


# ------------------------------------------------------------------------------ offline scoring

def score_file(path: Path, campaigns: Sequence[Any] = (), *, salt: bytes | None = None, batch: int = 1024,
               progress: bool = True) -> tuple[list[dict], list[dict]]:
    """(scored mentions, invalid records) for every record of ``path``, through exactly what
    ``truevoice score FILE`` runs (``agents.score_file.score_mentions`` with
    ``streams.cli.score.offline_scorer``: the score agent's enrichment plus the cross-mention
    tracker). Raises ``ReplayFileError`` for an unreadable file."""
    from tqdm import tqdm

    from agents.score_file import score_mentions
    from streams.cli.score import offline_scorer
    from streams.replay.files import count_records, iter_records

    total = count_records(path) if progress else None
    enricher, tracker = offline_scorer(campaigns, salt=salt)
    scored: list[dict] = []
    letters: list[dict] = []
    bar = tqdm(total=total, desc=f"scoring {Path(path).name}", unit=" mentions", file=sys.stderr,
               disable=not progress, mininterval=0.5)
    try:
        for item in score_mentions(iter_records(path), enricher=enricher, tracker=tracker,
                                   batch_size=batch, on_progress=lambda n: bar.update(n - bar.n)):
            (letters if "error" in item else scored).append(item)
    finally:
        bar.close()
    return scored, letters


def group_mentions(scored: Iterable[dict], by_campaign: bool) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for d in scored:
        keys = d.get("campaigns") or [] if by_campaign else [d.get("brand") or NO_BRAND]
        for k in keys:
            groups[k].append(d)
    return dict(sorted(groups.items()))


def predict_groups(groups: dict[str, list[dict]], config=None, now: datetime | None = None) -> list[dict]:
    """One output dict per group (what ``truevoice predict`` prints)."""
    from scoring.predictor import predict_with_signals

    out = []
    for cid, ms in groups.items():
        pred, sig = predict_with_signals(ms, cid, config=config, now=now)
        d = pred.model_dump(mode="json")
        out.append({"campaign_id": cid, "purchase_intent": round(d["purchase_intent"], 4),
                    "brand_sentiment": round(d["brand_sentiment"], 4),
                    "viral_potential": round(d["viral_potential"], 4), "confidence": round(d["confidence"], 4),
                    "risks": d["risks"], "opportunities": d["opportunities"], "mentions_used": d["mentions_used"],
                    "signals": sig.as_dict(), "prediction": d})
    return out


def load_campaigns(path: Path) -> list:
    import orjson
    from pydantic import ValidationError

    from schemas.records import Campaign

    try:
        data = orjson.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise SystemExit(f"error: {path}: no such file")
    except orjson.JSONDecodeError as exc:
        raise SystemExit(f"error: {path}: not valid JSON: {exc}")
    if isinstance(data, dict):
        data = data.get("campaigns", [data])
    if not isinstance(data, list) or not data:
        raise SystemExit(f"error: {path}: expected a JSON list of campaigns")
    try:
        return [Campaign.model_validate(c) for c in data]
    except ValidationError as exc:
        raise SystemExit(f"error: {path}: invalid campaign: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")


def _time(text: str | None, what: str) -> datetime | None:
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SystemExit(f"error: {what}: not an ISO 8601 time: {text!r}")
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


# ------------------------------------------------------------------------------ the commands

def cmd_predict(args: argparse.Namespace) -> int:
    if args.target == "actual" and not Path("actual").is_file():
        return cmd_actual(args)
    if args.target == "accuracy" and not Path("accuracy").is_file():
        return cmd_accuracy(args)
    if args.campaign:
        raise SystemExit(f"error: unexpected argument {args.campaign!r} (only `predict actual` takes a CAMPAIGN)")
    return cmd_predict_file(args)


def cmd_predict_file(args: argparse.Namespace) -> int:
    import orjson

    from scoring.predictor import PredictorConfig
    from scoring.rating import RatingModel, add_ratings
    from streams.replay.files import ReplayFileError

    path = Path(args.target)
    try:
        config = PredictorConfig.load(args.config) if args.config else None
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: --config {args.config}: {exc}")
    campaigns = load_campaigns(args.campaigns) if args.campaigns else []
    now = _time(args.now, "--now")
    progress = not args.no_progress
    try:
        scored, letters = score_file(path, campaigns, batch=max(1, args.batch), progress=progress)
    except ReplayFileError as exc:
        raise SystemExit(f"error: {exc}")
    if letters:
        reasons = defaultdict(int)
        for d in letters:
            reasons[str(d.get("error", ""))[:120]] += 1
        top = "; ".join(f"{n} x {r}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
        print(f"skipped {len(letters)} invalid record(s): {top}", file=sys.stderr)
    if not scored:
        raise SystemExit(f"error: {path}: no valid mentions")
    rating = None if args.no_rating or not RatingModel.available() else RatingModel()
    add_ratings(scored, rating)
    groups = group_mentions(scored, by_campaign=bool(campaigns))
    if not groups:
        print("no mention matched any campaign", file=sys.stderr)
    rows = predict_groups(groups, config, now)
    if args.save and rows:
        from schemas.errors import TrueVoiceError
        from schemas.records import Prediction

        try:
            with _store(args) as store:
                store.insert_predictions([Prediction.model_validate(r["prediction"]) for r in rows])
        except TrueVoiceError as exc:
            raise SystemExit(f"error: {exc}")
    for row in rows:
        pred = row.pop("prediction")
        if args.save:
            row["prediction_id"] = pred["prediction_id"]
        sys.stdout.write(orjson.dumps(row).decode() + "\n")
    if progress:
        print(f"{len(scored)} mentions, {len(groups)} group(s)", file=sys.stderr)
    return 0


def _store(args: argparse.Namespace, *, read_only: bool = False):
    from streams.cli import _settings, require_data
    from streams.runner import read_state
    from tables.clickhouse.store import ClickHouseStore

    settings = _settings(args)
    state = read_state(settings.data_dir)
    if state and settings.resolved_clickhouse_url.startswith("chdb:"):
        raise SystemExit(f"error: TrueVoice runs on data directory {settings.data_dir} (pid {state['pid']}); "
                         "embedded ClickHouse allows one process per data directory: stop `up` first "
                         "(or post the outcome to the API once it has /api/outcomes)")
    if read_only:
        require_data(settings)
    store = ClickHouseStore(settings.resolved_clickhouse_url, settings.clickhouse_database)
    store.migrate()
    return store


def cmd_actual(args: argparse.Namespace) -> int:
    import orjson
    from pydantic import ValidationError

    if not args.campaign or args.metric is None or args.value is None:
        raise SystemExit("error: usage: truevoice predict actual CAMPAIGN --metric METRIC --value X [--at TIME]")
    at = _time(args.at, "--at")
    from schemas.errors import TrueVoiceError

    try:
        with _store(args) as store:
            outcome = store.record_actual(args.campaign, args.metric, args.value, at, source=args.source)
            scored = [r for r in store.outcome_accuracy(args.campaign)
                      if r["metric"] == args.metric and r["observed_at"] == outcome.observed_at]
    except ValidationError as exc:
        raise SystemExit(f"error: {exc.errors()[0]['msg']}")
    except TrueVoiceError as exc:
        raise SystemExit(f"error: {exc}")
    row = outcome.model_dump(mode="json")
    if scored:
        row.update(predicted=round(scored[0]["predicted"], 4), prediction_id=scored[0]["prediction_id"],
                   accuracy=round(scored[0]["accuracy"], 4))
    else:
        row["accuracy"] = None  # no prediction for this campaign made before the outcome
    print(orjson.dumps(row).decode())
    return 0


def cmd_accuracy(args: argparse.Namespace) -> int:
    import orjson

    from schemas.errors import TrueVoiceError
    from scoring.accuracy import ACCURACY_ALERT_BELOW

    try:
        with _store(args, read_only=True) as store:
            rows = store.prediction_accuracy(last=max(1, args.last), campaign_id=args.campaign)
    except TrueVoiceError as exc:
        raise SystemExit(f"error: {exc}")
    if args.json:
        for r in rows:
            print(orjson.dumps(r).decode())
        return 0
    if not rows:
        print("no outcome recorded yet with a prediction before it (truevoice predict actual ...)")
        return 0
    from tabulate import tabulate

    print(tabulate([[r["campaign_id"], r["metric"], r["outcomes"], f"{r['rolling_accuracy']:.3f}",
                     r["last_outcome_at"], "BELOW 0.70" if r["below_alert"] else ""] for r in rows],
                   headers=["campaign", "metric", "outcomes", f"accuracy (last {args.last})", "last outcome",
                            f"alert (< {ACCURACY_ALERT_BELOW:.2f})"], tablefmt="psql"))
    return 0
