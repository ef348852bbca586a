"""The spike hook of the window agent: apply a delta, ask the detector, publish what it raises."""

from __future__ import annotations

import logging
from typing import Any

from schemas import Alert, WindowDelta
from tables.combiner import window_key
from tables.spikes import SpikeDetector
from tables.windows import WindowView

log = logging.getLogger(__name__)


class DeltaApplier:
    def __init__(self, view: WindowView, detector: SpikeDetector, alerts_topic: Any) -> None:
        self.view = view
        self.detector = detector
        self.alerts_topic = alerts_topic
        self.applied = 0
        self.duplicates = 0
        self.alerts_raised = 0

    async def apply(self, delta: WindowDelta) -> list[Alert]:
        """Apply ``delta`` once (a duplicate — same source partition, offset_end not above the
        bucket's mark — is skipped and raises nothing); then ask the spike detector."""
        key = window_key(delta.campaign_id, delta.platform)
        total = self.view.apply(key, delta)
        if total is None:
            self.duplicates += 1
            return []
        self.applied += 1
        if delta.rebuild:
            return []
        alerts = self.detector.observe(key, delta.minute, total)
        for alert in alerts:
            await self.alerts_topic.send(key=alert.alert_id.encode(), value=alert.dumps())
            log.warning("ALERT %s", alert.message)
        self.alerts_raised += len(alerts)
        return alerts
