"""API keys, tenants and rate limits, against a real worker and the real ``truevoice keys`` command.

Tenants acme and bolt each get a key (made with the CLI); the worker's own admin key comes from
the fixture (conftest.WorkerProcess).
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web

from streams.kafka.embedded import EmbeddedBroker, free_port
from streams.keystore import KeyStore
from streams.web.auth import ApiKeyAuth
from tests.conftest import REPO, WorkerProcess, wait_until, worker_env
from tests.mentions import make_mentions


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUEVOICE_")}
    return subprocess.run([sys.executable, "-m", "streams.cli", *args, "--data-dir", str(data_dir)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)


def make_key(data_dir: Path, tenant: str, *extra: str) -> str:
    done = cli(data_dir, "keys", "create", "--tenant", tenant, *extra)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def call(url: str, path: str, key: str | None = None, body: object = None, *,
         header: str = "Authorization") -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of one request, sending ``key`` in ``header``."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers[header] = f"Bearer {key}" if header == "Authorization" else key
    data = orjson.dumps(body) if body is not None else None
    req = urllib.request.Request(url + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            raw, status, got = r.read(), r.status, dict(r.headers)
    except urllib.error.HTTPError as exc:
        raw, status, got = exc.read(), exc.code, dict(exc.headers)
    try:
        return status, orjson.loads(raw), got
    except orjson.JSONDecodeError:
        return status, {"text": raw.decode(errors="replace")}, got


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("auth")
    with EmbeddedBroker() as broker:
        port = free_port()
        worker = WorkerProcess(["worker"], worker_env(broker, tmp / "data", port), tmp / "data", port,
                               tmp / "worker.log").start()
        worker.acme = make_key(worker.data_dir, "acme", "--name", "acme analyst")
        worker.bolt = make_key(worker.data_dir, "bolt")
        try:
            yield worker
        finally:
            worker.stop()


PROTECTED = [("GET", "/api/campaigns"), ("POST", "/api/sql"), ("GET", "/api/alerts"), ("GET", "/api/windows"),
             ("GET", "/api/predictions"), ("POST", "/api/mentions"), ("GET", "/api/accuracy"),
             ("GET", "/api/v1/realtime/x"), ("GET", "/api/nowhere")]


@pytest.mark.parametrize("method,path", PROTECTED)
def test_no_key_or_a_wrong_key_gets_401(api, method, path):
    body = {"sql": "SELECT 1"} if method == "POST" else None
    wrong = "tv_000000000000_" + "A" * 43
    typo = api.api_key[:-1] + ("B" if api.api_key[-1] != "B" else "C")
    for key in (None, wrong, typo, "not-a-key", "", api.api_key + " extra", api.api_key.upper(), "tv_ÿþ" * 10,
                "tv_" + api.api_key.split("_")[1] + "_" + "A" * 1000):
        status, got, headers = call(api.url, path, key, body)
        assert status == 401, (key, got)
        assert got["error"] and headers["WWW-Authenticate"].startswith("Bearer")
    # another scheme is not a key either
    req = urllib.request.Request(api.url + path, headers={"Authorization": f"Basic {api.api_key}"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=30)
    assert info.value.code == 401


def test_a_malformed_authorization_header_is_a_4xx(api):
    """Bytes no client library would send, on a raw socket: never a 5xx, never let through."""
    import socket

    for value in (b"Bearer \xff\xfe\xfd", b"Bearer tv_\x00abc", b"Bearer " + b"A" * 9000, b"\xc3\x28"):
        with socket.create_connection(("127.0.0.1", api.web_port), timeout=30) as conn:
            conn.sendall(b"GET /api/campaigns HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: " + value
                         + b"\r\n\r\n")
            status = int(conn.makefile("rb").readline().split()[1])
        assert status in (400, 401, 431), (value[:20], status)


@pytest.mark.parametrize("path", ["/health/../api/campaigns", "/api/campaigns/", "//api/campaigns", "/API/campaigns",
                                  "/api%2Fcampaigns", "/metrics/../api/alerts", "/static/../api/alerts",
                                  "/api/v1/openapi.json/../../campaigns"])
def test_a_path_that_looks_open_never_reaches_a_closed_route(api, path):
    """Openness follows the route that matched, not the path's text: no spelling opens a closed route."""
    status, body, _ = call(api.url, path)
    assert status in (401, 404), (path, status, body)
    assert "campaigns" not in body and "alerts" not in body


def test_open_routes_need_no_key(api):
    for path in ("/", "/health", "/ready", "/metrics"):
        status, _, _ = call(api.url, path)
        assert status == 200, path


def test_the_key_in_either_header(api):
    assert call(api.url, "/api/campaigns", api.acme)[0] == 200
    assert call(api.url, "/api/campaigns", api.acme, header="X-API-Key")[0] == 200
    # ?key= is for WebSocket handshakes only (a URL ends up in logs and histories)
    assert call(api.url, f"/api/campaigns?key={api.acme}")[0] == 401


