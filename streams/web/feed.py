"""The WebSocket feed of spike alerts: one consumer of alerts.spikes per process, fanned out."""

from __future__ import annotations

import asyncio

import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer

from schemas import Topics


def latest_alerts(alerts: list[dict]) -> list[dict]:
    """One entry per incident (``alert_id``): its highest revision, oldest update first."""
    best: dict[str, dict] = {}
    for a in alerts:
        held = best.get(a["alert_id"])
        if held is None or a.get("revision", 0) >= held.get("revision", 0):
            best[a["alert_id"]] = a
    return sorted(best.values(), key=lambda a: str(a.get("updated_at") or a.get("raised_at")))


class AlertFeed:
    """Fans alerts.spikes out to WebSocket clients (every record: raises and updates); one consumer per
    process, from the latest offset. ``recent``: the latest state of the last 100 incidents."""

    def __init__(self) -> None:
        self.clients: set[web.WebSocketResponse] = set()
        self.recent: list[dict] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None

    async def start(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(Topics.ALERTS, bootstrap_servers=bootstrap,
                                          auto_offset_reset="latest", enable_auto_commit=False)
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name="alert-feed")

    async def _run(self) -> None:
        assert self._consumer is not None
        async for record in self._consumer:
            alert = orjson.loads(record.value)
            self.recent = latest_alerts(self.recent + [alert])[-100:]  # an update replaces its incident
            payload = orjson.dumps(alert).decode()
            for ws in list(self.clients):
                try:
                    await ws.send_str(payload)
                except (ConnectionResetError, RuntimeError):
                    self.clients.discard(ws)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self._consumer:
            await self._consumer.stop()
        for ws in list(self.clients):
            await ws.close()
