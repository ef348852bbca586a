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
from aiokafka import AIOKafkaProducer, ConsumerRecord

from agents.alerts import AlertPublisher, DeltaApplier
from agents.campaigns import CampaignRegistry
from agents.consumer_loop import ConsumerLoop
from agents.ops import OpsRules
from agents.predictor import PredictorAgent
from agents.score import ScoreAgent, ScorerConfig, ScoringPool
from agents.voices import VoiceStage
from agents.sink import SINK_TOPICS, SinkAgent, dead_letter_records, send_dead_letters
from agents.window import WindowCombinerAgent, send_deltas
from schemas import Campaign, Topics, WindowDelta, WindowSums
from streams.kafka.backlog import BacklogGauge, BacklogLimit
from streams.metrics import Metrics
from streams.settings import Settings
from streams.web.api import WebServer
from tables.combiner import window_key
from tables.incidents import IncidentBook
from tables.spikes import SpikeWatch
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

    def __init__(self, settings: Settings, store: Any, salt: bytes, *, rebuild_windows: bool = False,
                 seed_campaigns: list[Campaign] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.rebuild_windows = rebuild_windows
        self.seed_campaigns = seed_campaigns or []
        self.app = faust.App(settings.app_id, **faust_settings(settings))
        self.table = define_windows_table(self.app, settings.window_retention_hours)
        self.view = WindowView(self.table)
        self.scoring = ScoringPool(
            ScorerConfig(salt, settings.model_root, settings.model_overrides, settings.ort_threads),
            settings.score_processes, voices=True)
        self.voices = _voice_stage(settings)
        self.registry = CampaignRegistry(on_change=lambda campaigns: self.scoring.set_campaigns(campaigns))
        self.watch = SpikeWatch(self.registry.thresholds, seed=self._seed_history)
        self.incidents = IncidentBook(self.registry.thresholds)
        self.alerts_topic = self.app.topic(Topics.ALERTS, key_type=bytes, value_type=bytes,
                                           key_serializer="raw", value_serializer="raw")
        deltas_topic = self.app.topic(Topics.WINDOW_DELTAS, key_type=bytes, value_type=bytes,
                                      key_serializer="raw", value_serializer="raw")
        self.applier = DeltaApplier(self.view, self.watch)

        async def send_alert(key: bytes, value: bytes) -> None:
            await self.alerts_topic.send(key=key, value=value)

        self.alerts = AlertPublisher(self.watch, self.incidents, send_alert, store)
        self.app.service(self.alerts)

        deadletter_topic = self.app.topic(Topics.DEADLETTER, key_type=bytes, value_type=bytes,
                                          key_serializer="raw", value_serializer="raw")

        @self.app.agent(deltas_topic, name="truevoice.windows")
        async def apply_deltas(stream: faust.StreamT) -> None:
            async for value in stream:
                try:
                    delta = WindowDelta.loads(value)
                except ValueError as exc:  # a poison delta: dead-lettered, never blocks the table
                    from aiokafka import ConsumerRecord as _Record
                    from agents.sink import sink_dead_letter

                    msg = stream.current_event.message
                    letter = sink_dead_letter(
                        _Record(msg.topic, msg.partition, msg.offset, int((msg.timestamp or 0) * 1000), 0, None, value,
                                None, 0, len(value or b""), []),
                        "invalid_delta", f"{Topics.WINDOW_DELTAS}: {exc}")
                    await deadletter_topic.send(key=letter.event_id.encode(), value=letter.dumps())
                    continue
                await self.applier.apply(delta)

        self.metrics = Metrics()  # the stages' histograms; the API adds what it reads at scrape time
        self.pipeline = Pipeline(self)
        self.alerts.ready = self.pipeline.ready  # open incidents restored once campaigns and windows are back
        from scoring.privacy import Anonymiser

        self.pipeline.sink_agent.anonymiser = Anonymiser(salt)  # the sink's dead letters are scrubbed too
        self.app.service(self.pipeline)
        self.web = WebServer(self)
        self.app.service(self.web)

    def _seed_history(self, campaign_id: str, platform: str, end_minute: int, count: int) -> dict[int, WindowSums]:
        return self.view.minutes(window_key(campaign_id, platform), end_minute, count)


def _voice_stage(settings: Settings) -> "VoiceStage":
    """The cross-mention tracker of this worker: author state in RocksDB under ``voices/``."""
    from agents.voices import VoiceStage, voice_config
    from scoring.credibility import CredibilityRules
    from scoring.voices import VoiceTracker
    from tables.voices import MemoryVoiceStore, RocksVoiceStore

    rules = CredibilityRules.load()
    try:
        store: Any = RocksVoiceStore(settings.voices_dir)
    except Exception as exc:  # noqa: BLE001 - e.g. another worker holds this data directory's lock
        log.error("voice tracker: cannot open %s (%s); author state kept in memory only", settings.voices_dir, exc)
        store = MemoryVoiceStore()
    return VoiceStage(VoiceTracker(store, voice_config(rules, **settings.voice_limits)), rules)


def _predictor(store: Any, producer: AIOKafkaProducer, settings: Settings) -> PredictorAgent:
    """The predictor stage: its own thread for ClickHouse reads and the rating model."""
    from scoring.predictor import PredictorConfig
    from scoring.rating import RatingModel

    rating = RatingModel(intra_op_threads=1) if RatingModel.available() else None
    return PredictorAgent(store, producer, ThreadPoolExecutor(1, thread_name_prefix="predictor"),
                          config=PredictorConfig.load(), rating_model=rating,
                          window_hours=settings.predict_window_hours)


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
        self.sink_agent.observe_insert = tv.metrics.insert_seconds.observe
        self.sink_agent.observe_lag = tv.metrics.stored_lag_seconds.observe
        self.started_at = time.time()
        self._tasks: list[asyncio.Task] = []
        self.ready = asyncio.Event()
        self.accepting = True  # False once a clean stop began: new input would not be drained
        self.backlog: BacklogGauge | None = None
        self.predictor: PredictorAgent | None = None
        self.ops: OpsRules | None = None  # the design's alert rules over this worker's metrics

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
            await self._rebuild_voices()
        await self.tv.scoring.start()
        self.score_agent = ScoreAgent(self.producer, self.tv.scoring, self.tv.voices)
        self.score_agent.observe_batch = self.tv.metrics.scoring_seconds.observe
        self.combiner = WindowCombinerAgent(self.producer)
        self.loops = [
            ConsumerLoop("score", bootstrap, [Topics.RAW], f"{s.app_id}.score", self.score_agent.handle,
                         max_records=s.score_batch_max, linger_seconds=0.05, in_flight=s.score_processes + 1),
            ConsumerLoop("sink", bootstrap, list(SINK_TOPICS), f"{s.app_id}.sink", self._window_and_sink,
                         max_records=20_000, linger_seconds=s.window_flush_seconds, plan_topics=[Topics.SCORED],
                         dead_letter=lambda records, exc: dead_letter_records(self.producer, records, exc,
                                                                              self.sink_agent.anonymiser)),
        ]
        await asyncio.gather(*(loop.start() for loop in self.loops))
        for loop in self.loops:
            self._tasks.append(asyncio.create_task(self._run_loop(loop), name=f"loop-{loop.name}"))
        self.backlog = BacklogGauge(bootstrap, {f"{s.app_id}.score": [Topics.RAW], f"{s.app_id}.sink": [Topics.SCORED]},
                                    limit=BacklogLimit(s.backlog_limit_seconds, s.backlog_floor_records))
        await self.backlog.start()
        self.predictor = _predictor(self.tv.store, self.producer, s)
        self._tasks.append(asyncio.create_task(
            self.predictor.run(lambda: list(self.tv.registry.campaigns.values()), s.predict_interval_seconds),
            name="predictor"))
        producer = self.producer

        async def send_ops_alert(key: bytes, value: bytes) -> None:
            await (await producer.send(Topics.OPS_ALERTS, value, key=key))

        self.ops = OpsRules(self.tv.metrics.registry, send_ops_alert, window_seconds=s.ops_window_seconds,
                            started_at=self.started_at)
        self._tasks.append(asyncio.create_task(self.ops.run(s.ops_eval_seconds), name="ops-rules"))
        self.ready.set()

    def problems(self) -> list[str]:
        """Why this worker is not ready (empty: ready): not started, storage failing, too far behind."""
        if not self.ready.is_set():
            return ["starting"]
        out = [f"{loop.name}: {loop.last_error}" for loop in self.loops if loop.last_error]
        busy = self.backpressure()
        if busy:
            out.append(busy[0])
        return out

    def backpressure(self) -> tuple[str, int] | None:
        """(message, Retry-After seconds) while the unprocessed backlog is over its bound, else None."""
        gauge = self.backlog
        if gauge is None or not gauge.over_limit:
            return None
        return (f"TrueVoice is {gauge.lag} mentions behind (over {gauge.allowed}, about "
                f"{self.tv.settings.backlog_limit_seconds:g} s of measured capacity); retry later",
                gauge.retry_after())

    async def _window_and_sink(self, records: Sequence[ConsumerRecord]) -> None:
        """The window combiner and the ClickHouse sink share one fetch and one decode of each record.

        Each stage has its own retry (the loop's RetryPolicy), so a failing stage never makes
        another run twice: (1) records that do not decode or validate become dead letters;
        (2) the insert, retried alone while ClickHouse is down or full — records ClickHouse
        refuses (the data's fault) become dead letters and do not count in the windows either;
        (3) the batch's window deltas, computed once, sent until acknowledged (a delta sent twice
        is skipped by its source offset range where it is applied); (4) the dead letters.
        """
        retry = next(loop.retry for loop in self.loops if loop.name == "sink")
        batch = self.sink_agent.decode(records)
        refused = await retry.run(lambda: self.sink_agent.store_batch(batch), "clickhouse insert")
        gone = {(d.source_partition, d.source_offset) for d in refused if d.source_topic == Topics.SCORED}
        counted = [(r, batch.windows[(r.partition, r.offset)]) for r, _ in batch.scored
                   if (r.partition, r.offset) not in gone]
        deltas = self.combiner.deltas(counted, batch.scored_records)
        await retry.run(lambda: self.combiner.send(deltas), "window deltas")
        letters = batch.letters + refused
        if letters:
            assert self.producer is not None
            producer = self.producer
            await retry.run(lambda: send_dead_letters(producer, letters), "dead letters")

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

    async def _rebuild_voices(self) -> None:
        """Embedded mode: the coordination index (memory) and, when ``voices/`` is new or lost, the
        author state come back from ClickHouse (agents.voices.rebuild)."""
        from agents.voices import rebuild

        tracker = self.tv.voices.tracker
        full = tracker.authors.empty()
        n = await asyncio.get_running_loop().run_in_executor(
            self.store_executor, lambda: rebuild(tracker, self.tv.store, datetime.now(timezone.utc), full=full))
        log.info("rebuilt the voice tracker from ClickHouse: %d mentions (%s)", n,
                 "author state and coordination index" if full else "coordination index")

    async def drain(self, timeout: float = 60.0) -> bool:
        """Wait until every loop has committed everything on its topics (before a clean stop).

        Used with the embedded broker, which forgets everything when it stops. End offsets come
        from the broker (Tansu's ListOffsets under-reports, hence ``tansu_compat``), not from the
        consumers' last fetch, which may not have seen the newest records yet.
        """
        from streams.kafka.tansu_compat import true_end_offsets

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
        if self.backlog:
            await self.backlog.stop()
        if self.producer:
            await self.producer.stop()
        self.tv.scoring.shutdown()
        self.tv.voices.tracker.authors.close()
        self.store_executor.shutdown(wait=True)