def test_websockets_take_the_key_as_a_header_or_a_query_parameter(api):
    ws_url = api.url.replace("http", "ws") + "/ws/alerts"

    async def status_of(url: str, headers: dict | None = None) -> int:
        async with aiohttp.ClientSession(headers=headers) as session:
            try:
                async with session.ws_connect(url):
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    assert asyncio.run(status_of(ws_url)) == 401
    assert asyncio.run(status_of(ws_url + "?key=tv_000000000000_" + "A" * 43)) == 401
    assert asyncio.run(status_of(ws_url + f"?key={api.acme}")) == 101
    assert asyncio.run(status_of(ws_url, {"Authorization": f"Bearer {api.acme}"})) == 101


def test_a_revoked_key_stops_working_on_the_running_server(api):
    key = make_key(api.data_dir, "acme", "--name", "short-lived")
    assert call(api.url, "/api/campaigns", key)[0] == 200
    key_id = key.split("_")[1]
    done = cli(api.data_dir, "keys", "revoke", key_id)
    assert done.returncode == 0 and key_id in done.stdout
    status, body, _ = call(api.url, "/api/campaigns", key)
    assert status == 401 and "revoked" in body["error"]
    assert call(api.url, "/api/campaigns", api.acme)[0] == 200  # the others still work


def test_the_keys_command_never_shows_or_stores_a_key(api, tmp_path):
    data = tmp_path / "keys"
    created = cli(data, "keys", "create", "--tenant", "acme", "--name", "ci")
    assert created.returncode == 0
    key = created.stdout.strip()
    assert key.startswith("tv_") and "shown only now" in created.stderr
    admin = make_key(data, "ops", "--admin")
    secret = key.split("_", 2)[2]  # tv_<hex id>_<secret>: the url-safe secret may hold "_" itself
    path = data / "api_keys.json"
    text = path.read_text()
    for k in (key, admin):
        assert k not in text and k.split("_", 2)[2] not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = cli(data, "keys", "list")
    assert listed.returncode == 0 and "acme" in listed.stdout and "ci" in listed.stdout
    assert secret not in listed.stdout and key not in listed.stdout
    as_json = [orjson.loads(line) for line in cli(data, "keys", "list", "--json").stdout.splitlines()]
    assert {(r["tenant"], r["admin"]) for r in as_json} == {("acme", False), ("ops", True)}
    assert all("sha256" not in r for r in as_json) and secret not in repr(as_json)
    revoked = cli(data, "keys", "revoke", key.split("_")[1])
    assert revoked.returncode == 0
    assert "revoked" in cli(data, "keys", "list").stdout
    # mistakes are errors with a message, not tracebacks
    for args in (("keys", "revoke", "nope"), ("keys", "create", "--tenant", "Bad Tenant!"),
                 ("keys", "create", "--tenant", "x" * 41)):
        done = cli(data, *args)
        assert done.returncode != 0 and done.stderr.startswith("error:") and "Traceback" not in done.stderr


def test_a_damaged_key_file_refuses_every_key(tmp_path):
    path = tmp_path / "api_keys.json"
    store = KeyStore(path)
    key = store.create("acme").key
    path.write_text("{not json")
    with pytest.raises(Exception, match="damaged"):
        store.authenticate(key)


# -- tenants -------------------------------------------------------------------------------------
def _campaign(cid: str, keyword: str, **extra) -> dict:
    return {"campaign_id": cid, "brand": cid, "keywords": [keyword], **extra}


@pytest.fixture(scope="module")
def campaigns(api):
    for key, cid, word in ((api.acme, "acme-c", "에이크미테스트"), (api.bolt, "bolt-c", "볼트테스트")):
        status, body, _ = call(api.url, "/api/campaigns", key, _campaign(cid, word, min_mentions=25))
        assert status == 201, body
    for key, cid in ((api.acme, "acme-c"), (api.bolt, "bolt-c")):
        wait_until(lambda k=key, c=cid: any(x["campaign_id"] == c for x in call(api.url, "/api/campaigns", k)[1]
                                            ["campaigns"]), 30, f"campaign {cid} listed for its tenant")
    return {"acme": "acme-c", "bolt": "bolt-c"}


def test_a_tenant_lists_only_its_campaigns(api, campaigns):
    ids = lambda key: {c["campaign_id"] for c in call(api.url, "/api/campaigns", key)[1]["campaigns"]}  # noqa: E731
    assert ids(api.acme) == {"acme-c"}
    assert ids(api.bolt) == {"bolt-c"}
    assert {"acme-c", "bolt-c"} <= ids(api.api_key)  # admin: every tenant


