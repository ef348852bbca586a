"""Configuration, read from the environment so the same image runs embedded and in production.

Only URLs differ between the two deployments: no broker URL means "start the embedded Tansu
broker", no ClickHouse URL means "chdb in the data directory".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

ENV_PREFIX = "TRUEVOICE_"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(ENV_PREFIX + name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    broker_url: str | None = None
    clickhouse_url: str | None = None
    clickhouse_database: str = "truevoice"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    partitions: int = 2
    app_id: str = "truevoice"
    window_flush_seconds: float = 0.5
    window_retention_hours: int = 25
    score_batch_max: int = 2048
    score_processes: int = 1
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        base = cls(
            data_dir=Path(_env("DATA_DIR", "data")),
            broker_url=_env("BROKER_URL"),
            clickhouse_url=_env("CLICKHOUSE_URL"),
            clickhouse_database=_env("CLICKHOUSE_DATABASE", "truevoice"),
            web_host=_env("WEB_HOST", "127.0.0.1"),
            web_port=int(_env("WEB_PORT", "6066")),
            partitions=int(_env("PARTITIONS", "2")),
            app_id=_env("APP_ID", "truevoice"),
            log_level=_env("LOG_LEVEL", "INFO"),
            # one scoring process per core (up to 4): scoring is the CPU-heavy stage
            score_processes=int(_env("SCORE_PROCESSES", str(min(os.cpu_count() or 1, 4)))),
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def embedded_clickhouse_url(self) -> str:
        return f"chdb://{(self.data_dir / 'clickhouse').resolve()}"

    @property
    def resolved_clickhouse_url(self) -> str:
        return self.clickhouse_url or self.embedded_clickhouse_url

    @property
    def bootstrap_servers(self) -> str:
        """aiokafka's form of the broker URL: ``kafka://a:9092;b:9092`` → ``a:9092,b:9092``."""
        if not self.broker_url:
            raise RuntimeError("no broker URL: start the embedded broker first")
        url = self.broker_url.split("://", 1)[-1]
        return url.replace(";", ",").rstrip("/")

    @property
    def tables_dir(self) -> Path:
        return self.data_dir / "tables"
