"""The spike hook of the window agent and the incident publisher.

``DeltaApplier.apply`` (inside the Faust agent's stream iteration) applies a window delta to the
table and hands its sums to the spike watch: a dictionary update, nothing more per delta.
``AlertPublisher`` (a service of the worker) ticks a few times a second: the watch feeds closed
minutes and looks at open ones (``tables.spikes``), the incident book merges detections into
incidents (``tables.incidents``), and each incident raised or updated is explained from
ClickHouse in a thread of its own and published on ``alerts.spikes`` keyed by its ``alert_id``.
Before its first tick (once the worker's pipeline is ready: campaign limits known, windows
rebuilt) it takes back the incidents still open in ClickHouse (``restore``), so a restarted worker
updates and resolves them rather than raising them again. Nothing here runs per mention.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import mode

from schemas import Alert, WindowDelta
from tables.combiner import window_key
from tables.incidents import SEVERITIES, Explanation, Incident, IncidentBook, explain, open_incidents, to_alert
from tables.spikes import MINUTE, SpikeWatch
from tables.windows import WindowView

log = logging.getLogger(__name__)


class DeltaApplier:
    def __init__(self, view: WindowView, watch: SpikeWatch) -> None:
        self.view = view
        self.watch = watch
        self.applied = 0
        self.duplicates = 0

    async def apply(self, delta: WindowDelta) -> None:
        """Apply ``delta`` once (a duplicate — same source partition, offset_end not above the
        bucket's mark — is skipped); then give its sums to the spike watch (rebuilt history is
        read from the table when a series is seeded instead)."""
        key = window_key(delta.campaign_id, delta.platform)
        total = self.view.apply(key, delta)
        if total is None:
            self.duplicates += 1
            return
        self.applied += 1
        if not delta.rebuild:
            self.watch.add(delta.campaign_id, delta.platform, delta.minute, delta.sums)


class AlertPublisher(mode.Service):
    """Ticks the watch, merges into incidents, explains and publishes them (see the module)."""

    def __init__(self, watch: SpikeWatch, book: IncidentBook, send: Any, store: Any = None, tick_seconds: float = 0.5,
                 explain_timeout: float = 1.5, restore_timeout: float = 3.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.watch = watch
        self.book = book
        self.send = send  # async (key: bytes, value: bytes) -> None
        self.store = store
        self.tick_seconds = tick_seconds
        self.explain_timeout = explain_timeout
        self.restore_timeout = restore_timeout
        self.ready: asyncio.Event | None = None  # set when the worker's inputs run; the first tick waits for it
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="incidents")
        self.published = 0  # alert records published (raises and updates)
        # published without an explanation: (incident, next try, tries); updated once one comes
        self.unexplained: dict[str, tuple[Incident, float, int]] = {}
        self.latency: list[float] = []  # seconds from an incident's change being seen to its record sent

    @mode.Service.task
    async def _ticker(self) -> None:
        if self.ready is not None:
            await self.ready.wait()
        await self.restore()
        while not self.should_stop:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - alerts must never stop the worker; the next tick retries
                log.exception("incident tick failed")
            await self.sleep(self.tick_seconds)

    async def restore(self, now: float | None = None) -> list[Incident]:
        """The incidents a previous worker left open (records from the book's ``restore_minutes``
        before ``now`` on), back in the book and their campaigns watched; read in the executor and
        given up after ``restore_timeout`` (ClickHouse slow or down: a burst still going on is then
        raised as a new incident)."""
        if self.store is None:
            return []
        now = time.time() if now is None else now
        since = datetime.fromtimestamp(now - self.book.restore_minutes * MINUTE, timezone.utc)
        job = asyncio.get_running_loop().run_in_executor(self.executor, open_incidents, self.store, since)
        try:
            restored = self.book.restore(await asyncio.wait_for(asyncio.shield(job), self.restore_timeout))
        except asyncio.TimeoutError:
            log.warning("open incidents not restored: ClickHouse took over %.1f s", self.restore_timeout)
            return []
        except Exception as exc:  # noqa: BLE001 - ClickHouse down or a record unreadable: start without them
            log.warning("open incidents not restored (%s)", exc)
            return []
        for inc in restored:
            self.watch.follow(inc.campaign_id, now)
        log.info("restored %d open incident(s) from ClickHouse%s", len(restored),
                 "".join(f"; {i.alert_id} ({SEVERITIES[i.severity]}, revision {i.revision})" for i in restored))
        return restored

    async def tick(self, now: float | None = None) -> list[Alert]:
        seen = time.monotonic()
        changed = self.book.process(self.watch.tick(now))
        ids = {inc.alert_id for inc in changed}
        retry = [inc for key, (inc, at, _) in self.unexplained.items() if key not in ids and at <= time.monotonic()]
        out = []
        for inc in changed + retry:
            explanation = await self._explain(inc)
            tries = self.unexplained.pop(inc.alert_id, (None, 0.0, 0))[2]
            if explanation is None and self.store is not None:
                if tries < 3 and inc.status != "resolved":  # try again in 5 s; publish when it comes
                    self.unexplained[inc.alert_id] = (inc, time.monotonic() + 5.0, tries + 1)
                if inc.alert_id not in ids:
                    continue
            alert = to_alert(inc, explanation)
            await self.send(alert.alert_id.encode(), alert.dumps())
            self.book.published(inc)
            self.published += 1
            self.latency = (self.latency + [time.monotonic() - seen])[-1000:]
            log.warning("ALERT %s %s", alert.alert_id, alert.message)
            out.append(alert)
        return out

    async def _explain(self, inc: Incident) -> Explanation | None:
        if self.store is None:
            return None
        end = max(inc.last_active, inc.peak.minute) + MINUTE
        job = asyncio.get_running_loop().run_in_executor(
            self.executor, lambda: explain(self.store, inc.campaign_id, inc.start, end,
                                           negative="negative_sentiment" in inc.kinds))
        try:
            return await asyncio.wait_for(asyncio.shield(job), self.explain_timeout)
        except asyncio.TimeoutError:
            log.warning("incident %s: the explanation took over %.1f s; published without it (the next update "
                        "carries it)", inc.alert_id, self.explain_timeout)
        except Exception as exc:  # noqa: BLE001 - ClickHouse down or busy: the alert goes out anyway
            log.warning("incident %s: no explanation (%s)", inc.alert_id, exc)
        return None

    async def on_stop(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
