"""The production compose file validates (docker-compose, no engine needed) and is wired from env."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker-compose.yml"


# The secrets the compose file requires (no defaults): test values only.
SECRETS = {
    "CLICKHOUSE_PASSWORD": "test-writer-password",
    "CLICKHOUSE_ANALYST_PASSWORD": "test-analyst-password",
    "TRUEVOICE_ANON_SALT": "test-salt-0123456789abcdef",
}


def _load() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _config(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is not installed (Debian package docker-compose)"
    base = {k: v for k, v in os.environ.items() if k not in SECRETS}
    # --project-directory: a .env file of the checkout (a developer's) must not feed the test
    return subprocess.run([exe, "-f", str(COMPOSE), "--project-directory", str(COMPOSE.parent / "tests"),
                           "config", *args], cwd=REPO / "tests", env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_docker_compose_config_validates():
    proc = _config(SECRETS, "-q")
    assert proc.returncode == 0, proc.stderr


def test_secrets_have_no_defaults():
    for missing in SECRETS:
        proc = _config({k: v for k, v in SECRETS.items() if k != missing}, "-q")
        assert proc.returncode != 0, missing
        assert f"set {missing}" in proc.stderr, proc.stderr
    text = COMPOSE.read_text()
    for name in SECRETS:
        assert f"${{{name}:?set {name}}}" in text, name
        assert f"${{{name}:-" not in text and f"${{{name}-" not in text, name


def test_resolved_config_wires_the_secrets():
    proc = _config(SECRETS)
    assert proc.returncode == 0, proc.stderr
    services = yaml.safe_load(proc.stdout)["services"]
    for name in ("worker", "api", "topics"):
        env = services[name]["environment"]
        assert env["TRUEVOICE_ANON_SALT"] == SECRETS["TRUEVOICE_ANON_SALT"]
        assert env["TRUEVOICE_CLICKHOUSE_URL"] == "http://default:test-writer-password@clickhouse:8123"
        assert env["TRUEVOICE_CLICKHOUSE_READONLY_URL"] == "http://analyst:test-analyst-password@clickhouse:8123"
    ch = services["clickhouse"]["environment"]
    assert ch["CLICKHOUSE_PASSWORD"] == SECRETS["CLICKHOUSE_PASSWORD"]
    assert ch["CLICKHOUSE_ANALYST_PASSWORD"] == SECRETS["CLICKHOUSE_ANALYST_PASSWORD"]


def test_analyst_user_is_select_only():
    import xml.etree.ElementTree as ET

    clickhouse = _load()["services"]["clickhouse"]
    mount = "./clickhouse/users.d/analyst.xml:/etc/clickhouse-server/users.d/analyst.xml:ro"
    assert mount in clickhouse["volumes"]
    root = ET.parse(REPO / "clickhouse" / "users.d" / "analyst.xml").getroot()
    user = root.find("users/analyst")
    assert user.find("password").get("from_env") == "CLICKHOUSE_ANALYST_PASSWORD" and not user.find("password").text
    profile = root.find(f"profiles/{user.find('profile').text}")
    assert profile.find("readonly").text == "2"
    assert [q.text for q in user.findall("grants/query")] == ["GRANT SELECT ON truevoice.*"]
    assert user.find("access_management").text == "0"


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
    config = _load()
    worker = config["services"]["worker"]
    env = worker["environment"]
    assert env["TRUEVOICE_BROKER_URL"] == "kafka://kafka:9092"
    assert env["TRUEVOICE_CLICKHOUSE_URL"].startswith("http://") and env["TRUEVOICE_CLICKHOUSE_URL"].endswith("@clickhouse:8123")
    assert env["TRUEVOICE_CLICKHOUSE_READONLY_URL"].startswith("http://analyst:")
    for key in ("TRUEVOICE_DATA_DIR", "TRUEVOICE_WEB_PORT", "TRUEVOICE_PARTITIONS"):
        assert key in env, key
    assert worker["deploy"]["replicas"] >= 2
    # each replica needs its own RocksDB directory: an anonymous volume, not a shared named one
    assert env["TRUEVOICE_DATA_DIR"] in worker["volumes"]
    deps = worker["depends_on"]
    assert deps["topics"]["condition"] == "service_completed_successfully"
    assert deps["migrate"]["condition"] == "service_completed_successfully"  # ClickHouse migrated once, first
    assert config["services"]["migrate"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"


def test_dockerfile_non_root_cpu_install():
    text = (REPO / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "USER truevoice" in text
    assert "[gpu]" not in text  # GPU only through --build-arg TRUEVOICE_EXTRAS=gpu
    assert "TRUEVOICE_HOME" not in text and "COPY --chown=truevoice:truevoice onnx" not in text
    for heavy in ("chdb", "torch", "optimum"):  # the image refuses to build with them
        assert heavy in text.split("pip show", 1)[1].splitlines()[0], heavy
    ignore = (REPO / ".dockerignore").read_text().split()
    assert ".venv" in ignore and ".git" in ignore
