"""The predictor stage: per campaign, on a timer and on demand, a reaction prediction from the
campaign's recent scored mentions (``scoring.predictor``), written to the ``predictions`` topic
and ClickHouse; and the accuracy of past predictions against recorded outcomes, which the
``truevoice_prediction_accuracy`` gauge serves and the ops rules (``agents.ops``) alert on.

Reads and writes are blocking ClickHouse calls and the rating model is CPU work: they run in
the executor given, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from aiokafka import AIOKafkaProducer

from schemas import Prediction, Topics
from scoring.predictor import PredictorConfig, predict
from scoring.rating import add_ratings

log = logging.getLogger(__name__)


class PredictorAgent:
    def __init__(self, store: Any, producer: AIOKafkaProducer, executor: Executor, *,
                 config: PredictorConfig, rating_model: Any | None = None, window_hours: int = 24,
                 max_mentions: int = 5000, accuracy_window: int = 20) -> None:
        self.store = store
        self.producer = producer
        self.executor = executor
        self.config = config
        self.rating_model = rating_model
        self.window_hours = window_hours
        self.max_mentions = max_mentions
        self.accuracy_window = accuracy_window
        self.made = 0
        self.accuracy: list[dict] = []  # the last rolling accuracy per (campaign, metric)

    def _predict_blocking(self, campaign_id: str, now: datetime) -> Prediction | None:
        mentions = self.store.campaign_mentions(campaign_id, now - timedelta(hours=self.window_hours),
                                                limit=self.max_mentions)
        if not mentions:
            return None
        add_ratings(mentions, self.rating_model)
        prediction = predict(mentions, campaign_id, config=self.config, now=now, made_at=now,
                             horizon_hours=self.window_hours)
        self.store.insert_predictions([prediction])
        return prediction

    async def predict(self, campaign_ids: Sequence[str], now: datetime | None = None) -> list[Prediction]:
        """Predict each campaign now (those without mentions in the window are skipped)."""
        now = now or datetime.now(timezone.utc)
        loop = asyncio.get_running_loop()
        out = []
        for cid in campaign_ids:
            prediction = await loop.run_in_executor(self.executor, self._predict_blocking, cid, now)
            if prediction is not None:
                await (await self.producer.send(Topics.PREDICTIONS, prediction.dumps(), key=cid.encode()))
                out.append(prediction)
        self.made += len(out)
        return out

    async def check_accuracy(self) -> list[dict]:
        """Rolling accuracy per (campaign, metric), kept for the gauge; the ops rule
        ``prediction_accuracy`` publishes the alert when one falls under its floor, and its
        resolution when it recovers."""
        self.accuracy = await asyncio.get_running_loop().run_in_executor(
            self.executor, lambda: self.store.prediction_accuracy(last=self.accuracy_window))
        return self.accuracy

    async def run(self, campaigns: Any, interval: float) -> None:
        """Every ``interval`` seconds: predict every active campaign (and ``*``), then check accuracy."""
        while True:
            try:
                ids = ["*", *sorted(c.campaign_id for c in campaigns() if c.active)]
                await self.predict(ids)
                await self.check_accuracy()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a failed round is logged; the next one tries again
                log.exception("prediction round failed")
            await asyncio.sleep(interval)