def test_a_tenant_cannot_touch_another_tenants_campaign(api, campaigns):
    for status, body, _ in (
            call(api.url, "/api/windows?campaign=bolt-c", api.acme),
            call(api.url, "/api/windows?campaign=*", api.acme),  # every mention of every tenant
            call(api.url, "/api/windows?campaign=no-such-campaign", api.acme),
            call(api.url, "/api/predictions?campaign=bolt-c", api.acme),
            call(api.url, "/api/predictions", api.acme, {"campaign_id": "bolt-c"}),
            call(api.url, "/api/outcomes", api.acme, {"campaign_id": "bolt-c", "metric": "brand_sentiment",
                                                      "value": 0.1}),
            # taking over bolt's campaign by its id, or making one for bolt
            call(api.url, "/api/campaigns", api.acme, _campaign("bolt-c", "탈취")),
            call(api.url, "/api/campaigns", api.acme, _campaign("acme-d", "딴거", tenant="bolt"))):
        assert status == 403, body
        assert body["error"]
    assert call(api.url, "/api/windows?campaign=acme-c", api.acme)[0] == 200
    assert call(api.url, "/api/windows?campaign=bolt-c", api.api_key)[0] == 200
    assert call(api.url, "/api/predictions?campaign=acme-c", api.acme)[0] == 200
    assert all(p["campaign_id"] == "acme-c" for p in call(api.url, "/api/predictions", api.acme)[1]["predictions"])
    assert all(r["campaign_id"] == "acme-c" for r in call(api.url, "/api/accuracy", api.acme)[1]["accuracy"])


def test_a_tenant_sees_only_its_alerts(api, campaigns):
    now = datetime.now(timezone.utc).isoformat()
    burst = [dict(m, text="볼트테스트 완전 최악 환불해줘", posted_at=now, platform="blind")
             for m in make_mentions(30, seed=5, prefix="tenant-burst")]
    status, _, _ = call(api.url, "/api/mentions", api.bolt, burst)
    assert status == 202

    def alert_ids(key: str) -> set[str]:
        return {a["campaign_id"] for a in call(api.url, "/api/alerts", key)[1]["alerts"]}

    wait_until(lambda: "bolt-c" in alert_ids(api.api_key), 90, "bolt's alert listed for the admin")
    assert "bolt-c" in alert_ids(api.bolt)
    assert alert_ids(api.acme) <= {"acme-c"}


def test_tenant_sql_over_http_reads_only_the_tenants_rows(api, campaigns):
    wait_until(lambda: api.scalar("SELECT count() FROM campaigns FINAL WHERE campaign_id IN ('acme-c', 'bolt-c')") == 2,
               30, "both campaigns stored")
    status, body, _ = call(api.url, "/api/sql", api.acme, {"sql": "SELECT campaign_id FROM campaigns ORDER BY 1"})
    assert status == 200 and body["rows"] == [["acme-c"]]
    status, body, _ = call(api.url, "/api/sql", api.acme, {"sql": "SELECT campaign_id FROM truevoice.campaigns"})
    assert status == 403 and "truevoice_tenant_acme" in body["error"]
    status, body, _ = call(api.url, "/api/sql", api.api_key, {"sql": "SELECT count() FROM truevoice.campaigns FINAL "
                                                                      "WHERE campaign_id IN ('acme-c', 'bolt-c')"})
    assert status == 200 and body["rows"] == [[2]]


# -- rate limits: the real middleware and key file in an aiohttp server of this process ------------------
async def test_rate_limits_answer_429_with_retry_after(tmp_path):
    keys = KeyStore(tmp_path / "api_keys.json")
    one, two = keys.create("acme").key, keys.create("acme").key
    auth = ApiKeyAuth(keys, per_minute=5)

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"tenant": request.get("principal") and request["principal"].tenant})

    app = web.Application(middlewares=[auth.middleware])
    app.add_routes([web.get("/api/x", ok), web.get("/health", ok), web.get("/metrics", ok)])
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}"

    async def get(path: str, key: str | None, address: str = "127.0.0.1") -> tuple[int, dict, dict]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        # a second loopback address is a second client
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0))) as session:
            async with session.get(url + path, headers=headers) as r:
                return r.status, await r.json(content_type=None), dict(r.headers)

    try:
        assert [(await get("/api/x", one))[0] for _ in range(5)] == [200] * 5
        # the key is spent, from any address
        status, body, headers = await get("/api/x", one, "127.0.0.2")
        assert status == 429 and "this API key" in body["error"] and "5 a minute" in body["error"]
        assert 1 <= int(headers["Retry-After"]) <= 60
        # the address is spent, whatever key it sends, or none (guessing keys is limited too)
        status, body, headers = await get("/api/x", two)
        assert status == 429 and "your address" in body["error"] and 1 <= int(headers["Retry-After"]) <= 60
        assert (await get("/api/x", None))[0] == 429
        # another key from another address still gets through
        three = keys.create("bolt").key
        assert (await get("/api/x", three, "127.0.0.3"))[0] == 200
        # the probes are never limited
        assert (await get("/health", None))[0] == 200 and (await get("/metrics", None))[0] == 200
    finally:
        await runner.cleanup()
