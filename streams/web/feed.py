"""The live feed behind the WebSockets: one consumer of alerts.spikes per process, fanned out to
WebSocket clients through bounded per-client queues.

A slow or vanished client must never hold up the others, so the fan-out only *offers* a message
to each client's queue (it never awaits a client) and every client has its own sender task that
awaits its socket. When a client's queue is full its **oldest** messages are dropped and, before
the next message it does get, it is told how many: ``{"type": "dropped", "count": n}``. Dropping
rather than closing (1008/1013) because what is dropped is superseded anyway (the next tick has
fresh numbers, an incident's next revision its whole state, ``GET /api/v1/alerts`` the history),
and a dashboard behind a slow link recovers by itself. A client that stops reading altogether
also stops answering pings, and the heartbeat closes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Callable

import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from schemas import Alert, Topics

log = logging.getLogger(__name__)

CLIENT_QUEUE_MESSAGES = 256
# a shutdown does not wait on a client whose socket takes nothing
CLOSE_TIMEOUT_SECONDS = 2.0


def latest_alerts(alerts: list[dict]) -> list[dict]:
    """One entry per incident (``alert_id``): its highest revision, oldest update first."""
    best: dict[str, dict] = {}
    for a in alerts:
        held = best.get(a["alert_id"])
        if held is None or a.get("revision", 0) >= held.get("revision", 0):
            best[a["alert_id"]] = a
    return sorted(best.values(), key=lambda a: str(a.get("updated_at") or a.get("raised_at")))


def alert_message(alert: dict) -> str:
    """An alert as a WebSocket message: the record with ``"type": "alert"``."""
    return orjson.dumps({"type": "alert", **alert}).decode()


class DropOldestQueue:
    """A bounded FIFO of messages that never blocks the writer: when full, the oldest message goes
    and is counted; the reader's next ``get`` is a ``dropped`` notice with the count."""

    def __init__(self, maxsize: int = CLIENT_QUEUE_MESSAGES) -> None:
        if maxsize < 1:
            raise ValueError("a client queue holds at least one message")
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize)
        self._unreported = 0
        self.dropped = 0  # over the queue's life: what /metrics counts

    def put(self, message: str) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self._unreported += 1
            self.dropped += 1
        self._queue.put_nowait(message)

    async def get(self) -> str:
        if self._unreported:
            # the queue is not empty: drops happen only when it is full
            notice = orjson.dumps({"type": "dropped", "count": self._unreported}).decode()
            self._unreported = 0
            return notice
        return await self._queue.get()


class FeedClient:
    """One connected WebSocket: what it subscribed to, its queue, and its sender task.

    ``route`` is the route template it came in on (the gauge's label), ``campaign_id`` the campaign
    whose ticks it gets (None: pipeline ticks, or none), ``accepts`` which alerts it may receive
    (its campaign, or its tenant's campaigns).
    """

    def __init__(self, ws: web.WebSocketResponse, route: str, accepts: Callable[[dict], bool], *,
                 campaign_id: str | None = None, ticks: bool = True,
                 queue_size: int = CLIENT_QUEUE_MESSAGES) -> None:
        self.ws = ws
        self.route = route
        self.accepts = accepts
        self.campaign_id = campaign_id
        self.ticks = ticks
        self.queue = DropOldestQueue(queue_size)
        self._sender: asyncio.Task | None = None

    def offer(self, message: str) -> None:
        self.queue.put(message)

    def start(self) -> None:
        self._sender = asyncio.create_task(self._send_forever(), name=f"ws-sender {self.route}")

    async def _send_forever(self) -> None:
        try:
            while True:
                await self.ws.send_str(await self.queue.get())
        except (ConnectionError, RuntimeError) as exc:
            # the client went away; its handler's read loop ends on the closed socket
            log.debug("WebSocket client on %s gone: %s", self.route, exc)
        except Exception:  # noqa: BLE001 - this client gets no more messages: end it, not the others
            log.exception("WebSocket sender on %s failed; closing the client", self.route)
            await self.ws.close(code=1011, message=b"server error")

    async def stop(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            try:
                await self._sender
            except asyncio.CancelledError:
                pass


class AlertFeed:
    """Reads alerts.spikes (every record: raises and updates; one consumer per process, from the
    latest offset) and offers each alert to the clients that accept it. ``recent``: the latest
    state of the last 100 incidents."""

    def __init__(self) -> None:
        self.clients: set[FeedClient] = set()
        self.routes: set[str] = set()  # the routes clients come in on, counted even with none connected
        self.recent: list[dict] = []
        self.dropped_by_gone_clients = 0
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None

    async def start(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(Topics.ALERTS, bootstrap_servers=bootstrap,
                                          auto_offset_reset="latest", enable_auto_commit=False)
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name="alert-feed")

    def add(self, client: FeedClient) -> None:
        self.clients.add(client)
        client.start()

    async def remove(self, client: FeedClient) -> None:
        if client in self.clients:
            self.clients.discard(client)
            self.dropped_by_gone_clients += client.queue.dropped
        await client.stop()

    def clients_by_route(self) -> dict[str, int]:
        counts = Counter({route: 0 for route in self.routes})
        counts.update(c.route for c in self.clients)
        return dict(sorted(counts.items()))

    def dropped(self) -> int:
        """Messages dropped from full client queues since start (connected and gone clients)."""
        return self.dropped_by_gone_clients + sum(c.queue.dropped for c in self.clients)

    def publish(self, alert: dict) -> None:
        """Offer one alert to every client that accepts it; never awaits a client."""
        self.recent = latest_alerts(self.recent + [alert])[-100:]  # an update replaces its incident
        message = alert_message(alert)
        for client in list(self.clients):
            if client.accepts(alert):
                client.offer(message)

    async def _run(self) -> None:
        assert self._consumer is not None
        async for record in self._consumer:
            try:
                # parsed as what it must be: the filters read its fields (a campaign id that is a
                # list would raise in a tenant's filter and end the feed for everyone)
                alert = Alert.model_validate_json(record.value or b"").model_dump(mode="json")
            except ValidationError as exc:
                # the sink dead-letters it; the feed only must not die on it
                log.warning("alert feed: skipping record %s/%d@%d: %s", record.topic, record.partition,
                            record.offset, exc.errors()[:1])
                continue
            self.publish(alert)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self._consumer:
            await self._consumer.stop()
        for client in list(self.clients):
            await self.remove(client)
            try:
                await asyncio.wait_for(client.ws.close(code=1001, message=b"server shutting down"),
                                       CLOSE_TIMEOUT_SECONDS)
            except (asyncio.TimeoutError, ConnectionError, RuntimeError):
                pass
