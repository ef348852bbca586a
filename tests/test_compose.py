"""The production compose file validates (docker-compose, no engine needed) and is wired from env."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker-compose.yml"


def _load() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_docker_compose_config_validates():
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is not installed (Debian package docker-compose)"
    proc = subprocess.run([exe, "-f", str(COMPOSE), "config", "-q"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_services_present():
    services = _load()["services"]
    assert {"kafka", "clickhouse", "topics", "worker", "api"} <= set(services)
    assert services["kafka"]["image"].startswith(("apache/kafka:", "bitnami/kafka:"))
    assert "broker,controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:25.")
    assert services["topics"]["command"] == ["topics", "create"]
    assert services["worker"]["command"] == ["worker"]
    assert services["api"]["command"] == ["worker"]
    for name in ("kafka", "clickhouse", "worker", "api"):
        assert "healthcheck" in services[name], name


def test_worker_reads_urls_from_environment():
    worker = _load()["services"]["worker"]
    env = worker["environment"]
    assert env["TRUEVOICE_BROKER_URL"] == "kafka://kafka:9092"
    assert env["TRUEVOICE_CLICKHOUSE_URL"].startswith("http://") and env["TRUEVOICE_CLICKHOUSE_URL"].endswith("@clickhouse:8123")
    for key in ("TRUEVOICE_DATA_DIR", "TRUEVOICE_WEB_PORT", "TRUEVOICE_PARTITIONS"):
        assert key in env, key
    assert worker["deploy"]["replicas"] >= 2
    # each replica needs its own RocksDB directory: an anonymous volume, not a shared named one
    assert env["TRUEVOICE_DATA_DIR"] in worker["volumes"]
    deps = worker["depends_on"]
    assert deps["topics"]["condition"] == "service_completed_successfully"
    assert deps["clickhouse"]["condition"] == "service_healthy"


def test_dockerfile_non_root_cpu_install():
    text = (REPO / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "USER truevoice" in text
    assert "[gpu]" not in text
    ignore = (REPO / ".dockerignore").read_text().split()
    assert ".venv" in ignore and ".git" in ignore
