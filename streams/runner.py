"""Running a worker process: the embedded default (``up``) and the production worker (``worker``)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any, Iterable

import faust
from aiokafka.admin import AIOKafkaAdminClient

from schemas import Campaign
from streams.kafka import tansu_compat
from streams.kafka.embedded import EmbeddedBroker
from streams.logs import configure_logging, resolve_format
from streams.settings import Settings
from streams.kafka.topics import ensure_topics
from streams.keystore import KeyStore

log = logging.getLogger("truevoice")

STATE_FILE = "run.json"


class TrueVoiceWorker(faust.Worker):
    """Faust's worker, plus: on Ctrl-C / SIGTERM, optionally drain the topics into ClickHouse first."""

    def __init__(self, tv: Any, *, drain_on_stop: bool, **kwargs: Any) -> None:
        super().__init__(tv.app, **kwargs)
        # Faust's start-up spinner writes terminal escapes into the log stream even when it is not
        # a terminal (a cursor-show code with no newline glued itself to the next JSON log line)
        self.spinner = None
        self.tv = tv
        self.drain_on_stop = drain_on_stop

    async def _stop_on_signal(self, sig: signal.Signals) -> None:
        if self.drain_on_stop and self.tv.pipeline.ready.is_set():
            print("\nstopping: writing what the broker still holds to ClickHouse ...", file=sys.stderr, flush=True)
            drained = await self.tv.pipeline.drain()
            if not drained:
                print("warning: could not drain all topics within the time limit", file=sys.stderr)
        await super()._stop_on_signal(sig)


