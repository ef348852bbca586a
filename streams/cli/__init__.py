"""The ``truevoice`` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from streams.settings import Settings

EPILOG = "Configuration also comes from TRUEVOICE_* environment variables (see README)."


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="where RocksDB, embedded ClickHouse and logs live (default: ./data)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="truevoice", description="TrueVoice: real-time social listening for brands.",
                                     epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("up", help="start the embedded default: broker, worker, ClickHouse, API, and the sample",
                       description="Start Tansu on loopback, a Faust worker with RocksDB tables, ClickHouse (chdb) "
                                   "in the data directory, the API, and replay the bundled sample.", epilog=EPILOG)
    _common(p)
    p.add_argument("--web-port", type=int, help="API port (default 6066)")
    p.add_argument("--broker-port", type=int, help="broker port (default: a free loopback port)")
    p.add_argument("--no-sample", action="store_true", help="start empty: do not replay the bundled sample")
    p.add_argument("--partitions", type=int, help="partitions per topic (default 2)")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("worker", help="run one production worker (broker and ClickHouse from the environment)",
                       description="Run a worker against TRUEVOICE_BROKER_URL and TRUEVOICE_CLICKHOUSE_URL "
                                   "(chdb in the data directory when unset).", epilog=EPILOG)
    _common(p)
    p.add_argument("--web-port", type=int, help="API port (default 6066)")
    p.add_argument("--web-host", help="API bind address (default 127.0.0.1; 0.0.0.0 in containers)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("replay", help="send a JSONL or CSV file of mentions to mentions.raw",
                       description="Send every record of FILE (.jsonl, .jsonl.gz, .csv) to mentions.raw, with a "
                                   "progress bar. Invalid records are dead-lettered by the worker, not here.")
    p.add_argument("file", type=Path, metavar="FILE")
    _common(p)
    p.add_argument("--broker-url", help="broker (default: the running `up` of --data-dir, or TRUEVOICE_BROKER_URL)")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("topics", help="create or list the topics", description="Create the TrueVoice topics "
                       "with the configured partition counts, or list what the broker has.")
    p.add_argument("action", choices=["create", "list"])
    _common(p)
    p.add_argument("--broker-url", help="broker (default: the running `up`, or TRUEVOICE_BROKER_URL)")
    p.add_argument("--partitions", type=int, help="partitions per topic (default 2)")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("migrate", help="apply the ClickHouse migrations that are not applied yet",
                       description="Apply clickhouse/*.sql migrations in order, once each, and list what was "
                                   "applied. Workers also migrate on start; in a cluster run this once first.")
    _common(p)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("sql", help="run read-only ClickHouse SQL and print a table",
                       description="Run one read-only query against the configured ClickHouse. While `up` runs on "
                                   "the same data directory the query goes through it (embedded ClickHouse allows "
                                   "one process per data path).")
    p.add_argument("query", metavar="QUERY")
    _common(p)
    p.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    p.set_defaults(func=cmd_sql)

    from streams.cli.models import add_models_commands

    add_models_commands(sub)
    from streams.cli.predict import add_predict_command
    add_predict_command(sub)
    from streams.cli.score import add_score_command
    add_score_command(sub)
    from streams.cli.spikes import add_spikes_command
    add_spikes_command(sub)
    from streams.cli.keys import add_keys_command
    add_keys_command(sub, _common)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    from pydantic import ValidationError

    try:
        return Settings.from_env(
            data_dir=getattr(args, "data_dir", None),
            web_port=getattr(args, "web_port", None),
            web_host=getattr(args, "web_host", None),
            partitions=getattr(args, "partitions", None),
        )
    except ValidationError as exc:  # a bad TRUEVOICE_* value: name it, no traceback
        wrong = "; ".join(f"TRUEVOICE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"error: {wrong}") from None


def cmd_up(args: argparse.Namespace) -> int:
    from streams.runner import run

    settings = _settings(args)
    if args.broker_port:
        settings = settings.replace(broker_url=f"kafka://127.0.0.1:{args.broker_port}")
    else:
        settings = settings.replace(broker_url=None)
    _refuse_if_running(settings)
    if args.no_sample:
        return run(settings, embedded=True)
    from datetime import datetime, timezone

    from streams.sample import load_campaigns, load_sample

    now = datetime.now(timezone.utc)  # the sample is moved in time so that it ends now
    return run(settings, embedded=True, sample=list(load_sample(now)), sample_campaigns=load_campaigns(now))


def cmd_worker(args: argparse.Namespace) -> int:
    from streams.runner import run

    settings = _settings(args)
    _refuse_if_running(settings)
    return run(settings, embedded=False)


def _refuse_if_running(settings: Settings) -> None:
    from streams.runner import read_state

    state = read_state(settings.data_dir)
    if state:
        raise SystemExit(f"error: TrueVoice already runs on data directory {settings.data_dir} (pid {state['pid']}, "
                         f"{state['web_url']}); stop it or pass another --data-dir")


def _broker(args: argparse.Namespace) -> str:
    from streams.runner import read_state

    settings = _settings(args)
    url = args.broker_url or (read_state(settings.data_dir) or {}).get("broker_url") or settings.broker_url
    if not url:
        raise SystemExit("error: no broker: start `truevoice up`, or pass --broker-url / set TRUEVOICE_BROKER_URL")
    return settings.replace(broker_url=url).bootstrap_servers


def cmd_replay(args: argparse.Namespace) -> int:
    from aiokafka import AIOKafkaProducer

    from schemas import Topics
    from streams.replay.files import ReplayFileError, count_records, iter_records
    from streams.replay.producer import produce_records

    bootstrap = _broker(args)
    try:
        total = count_records(args.file)
        records = iter_records(args.file)
    except ReplayFileError as exc:
        raise SystemExit(f"error: {exc}") from exc

    settings = _settings(args)

    async def go() -> int:
        from streams.kafka.backlog import BacklogGauge, BacklogLimit
        from streams.runner import broker_is_tansu

        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, max_batch_size=262144,
                                    max_request_size=8 * 1024 * 1024)
        await producer.start()
        backlog = None
        if await broker_is_tansu(bootstrap):
            # the embedded broker keeps only memory: never run further ahead of the worker than
            # a few seconds of its capacity (what a crash of `up` could lose)
            backlog = BacklogGauge(bootstrap, {f"{settings.app_id}.score": [Topics.RAW],
                                               f"{settings.app_id}.sink": [Topics.SCORED]},
                                   limit=BacklogLimit(settings.backlog_limit_seconds, settings.backlog_floor_records))
            await backlog.start()
        try:
            return await produce_records(producer, records, total=total, desc=args.file.name, backlog=backlog)
        finally:
            if backlog is not None:
                await backlog.stop()
            await producer.stop()

    try:
        n = asyncio.run(go())
    except ReplayFileError as exc:
        raise SystemExit(f"error: {exc}") from exc
    print(f"sent {n} records from {args.file} to mentions.raw")
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from streams.kafka.topics import describe_topics, ensure_topics

    bootstrap = _broker(args)
    settings = _settings(args)
    if args.action == "create":
        created = asyncio.run(ensure_topics(bootstrap, settings.partitions, settings.app_id))
        print("created: " + (", ".join(created) if created else "nothing (all topics exist)"))
    for name, partitions in sorted(asyncio.run(describe_topics(bootstrap)).items()):
        print(f"{name:40s} {partitions:3d} partitions")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from schemas.errors import TrueVoiceError
    from streams.runner import read_state
    from tables.clickhouse.store import ClickHouseStore

    settings = _settings(args)
    if settings.clickhouse_url is None and read_state(settings.data_dir):
        raise SystemExit(f"error: TrueVoice runs on {settings.data_dir}; it applied its migrations when it started")
    try:
        with ClickHouseStore(settings.resolved_clickhouse_url, settings.clickhouse_database) as store:
            applied = store.migrate()
            print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
            print("schema: " + ", ".join(store.applied_migrations()))
    except TrueVoiceError as exc:
        raise SystemExit(f"error: {exc}") from exc
    return 0


def require_data(settings: Settings) -> None:
    """Stop a read-only command on a data directory that holds no embedded ClickHouse (creating none)."""
    if settings.clickhouse_url is None and not (settings.data_dir / "clickhouse").is_dir():
        raise SystemExit(f"error: no TrueVoice data in {settings.data_dir.resolve()}: pass --data-dir (or set "
                         "TRUEVOICE_DATA_DIR) to the directory `truevoice up` uses, or start `truevoice up` there")


def cmd_sql(args: argparse.Namespace) -> int:
    import orjson

    from schemas.errors import TrueVoiceError
    from streams.runner import read_state
    from tables.clickhouse.connection import QueryResult
    from tables.clickhouse.store import ClickHouseStore

    settings = _settings(args)
    state = read_state(settings.data_dir)
    if state:
        import urllib.error
        import urllib.request

        from streams.keystore import DEFAULT_TENANT, KeyStore

        # whoever may write the data directory's key file may read all of its data anyway: a key
        # made for this one call (deleted after it, expired if this process dies) keeps no secret on disk
        keys = KeyStore(settings.resolved_api_keys_file)
        try:
            with keys.temporary(DEFAULT_TENANT, admin=True, name="truevoice sql", seconds=600) as key:
                req = urllib.request.Request(f"{state['web_url']}/api/sql", data=orjson.dumps({"sql": args.query}),
                                             headers={"Content-Type": "application/json",
                                                      "Authorization": f"Bearer {key}"})
                with urllib.request.urlopen(req, timeout=120) as resp:
                    body = orjson.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"error: {orjson.loads(exc.read()).get('error', exc.reason)}") from exc
        except urllib.error.URLError as exc:
            raise SystemExit(f"error: cannot reach the running TrueVoice at {state['web_url']}: {exc.reason}") from exc
        except (OSError, TrueVoiceError) as exc:  # the key file is not ours to write, or is damaged
            raise SystemExit(f"error: cannot make a key for the running TrueVoice in {keys.path}: {exc}") from exc
        result = QueryResult(columns=body["columns"], rows=[tuple(r) for r in body["rows"]])
    else:
        require_data(settings)
        try:
            with ClickHouseStore(settings.resolved_clickhouse_url, settings.clickhouse_database) as store:
                result = store.query(args.query)
        except TrueVoiceError as exc:
            raise SystemExit(f"error: {exc}") from exc
    if args.json:
        for row in result.rows:
            print(orjson.dumps(dict(zip(result.columns, row)), default=str).decode())
        if not result.rows:  # JSON lines have no header line: the columns go to stderr
            print(f"0 rows; columns: {', '.join(result.columns)}", file=sys.stderr)
    else:
        print(format_table(result))
    return 0


def format_table(result, *, max_width: int = 60) -> str:
    """An aligned text table (Hangul counts two columns), long cells clipped, plus a row count."""
    from tabulate import tabulate

    def cell(value: object) -> object:
        if isinstance(value, str):
            value = value.replace("\n", "\\n").replace("\t", "\\t")
            return value if len(value) <= max_width else value[:max_width - 1] + "…"
        return value

    # numbers right-aligned by their type; text is never parsed as a number ("007" stays "007")
    numeric = [bool(result.rows) and all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                                         for v in col) for col in zip(*result.rows)]
    table = tabulate([[cell(v) for v in row] for row in result.rows], headers=result.columns,
                     tablefmt="psql", missingval="NULL", disable_numparse=True,
                     colalign=["right" if n else "left" for n in numeric] or None)
    n = len(result.rows)
    return f"{table}\n{n} row{'s' if n != 1 else ''}"


SIGPIPE_STATUS = 128 + 13  # what a shell reports for a command ended by SIGPIPE


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        # the reader went away (`truevoice sql ... | head`): stop quietly; stdout goes to
        # /dev/null so that the interpreter's own flush at exit does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_STATUS


if __name__ == "__main__":
    sys.exit(main())
