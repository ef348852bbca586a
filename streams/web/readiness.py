"""Readiness of a worker: what ``GET /ready`` answers and compose's healthcheck waits for.

Ready means the pipeline started and is not failing or too far behind (``Pipeline.problems``),
AND the things it depends on answer now, each probed within ``PROBE_SECONDS``: the broker
(a metadata request), ClickHouse (a ping) and the models (the scoring processes that hold the
ONNX sessions are alive). An idle pipeline would otherwise notice a lost broker or ClickHouse
only when its next batch comes. Each problem is one line that names the part and the reason.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

PROBE_SECONDS = 3.0
# /ready is open and never rate limited: callers within this long share one round of probes, so
# a flood of requests is not a flood of broker and ClickHouse round trips
REUSE_SECONDS = 1.0


class Readiness:
    def __init__(self, tv: Any) -> None:
        self.tv = tv
        # its own thread: a ping never waits behind a sink insert, and a hung ping (one at a
        # time) makes the next probe time out instead of piling threads up
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="ready-probe")
        self._lock = asyncio.Lock()
        self._last: tuple[float, list[str]] | None = None

    async def problems(self) -> list[str]:
        async with self._lock:
            now = time.monotonic()
            if self._last is None or now - self._last[0] >= REUSE_SECONDS:
                self._last = (now, await self._probe())
            return list(self._last[1])

    async def _probe(self) -> list[str]:
        pipeline = self.tv.pipeline
        found = list(pipeline.problems())
        if not pipeline.ready.is_set():
            return found
        probes = await asyncio.gather(self._broker(), self._clickhouse())
        found += [p for p in probes if p]
        models = self._models()
        if models:
            found.append(models)
        return found

    async def _broker(self) -> str | None:
        producer = self.tv.pipeline.producer
        try:
            await asyncio.wait_for(producer.client.fetch_all_metadata(), PROBE_SECONDS)
        except asyncio.TimeoutError:
            return f"broker: no metadata answer within {PROBE_SECONDS:g} s ({self.tv.settings.broker_url})"
        except Exception as exc:  # noqa: BLE001 - any failure is the reason not to be ready
            return f"broker: {type(exc).__name__}: {exc} ({self.tv.settings.broker_url})"
        return None

    async def _clickhouse(self) -> str | None:
        loop = asyncio.get_running_loop()
        try:
            answered = await asyncio.wait_for(loop.run_in_executor(self.executor, self.tv.store.ping), PROBE_SECONDS)
        except asyncio.TimeoutError:
            return f"ClickHouse: no answer to a ping within {PROBE_SECONDS:g} s"
        return None if answered else "ClickHouse: ping failed (unreachable or refusing)"

    def _models(self) -> str | None:
        # ScoringPool.start loaded the models in every process before the pipeline became ready;
        # a process that died since breaks the pool until the next batch replaces it
        if getattr(self.tv.scoring.executor, "_broken", False):
            return "models: a scoring process died; new ones start with the next batch"
        return None

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