async def broker_is_tansu(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        return "tansu" in str(cluster.get("cluster_id", "")).lower()
    finally:
        await admin.close()


def write_state(settings: Settings, **extra: Any) -> Path:
    path = settings.data_dir / STATE_FILE
    path.write_text(json.dumps({"pid": os.getpid(), "web_url": f"http://{settings.web_host}:{settings.web_port}",
                                "broker_url": settings.broker_url, **extra}))
    return path


def read_state(data_dir: Path) -> dict | None:
    """The running ``up``/``worker`` for this data directory, if its process is alive."""
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
        os.kill(int(state["pid"]), 0)
        return state
    except (OSError, ValueError, KeyError):
        return None


def run(settings: Settings, *, embedded: bool, sample: Iterable[dict] | None = None,
        sample_campaigns: list[Campaign] | None = None) -> int:
    from schemas.errors import ConfigurationError
    from streams.app import TrueVoiceApp
    from streams.salt import salt_from
    from tables.clickhouse.store import ClickHouseStore

    configure_logging(settings.log_level, resolve_format(settings.log_format, embedded=embedded, stream=sys.stderr))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        # up creates the salt on first start; a production worker must be given one
        salt = salt_from(settings.anon_salt.get_secret_value() if settings.anon_salt else None,
                         settings.data_dir, create=embedded)
    except ConfigurationError as exc:
        raise SystemExit(f"error: {exc}") from exc
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    broker = None
    if embedded:
        broker = EmbeddedBroker(port=_port_from(settings.broker_url), log_file=settings.data_dir / "broker.log").start()
        settings = settings.replace(broker_url=broker.url)
        # The embedded broker starts empty: RocksDB state from the last run would be ahead of
        # its changelog, so the windows are rebuilt from ClickHouse instead (see README).
        shutil.rmtree(settings.tables_dir, ignore_errors=True)
    elif not settings.broker_url:
        raise SystemExit("error: set TRUEVOICE_BROKER_URL (e.g. kafka://kafka:9092), or use `truevoice up`")
    state = None
    try:
        created = loop.run_until_complete(ensure_topics(settings.bootstrap_servers, settings.partitions, settings.app_id))
        if created:
            log.info("created topics: %s", ", ".join(created))
        if embedded or loop.run_until_complete(broker_is_tansu(settings.bootstrap_servers)):
            tansu_compat.install(settings.bootstrap_servers)
        store = ClickHouseStore(settings.resolved_clickhouse_url, settings.clickhouse_database,
                                readonly_url=settings.clickhouse_readonly_url, analyst_limits=settings.analyst_limits,
                                analyst_workers=settings.sql_workers)
        store.migrate()
        seed = store.campaigns() if embedded else []
        if sample_campaigns:
            known = {c.campaign_id for c in seed}
            seed += [c for c in sample_campaigns if c.campaign_id not in known]
        tv = TrueVoiceApp(settings, store, salt, rebuild_windows=embedded, seed_campaigns=seed)
        if sample is not None:
            held = store.count_mentions()
            if held:
                # The sample's event ids are already there: sending it again (moved to a new "now")
                # would only re-date stored mentions.
                print(f"the data directory already holds {held} mentions: not replaying the sample", flush=True)
            else:
                _replay_when_ready(tv, sample)
        state = write_state(settings)
        keys = KeyStore(settings.resolved_api_keys_file)
        # up makes the first admin key so that `make run` needs no key step; a worker is given keys
        first_key = keys.create_first_admin("first admin key (truevoice up)") if embedded else None
        if not embedded and not keys.records():
            log.warning("no API keys in %s: every /api request will get 401; make one with "
                        "`truevoice keys create --admin`", keys.path)
        _banner_when_serving(tv, settings, embedded, first_key.key if first_key else None)
        worker = TrueVoiceWorker(tv, drain_on_stop=embedded, loop=loop, loglevel=settings.log_level,
                                 quiet=True, override_logging=False)
        from agents.score import tune_gc

        tune_gc()
        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            return int(exc.code or 0)
        finally:
            store.close()
        return 0
    finally:
        if state is not None:
            state.unlink(missing_ok=True)
        if broker:
            broker.stop()


def _port_from(url: str | None) -> int | None:
    if not url:
        return None
    return int(url.rsplit(":", 1)[-1].rstrip("/"))


def _replay_when_ready(tv: Any, records: Iterable[dict]) -> None:
    @tv.app.task
    async def replay_sample() -> None:
        from streams.replay.producer import produce_records

        await tv.pipeline.ready.wait()
        n = await produce_records(tv.pipeline.producer, records, desc="sample", backlog=tv.pipeline.backlog)
        print(f"sample: {n} mentions sent to mentions.raw; they reach ClickHouse within seconds", flush=True)


def _banner_when_serving(tv: Any, settings: Settings, embedded: bool, first_key: str | None) -> None:
    """The banner once the API answers: GET /health from this process, then print."""
    import aiohttp

    host = "127.0.0.1" if settings.web_host in ("0.0.0.0", "::", "") else settings.web_host
    url = f"http://{host}:{settings.web_port}/health"

    @tv.app.task
    async def banner() -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while True:
                try:
                    async with session.get(url) as resp:
                        if resp.status == 200:
                            break
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                await asyncio.sleep(0.05)  # the server is still starting
        _banner(settings, embedded, first_key)


def _banner(settings: Settings, embedded: bool, first_key: str | None) -> None:
    where = "embedded Tansu" if embedded else settings.broker_url
    web = f"http://{settings.web_host}:{settings.web_port}/"
    if first_key:
        # the fragment never reaches a server or a log: the dashboard reads the key from it
        key_lines = (f"  API key     {first_key}  (admin; shown only now)\n"
                     f"  dashboard   {web}#key={first_key}\n")
    else:
        key_lines = (f"  API key     `truevoice keys create --admin --data-dir {settings.data_dir}` makes one "
                     f"(keys are shown only when made)\n"
                     f"  dashboard   {web}\n")
    print(
        f"TrueVoice is running\n"
        f"  broker      {where} ({settings.broker_url})\n"
        f"  ClickHouse  {settings.resolved_clickhouse_url}\n"
        f"  data dir    {settings.data_dir.resolve()}\n"
        f"  API         {web}  (alerts: ws://{settings.web_host}:{settings.web_port}/ws/alerts)\n"
        f"{key_lines}"
        f"  SQL         truevoice sql --data-dir {settings.data_dir} \"SELECT platform, count() FROM mentions FINAL GROUP BY platform\"\n"
        f"  stop        Ctrl-C (drains the topics into ClickHouse first)",
        flush=True,
    )
