"""Configuration: ONE settings object, built at the top (CLI, worker) and passed down.

Every field can come from a ``TRUEVOICE_<FIELD>`` environment variable (pydantic-settings) or a
command-line flag. Only URLs differ between the two deployments: no broker URL means "start the
embedded Tansu broker", no ClickHouse URL means "chdb in the data directory". Nothing below
this layer reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.keystore import KEYS_FILE


def _default_score_processes() -> int:
    # one scoring process per core (up to 4): scoring is the CPU-heavy stage
    return min(os.cpu_count() or 1, 4)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRUEVOICE_", frozen=True, extra="ignore")

    data_dir: Path = Field(Path("data"), description="RocksDB tables, embedded ClickHouse, broker log, salt")
    broker_url: str | None = Field(None, description="kafka://host:9092 (several: kafka://a:9092;b:9092); unset: embedded Tansu")
    clickhouse_url: str | None = Field(None, description="http(s)://user:password@host:8123; unset: chdb in the data dir")
    clickhouse_readonly_url: str | None = Field(None, description="a SELECT-only ClickHouse user for analyst SQL")
    clickhouse_database: str = "truevoice"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    partitions: int = Field(2, ge=1)
    app_id: str = "truevoice"
    log_level: str = "INFO"
    log_format: Literal["json", "text"] | None = Field(
        None, description="json (one object per line) or text; unset: text for `up` on a terminal, else json")
    ops_eval_seconds: float = Field(5.0, gt=0, description="how often the ops alert rules are evaluated")
    ops_window_seconds: float = Field(300.0, gt=0, description="the window of the ops rules' rates and p99")
    anon_salt: SecretStr | None = Field(None, description="salt of the pseudonyms; unset: <data dir>/anon.salt")
    window_flush_seconds: float = 0.5
    window_retention_hours: int = 25
    score_batch_max: int = 2048
    score_processes: int = Field(default_factory=_default_score_processes, ge=1)
    ort_threads: int | None = Field(None, ge=1, description="ONNX Runtime intra-op threads (default: 1 on <= 4 cores)")
    model_root: Path | None = Field(None, description="folder with sentiment/ toxicity/ intent/ purchase_intent/")
    sentiment_model: Path | None = None
    toxicity_model: Path | None = None
    intent_model: Path | None = None
    purchase_intent_model: Path | None = None
    backlog_limit_seconds: float = Field(2.0, gt=0, description="ingest and replay wait beyond this backlog")
    backlog_floor_records: int = Field(5_000, ge=1)
    sql_timeout_seconds: float = Field(30.0, gt=0, description="max_execution_time of analyst SQL")
    sql_max_memory_bytes: int = Field(2 * 1024 ** 3, gt=0)
    sql_max_result_rows: int = Field(100_000, gt=0)
    sql_workers: int = Field(2, ge=1, description="analyst queries that run at once")
    predict_interval_seconds: float = Field(300.0, gt=0, description="how often every campaign is predicted")
    predict_window_hours: int = Field(24, ge=1, description="mentions a prediction reads, and its horizon")
    api_keys_file: Path | None = Field(None, description="the API key file (hashes only); unset: "
                                                          "<data dir>/api_keys.json. Several workers share one")
    rate_limit_per_minute: int = Field(3000, ge=1, description="API requests per minute, per key and per "
                                                               "client address")
    voices_ttl_minutes: float = Field(360.0, gt=0, description="how long an author's posts are remembered "
                                                                "(self-repetition window)")
    voices_max_posts_per_author: int = Field(50, ge=2, description="newest posts kept per author")
    voices_coordination_window_minutes: float = Field(10.0, gt=0, description="near-identical posts by several "
                                                                              "accounts this close form a cluster")
    voices_coordination_min_accounts: int = Field(5, ge=2, description="accounts that make a cluster coordinated "
                                                                       "(3 when most of them are young)")

    @classmethod
    def from_env(cls, **overrides: Any) -> "Settings":
        """Environment first, then the flags that were given (None = not given)."""
        return cls(**{k: v for k, v in overrides.items() if v is not None})

    def replace(self, **changes: Any) -> "Settings":
        return self.model_copy(update=changes)

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
    def resolved_api_keys_file(self) -> Path:
        return self.api_keys_file or self.data_dir / KEYS_FILE

    @property
    def tables_dir(self) -> Path:
        return self.data_dir / "tables"

    @property
    def voices_dir(self) -> Path:
        """Author state of the voice tracker (RocksDB); not under tables/, which `up` deletes."""
        return self.data_dir / "voices"

    @property
    def voice_limits(self) -> dict[str, Any]:
        """``scoring.voices.VoiceConfig`` fields from these settings (the points come from the rules)."""
        return {"ttl_minutes": self.voices_ttl_minutes, "max_posts_per_author": self.voices_max_posts_per_author,
                "coordination_window_minutes": self.voices_coordination_window_minutes,
                "coordination_min_accounts": self.voices_coordination_min_accounts}

    @property
    def model_overrides(self) -> dict[str, Path]:
        """Model folders that replace a shipped head (e.g. from ``truevoice models export``)."""
        heads = {"sentiment": self.sentiment_model, "toxicity": self.toxicity_model,
                 "intent": self.intent_model, "purchase_intent": self.purchase_intent_model}
        return {h: p for h, p in heads.items() if p is not None}

    @property
    def analyst_limits(self) -> dict[str, Any]:
        return {"max_execution_time": self.sql_timeout_seconds, "max_memory_usage": self.sql_max_memory_bytes,
                "max_result_rows": self.sql_max_result_rows}
