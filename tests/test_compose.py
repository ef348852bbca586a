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
    "TRUEVOICE_API_KEYS_DIR": "/srv/truevoice-keys",
}
TRUEVOICE_SERVICES = ("topics", "migrate", "worker", "api")


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


def _resolved() -> dict:
    proc = _config(SECRETS)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)["services"]


def _published(service: dict) -> list[str]:
    """Each published port as docker-compose resolved it: "host_ip:published:target/proto"."""
    return [p if isinstance(p, str) else f"{p.get('host_ip', '')}:{p.get('published')}:{p['target']}"
            for p in service.get("ports", [])]


def test_only_the_api_is_published_and_only_on_loopback():
    services = _resolved()
    for name, service in services.items():
        assert service.get("network_mode") != "host", name
        if name != "api":
            assert not service.get("ports") and not service.get("expose"), f"{name} publishes {service.get('ports')}"
    (api,) = _published(services["api"])
    assert api.startswith("127.0.0.1:6066:6066"), api


def test_healthchecks_ask_ready():
    services = _resolved()
    for name in ("worker", "api"):
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert "/ready" in probe and "/health" not in probe, name
    docker_check = (REPO / "Dockerfile").read_text().split("HEALTHCHECK", 1)[1]
    assert "/ready" in docker_check and "/health" not in docker_check


def test_the_api_is_behind_keys_from_a_read_only_folder():
    services = _resolved()
    for name in ("worker", "api"):
        service = services[name]
        keys_file = service["environment"]["TRUEVOICE_API_KEYS_FILE"]
        folder = keys_file.rsplit("/", 1)[0]
        mounts = [v for v in service["volumes"] if isinstance(v, str) and v.split(":")[1:2] == [folder]]
        assert mounts == [f"{SECRETS['TRUEVOICE_API_KEYS_DIR']}:{folder}:ro"], service["volumes"]
        # every worker reads the same keys, so a key works on any of them and a revoke on all
        assert "TRUEVOICE_API_KEYS_DIR" not in service["environment"]


def test_no_password_or_secret_has_a_value_in_the_files():
    import re
    import xml.etree.ElementTree as ET

    raw = _load()
    envs = [raw["x-truevoice-env"]] + [s.get("environment", {}) for s in raw["services"].values()]
    for env in envs:
        for key, value in env.items():
            if re.search(r"PASSWORD|SECRET|SALT|TOKEN", key) or re.search(r"PASSWORD|SECRET|SALT", str(value)):
                assert re.search(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), f"{key} has a value of its own: {value}"
    for xml in (REPO / "clickhouse" / "users.d").glob("*.xml"):
        root = ET.parse(xml).getroot()
        for user in root.iter("users"):
            for node in user.iter():
                if node.tag.startswith("password"):
                    assert not (node.text or "").strip() and node.get("from_env"), f"{xml.name}: {node.tag}"
    resolved = _config(SECRETS).stdout
    assert "secret" not in resolved.replace("secrets", "")  # the old default password is gone
