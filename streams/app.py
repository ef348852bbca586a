"""The Faust app: settings tuned as measured in DESIGN.md, the window table and the delta agent,
and the ``Pipeline`` service that runs the app-owned batch loops (score, window combiner, sink).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

import faust
import mode
import orjson
from aiokafka import AIOKafkaProducer, ConsumerRecord

from agents.alerts import DeltaApplier
from agents.campaigns import CampaignRegistry
from agents.consumer_loop import ConsumerLoop
from agents.score import ScoreAgent, ScoringPool
from agents.sink import SINK_TOPICS, SinkAgent, split_by_topic
from agents.window import WindowCombinerAgent, send_deltas
from schemas import Campaign, Topics, WindowDelta
from streams.settings import Settings
from streams.web import WebServer
from tables.spikes import SpikeDetector
from tables.windows import WindowView, define_windows_table

log = logging.getLogger(__name__)


def faust_settings(settings: Settings) -> dict[str, Any]:
    return dict(
        broker=settings.broker_url,
        store="rocksdb://",
        datadir=str(settings.tables_dir),
        topic_partitions=settings.partitions,
        topic_allow_declare=True,
        topic_disable_leader=True,
        autodiscover=False,
        web_enabled=False,  # the API is our own aiohttp app (streams.web), started by the pipeline
        broker_session_timeout=6.0,  # Tansu: a group join waits half the session timeout
        broker_heartbeat_interval=1.0,
        broker_commit_interval=0.5,
        broker_commit_every=1000,
        producer_linger=0.01,
        producer_max_batch_size=262144,
        stream_buffer_maxsize=65536,
        consumer_auto_offset_reset="earliest",
        table_cleanup_interval=30.0,
        logging_config=None,
    )


class TrueVoiceApp:
    """Everything one worker process runs, assembled from settings and a ClickHouse store."""

    def __init__(self, settings: Settings, store: Any, *, rebuild_windows: bool = False,
                 seed_campaigns: list[Campaign] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.rebuild_windows = rebuild_windows
        self.seed_campaigns = seed_campaigns or []
        self.app = faust.App(settings.app_id, **faust_settings(settings))
        self.table = define_windows_table(self.app, settings.window_retention_hours)
        self.view = WindowView(self.table)
        self.scoring = ScoringPool(settings.score_processes)
        self.registry = CampaignRegistry(on_change=lambda campaigns: self.scoring.set_campaigns(campaigns))
        self.detector = SpikeDetector(self.registry.thresholds, seed=self._seed_history)
        self.alerts_topic = self.app.topic(Topics.ALERTS, key_type=bytes, value_type=bytes,
                                           key_serializer="raw", value_serializer="raw")
        deltas_topic = self.app.topic(Topics.WINDOW_DELTAS, key_type=bytes, value_type=bytes,
                                      key_serializer="raw", value_serializer="raw")
        self.applier = DeltaApplier(self.view, self.detector, self.alerts_topic)

        @self.app.agent(deltas_topic, name="truevoice.windows")
        async def apply_deltas(stream: faust.StreamT) -> None:
            async for value in stream:
                await self.applier.apply(WindowDelta.loads(value))

        self.pipeline = Pipeline(self)
        self.app.service(self.pipeline)
        self.web = WebServer(self)
        self.app.service(self.web)

    def _seed_history(self, key: str, minute: int) -> dict[int, list[float]]:
        return self.view.minutes(key, minute - 60, 60)


class Pipeline(mode.Service):
    """The app-owned aiokafka loops. Started and stopped with the Faust worker."""

    def __init__(self, tv: TrueVoiceApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tv = tv
        self.store_executor = ThreadPoolExecutor(1, thread_name_prefix="clickhouse")
        self.producer: AIOKafkaProducer | None = None
        self.loops: list[ConsumerLoop] = []
        self.score_agent: ScoreAgent | None = None
        self.combiner: WindowCombinerAgent | None = None
        self.sink_agent = SinkAgent(tv.store, self.store_executor)
        self.started_at = time.time()
        self._tasks: list[asyncio.Task] = []
        self.ready = asyncio.Event()
        self.accepting = True  # False once a clean stop began: new input would not be drained

    async def on_start(self) -> None:
        s = self.tv.settings
        bootstrap = s.bootstrap_servers
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, max_batch_size=262144,
                                         max_request_size=8 * 1024 * 1024, acks=1)
        await self.producer.start()
        if self.tv.seed_campaigns:
            await self.publish_campaigns(self.tv.seed_campaigns)
        await self.tv.registry.follow(bootstrap)
        await asyncio.wait_for(self.tv.registry.ready.wait(), 30)
        if self.tv.rebuild_windows:
            await self._rebuild_windows()
        await self.tv.scoring.start()
        self.score_agent = ScoreAgent(self.producer, self.tv.scoring)
        self.combiner = WindowCombinerAgent(self.producer)
        self.loops = [
            ConsumerLoop("score", bootstrap, [Topics.RAW], f"{s.app_id}.score", self.score_agent.handle,
                         max_records=s.score_batch_max, linger_seconds=0.05, in_flight=s.score_processes + 1),
            ConsumerLoop("sink", bootstrap, list(SINK_TOPICS), f"{s.app_id}.sink", self._window_and_sink,
                         max_records=20_000, linger_seconds=s.window_flush_seconds),
        ]
        await asyncio.gather(*(loop.start() for loop in self.loops))
        for loop in self.loops:
            self._tasks.append(asyncio.create_task(self._run_loop(loop), name=f"loop-{loop.name}"))
        self.ready.set()

    async def _window_and_sink(self, records: Sequence[ConsumerRecord]) -> None:
        """The window combiner and the ClickHouse sink share one fetch and one decode of each record."""
        by_topic = split_by_topic(records)
        scored = [orjson.loads(v) for v in by_topic.pop(Topics.SCORED)]
        await asyncio.gather(self.combiner.handle(scored), self.sink_agent.write(scored, by_topic))

    async def _run_loop(self, loop: ConsumerLoop) -> None:
        try:
            await loop.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("loop %s crashed; stopping the worker so it can be restarted", loop.name)
            await self.tv.app.crash(RuntimeError(f"loop {loop.name} crashed"))

    async def publish_campaigns(self, campaigns: list[Campaign]) -> None:
        assert self.producer is not None
        sends = [await self.producer.send(Topics.CAMPAIGNS, c.dumps(), key=c.campaign_id.encode()) for c in campaigns]
        await asyncio.gather(*sends)

    async def _rebuild_windows(self) -> None:
        """Embedded mode: the broker kept nothing, so the windows come back from ClickHouse."""
        since = datetime.now(timezone.utc) - timedelta(hours=self.tv.settings.window_retention_hours)
        loop = asyncio.get_running_loop()
        rows = await loop.run_in_executor(self.store_executor, self.tv.store.window_rows, since)
        if rows:
            assert self.producer is not None
            await send_deltas(self.producer, rows, rebuild=True)
        log.info("rebuilt windows from ClickHouse: %d (campaign, platform, minute) buckets", len(rows))

    async def drain(self, timeout: float = 60.0) -> bool:
        """Wait until every loop has committed everything on its topics (before a clean stop).

        Used with the embedded broker, which forgets everything when it stops. End offsets come
        from the broker (Tansu's ListOffsets under-reports, hence ``tansu_compat``), not from the
        consumers' last fetch, which may not have seen the newest records yet.
        """
        from streams.tansu_compat import true_end_offsets

        self.accepting = False
        bootstrap = self.tv.settings.bootstrap_servers
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # in pipeline order, and once more for the first: scoring may still be feeding the sink
            states = [await loop.caught_up(lambda tps: true_end_offsets(bootstrap, tps)) for loop in self.loops]
            if all(states) and await self.loops[0].caught_up(lambda tps: true_end_offsets(bootstrap, tps)):
                return True
            await asyncio.sleep(0.2)
        return False

    async def on_stop(self) -> None:
        # Records a loop holds but has not committed are read again by the next owner.
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for loop in self.loops:
            await loop.stop()
        await self.tv.registry.stop()
        if self.producer:
            await self.producer.stop()
        self.tv.scoring.shutdown()
        self.store_executor.shutdown(wait=True)
