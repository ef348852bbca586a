"""The live API of a running worker: GET /api/v1/realtime/{campaign_id}, WS /api/v1/ws/{campaign_id},
WS /api/v1/ws/alerts; bounded per-client queues so a slow or vanished client never holds up the others."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

import aiohttp
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from schemas import Alert, Topics
from streams.web.feed import DropOldestQueue
from streams.web.live import ALERTS_ROUTE, CAMPAIGN_ROUTE
from tests.conftest import wait_until
from tests.test_api import api  # noqa: F401 - a worker of this module's own, made as test_api makes it
from tests.mentions import make_mentions


def headers(worker) -> dict[str, str]:
    """The API key headers of the fixture, once the API takes keys (none before)."""
    return dict(getattr(worker, "headers", None) or {})


def ws_url(worker, path: str) -> str:
    return worker.url.replace("http", "ws", 1) + path


def get_status(worker, path: str) -> tuple[int, dict]:
    req = urllib.request.Request(worker.url + path, headers=headers(worker))
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, orjson.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read())


def create_campaign(worker, campaign_id: str, keyword: str, **extra) -> None:
    status, body = worker.post("/api/campaigns", {"campaign_id": campaign_id, "brand": "b", "keywords": [keyword],
                                                  **extra})
    assert status == 201, body
    wait_until(lambda: get_status(worker, f"/api/v1/realtime/{campaign_id}")[0] == 200, 30, f"campaign {campaign_id}")


def clients_on(worker, route: str) -> float:
    return worker.metrics().get(f'truevoice_websocket_clients{{route="{route}"}}', 0.0)


def raw_websocket(worker, path: str, *, receive_buffer: int | None = None) -> socket.socket:
    """A client that completes the WebSocket handshake and then does what the test says (here:
    never reads, or vanishes)."""
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", worker.web_port))
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers(worker).items())
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{worker.web_port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n")
                 .encode())
    sock.settimeout(10)
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(1)  # byte by byte: nothing after the handshake is read
        assert chunk, "the server closed during the handshake"
        response += chunk
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


async def next_message(ws: aiohttp.ClientWebSocketResponse, timeout: float, want: str | None = None) -> dict:
    """The next message (of type ``want``), within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        msg = await asyncio.wait_for(ws.receive_json(), max(0.01, deadline - time.monotonic()))
        if want is None or msg["type"] == want:
            return msg


# -- realtime numbers ---------------------------------------------------------------------------
def test_realtime_numbers_count_the_campaigns_mentions_and_ticks_carry_the_same(api):
    create_campaign(api, "livetick", "실시간틱")
    now = datetime.now(timezone.utc).isoformat()
    mentions = [dict(m, text=text, posted_at=now) for m, text in zip(
        make_mentions(12, seed=21, prefix="tick"),
        ["실시간틱 진짜 최고 강추", "실시간틱 너무 별로 환불", "실시간틱 그냥 그럼"] * 4)]
    platforms = ["twitter", "blind", "clien"]
    for i, m in enumerate(mentions):
        m["platform"] = platforms[i % 3]
    assert api.post("/api/mentions", mentions)[0] == 202
    wait_until(lambda: get_status(api, "/api/v1/realtime/livetick")[1]["summed"]["mentions"]["60m"] == 12, 60,
               "the mentions in the realtime numbers")
    wait_until(lambda: api.scalar("SELECT count() FROM mentions FINAL WHERE post_id LIKE 'tick-%'") == 12, 60, "rows")
    sentiment, credible = api.sql("SELECT avg(sentiment), countIf(credible) / count() FROM mentions FINAL "
                                   "WHERE post_id LIKE 'tick-%'")[0]

    body = get_status(api, "/api/v1/realtime/livetick")[1]
    summed = body["summed"]
    assert summed["mentions"]["5m"] == 12 and summed["velocity"]["per_minute_60m"] == pytest.approx(12 / 60, abs=1e-3)
    assert summed["sentiment_mean"]["60m"] == pytest.approx(sentiment, abs=1e-3)
    assert summed["credible_share"]["60m"] == pytest.approx(credible, abs=1e-3)
    assert {p: body["platforms"][p]["mentions"]["60m"] for p in platforms} == {p: 4 for p in platforms}
    assert body["platforms"]["youtube"]["mentions"]["60m"] == 0 and body["platforms"]["youtube"]["sentiment_mean"]["60m"] is None

    async def ticks_and_gets() -> None:
        async with aiohttp.ClientSession(headers=headers(api)) as session:
            async with session.ws_connect(ws_url(api, "/api/v1/ws/livetick")) as ws:
                await next_message(ws, 10, "tick")  # the first comes at once, on connecting
                while True:
                    before = await asyncio.to_thread(get_status, api, "/api/v1/realtime/livetick")
                    tick = await next_message(ws, 10, "tick")  # then one every few seconds
                    after = await asyncio.to_thread(get_status, api, "/api/v1/realtime/livetick")
                    if before[1]["minute"] == tick["minute"] == after[1]["minute"]:
                        break  # nothing changed in between: the numbers must be the same
                for body in (before[1], after[1]):
                    assert {k: v for k, v in tick.items() if k not in ("type", "as_of")} == \
                           {k: v for k, v in body.items() if k != "as_of"}
                assert tick["summed"]["mentions"]["60m"] == 12

    asyncio.run(ticks_and_gets())


def test_the_all_mentions_key_counts_every_mention(api):
    def everything() -> dict:
        status, body = get_status(api, "/api/v1/realtime/*")
        assert status == 200 and body["campaign_id"] == "*"
        assert body["summed"]["mentions"]["60m"] == sum(p["mentions"]["60m"] for p in body["platforms"].values())
        return body

    before = everything()["summed"]["mentions"]["60m"]
    now = datetime.now(timezone.utc).isoformat()
    # no campaign matches these: they count under "*" only
    loose = [dict(m, text="어느 캠페인에도 안 걸리는 글", posted_at=now) for m in make_mentions(5, seed=3, prefix="star")]
    assert api.post("/api/mentions", loose)[0] == 202
    wait_until(lambda: everything()["summed"]["mentions"]["60m"] >= before + 5, 60, "the mentions counted under '*'")


@pytest.mark.parametrize("path, status, message", [
    ("/api/v1/realtime/no-such-campaign", 404, "unknown campaign 'no-such-campaign'"),
    ("/api/v1/realtime/a%7Cb", 400, "is not a campaign id"),
    ("/api/v1/realtime/" + "x" * 129, 400, "is not a campaign id"),
    ("/api/v1/realtime/%ED%95%9C%EA%B8%80", 400, "is not a campaign id"),
    ("/api/v1/ws/no-such-campaign", 404, "unknown campaign"),
    ("/api/v1/ws/a%20b", 400, "is not a campaign id"),
    ("/api/v1/ws/alerts?recent=lots", 400, "recent must be an integer"),
    ("/api/v1/ws/alerts?recent=-1", 400, "recent must be an integer from 0 to 100"),
    ("/ws/alerts?recent=1000", 400, "recent must be an integer from 0 to 100"),
])
def test_bad_campaigns_and_parameters_get_a_4xx_with_a_message(api, path, status, message):
    async def handshake() -> tuple[int, dict]:
        async with aiohttp.ClientSession(headers=headers(api)) as session:
            if "/ws/" in path:  # a WebSocket handshake is refused with a plain HTTP answer
                with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                    await session.ws_connect(ws_url(api, path))
                assert info.value.status == status
            async with session.get(api.url + path) as r:
                return r.status, await r.json()

    got, body = asyncio.run(handshake())
    assert got == status and message in body["error"]


def test_a_websocket_route_opened_as_a_page_says_what_it_is(api):
    create_campaign(api, "liveplain", "라이브평문")
    for path in ("/api/v1/ws/liveplain", "/api/v1/ws/alerts", "/ws/alerts"):
        status, body = get_status(api, path)
        assert status == 400 and "open it with a WebSocket client" in body["error"], path


# -- WebSockets -----------------------------------------------------------------------------------
def test_a_spike_reaches_its_campaigns_clients_and_not_other_campaigns(api):
    create_campaign(api, "livespike", "라이브스파이크", min_mentions=25, spike_threshold=3.0)
    create_campaign(api, "livequiet", "라이브조용")
    now = datetime.now(timezone.utc).isoformat()
    burst = [dict(m, text="라이브스파이크 완전 최악 환불해줘", posted_at=now, platform="blind")
             for m in make_mentions(30, seed=14, prefix="lspike")]

    async def listen() -> None:
        async with aiohttp.ClientSession(headers=headers(api)) as session:
            async with session.ws_connect(ws_url(api, "/api/v1/ws/livespike")) as mine, \
                    session.ws_connect(ws_url(api, "/api/v1/ws/livequiet")) as other, \
                    session.ws_connect(ws_url(api, "/api/v1/ws/alerts")) as everything:
                assert (await next_message(other, 10))["type"] == "tick"
                status, _ = await asyncio.to_thread(api.post, "/api/mentions", burst)
                assert status == 202
                alert = await next_message(mine, 60, "alert")
                seen_at = time.time()
                assert alert["campaign_id"] == "livespike" and alert["status"] == "open"
                assert alert["platforms"] == ["blind"] and alert["count"] >= 25
                while (a := await next_message(everything, 30, "alert"))["alert_id"] != alert["alert_id"]:
                    pass
                assert a == alert
                # one client's queue is in order: a tick made after the alert was published comes
                # after it, so what the other campaign's client got before that tick is all it got
                while (msg := await next_message(other, 30))["type"] != "tick" or msg["as_of"] <= seen_at:
                    assert msg["type"] == "tick", msg
                assert msg["campaign_id"] == "livequiet" and msg["summed"]["mentions"]["60m"] == 0

    asyncio.run(listen())


def flood_alerts(campaign_id: str, n: int, size: int, prefix: str) -> list[bytes]:
    now = datetime.now(timezone.utc)
    return [Alert(alert_id=f"{prefix}-{i}", campaign_id=campaign_id, platform="*", kind="velocity", minute=now,
                  count=100, baseline_mean=5.0, baseline_std=2.0, zscore=47.5, sentiment_mean=-0.3,
                  negative_share=0.5, raised_at=now, message="폭주 " * (size // 7)).model_dump_json().encode()
            for i in range(n)]


def test_a_client_that_never_reads_does_not_delay_the_others(api):
    create_campaign(api, "livefast", "라이브빠름")
    route = ALERTS_ROUTE
    base_clients = clients_on(api, route)
    base_dropped = api.metrics().get("truevoice_websocket_messages_dropped_total", 0.0)
    # a small receive buffer and a flood far larger than its socket buffers and its queue (256)
    stuck = raw_websocket(api, route, receive_buffer=4096)
    try:
        wait_until(lambda: clients_on(api, route) == base_clients + 1, 30, "the stuck client connected")
        flood = flood_alerts("livefloodall", 800, 24_000, "flood")
        wanted = flood_alerts("livefast", 1, 1_000, "fast-one")[0]

        async def race() -> float:
            async with aiohttp.ClientSession(headers=headers(api)) as session:
                async with session.ws_connect(ws_url(api, "/api/v1/ws/livefast")) as fast:
                    await next_message(fast, 10, "tick")
                    producer = AIOKafkaProducer(bootstrap_servers=api.broker.bootstrap_servers,
                                                max_request_size=2 * 1024 * 1024)
                    await producer.start()
                    try:
                        for i, value in enumerate(flood):
                            await producer.send(Topics.ALERTS, value, key=f"flood-{i}".encode())
                        await producer.flush()
                        sent = time.monotonic()
                        await producer.send_and_wait(Topics.ALERTS, wanted, key=b"fast-one")
                    finally:
                        await producer.stop()
                    alert = await next_message(fast, 20, "alert")
                    assert alert["alert_id"] == "fast-one-0"
                    return time.monotonic() - sent

        took = asyncio.run(race())
        assert took < 20
        # the stuck client did fall behind: its queue overflowed and its oldest messages were dropped
        wait_until(lambda: api.metrics()["truevoice_websocket_messages_dropped_total"] > base_dropped + 100, 30,
                   "the stuck client's dropped messages counted")
        # it answers no ping either: the heartbeat closes it and the gauge drops
        wait_until(lambda: clients_on(api, route) == base_clients, 60, "the stuck client removed")
    finally:
        stuck.close()


def test_records_that_are_not_alerts_never_stop_the_feed(api):
    create_campaign(api, "livepoison", "라이브독")
    good = flood_alerts("livepoison", 1, 100, "after-poison")[0]
    tenant_key = api.keys.create("default", name="live-poison").key  # its filter reads each alert's campaign

    async def run() -> tuple[dict, dict]:
        async with aiohttp.ClientSession(headers=headers(api)) as session, aiohttp.ClientSession() as keyless:
            async with session.ws_connect(ws_url(api, "/api/v1/ws/livepoison")) as ws, \
                    keyless.ws_connect(ws_url(api, f"/api/v1/ws/alerts?key={tenant_key}")) as tenant:
                await next_message(ws, 10, "tick")
                await next_message(tenant, 10, "tick")
                producer = AIOKafkaProducer(bootstrap_servers=api.broker.bootstrap_servers)
                await producer.start()
                try:
                    for value in (b"not json", b"[1, 2]", b'{"campaign_id": "livepoison"}', b'{"alert_id": 5}',
                                  good.replace(b'"campaign_id":"livepoison"', b'"campaign_id":["livepoison"]'),
                                  b"", None, good):
                        await producer.send_and_wait(Topics.ALERTS, value, key=b"poison")
                finally:
                    await producer.stop()
                return await next_message(ws, 20, "alert"), await next_message(tenant, 20, "alert")

    assert [a["alert_id"] for a in asyncio.run(run())] == ["after-poison-0", "after-poison-0"]


def test_a_client_sending_a_huge_frame_is_closed_and_others_go_on(api):
    create_campaign(api, "livebig", "라이브큰")

    async def run() -> tuple[int | None, dict]:
        async with aiohttp.ClientSession(headers=headers(api)) as session:
            async with session.ws_connect(ws_url(api, "/api/v1/ws/livebig")) as rude, \
                    session.ws_connect(ws_url(api, "/api/v1/ws/livebig")) as calm:
                await rude.send_str("x" * (1024 * 1024))
                while (await rude.receive(10)).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    pass
                await next_message(calm, 10, "tick")
                return rude.close_code, await next_message(calm, 10, "tick")

    code, tick = asyncio.run(run())
    assert code == 1009 and tick["campaign_id"] == "livebig"  # 1009: message too big


def test_vanished_clients_are_removed_and_the_gauge_drops(api):
    create_campaign(api, "livegone", "라이브사라짐")
    path = "/api/v1/ws/livegone"
    base = clients_on(api, CAMPAIGN_ROUTE)
    sockets = [raw_websocket(api, path) for _ in range(3)]
    wait_until(lambda: clients_on(api, CAMPAIGN_ROUTE) == base + 3, 30, "three clients counted")
    for s in sockets:
        s.close()  # gone without a close frame
    wait_until(lambda: clients_on(api, CAMPAIGN_ROUTE) == base, 30, "the vanished clients removed")

    async def polite() -> None:
        async with aiohttp.ClientSession(headers=headers(api)) as session:
            async with session.ws_connect(ws_url(api, path)):
                await asyncio.to_thread(wait_until, lambda: clients_on(api, CAMPAIGN_ROUTE) == base + 1, 30,
                                        "a client counted")

    asyncio.run(polite())
    wait_until(lambda: clients_on(api, CAMPAIGN_ROUTE) == base, 30, "the closed client removed")


def test_the_alerts_route_ticks_with_the_pipeline_and_the_clients(api):
    async def tick() -> dict:
        async with aiohttp.ClientSession(headers=headers(api)) as session:
            async with session.ws_connect(ws_url(api, "/api/v1/ws/alerts")) as ws:
                first = await next_message(ws, 10, "tick")
                assert first["websocket_clients"][ALERTS_ROUTE] >= 1  # itself, already on the first
                return await next_message(ws, 10, "tick")

    body = asyncio.run(tick())
    assert body["websocket_clients"][ALERTS_ROUTE] >= 1 and body["pipeline"]["ready"] is True
    assert {(r["group"], r["topic"]) for r in body["pipeline"]["consumer_lag_records"]} >= {
        ("truevoice.score", "mentions.raw"), ("truevoice.sink", "mentions.scored")}
    assert isinstance(body["pipeline"]["backlog_records"], int)


def test_the_pipeline_ticks_show_mentions_being_scored(api):
    async def busy_tick() -> None:
        async with aiohttp.ClientSession(headers=headers(api)) as session:
            async with session.ws_connect(ws_url(api, "/api/v1/ws/alerts")) as ws:
                await next_message(ws, 10, "tick")
                status, _ = await asyncio.to_thread(api.post, "/api/mentions",
                                                    make_mentions(200, seed=33, prefix="busy"))
                assert status == 202
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    tick = await next_message(ws, 10, "tick")
                    if tick["pipeline"]["scored_per_second"] > 0:
                        return
                raise AssertionError("no tick showed the 200 mentions being scored within 30 s")

    asyncio.run(busy_tick())


# -- the bounded queue ----------------------------------------------------------------------------
def test_a_full_queue_drops_its_oldest_messages_and_says_how_many():
    async def run() -> list[str]:
        q = DropOldestQueue(3)
        for i in range(5):
            q.put(f"m{i}")
        got = [await q.get() for _ in range(4)]
        q.put("m5")
        got.append(await q.get())
        return got

    got = asyncio.run(run())
    assert orjson.loads(got[0]) == {"type": "dropped", "count": 2}
    assert got[1:] == ["m2", "m3", "m4", "m5"]


def test_a_queue_within_its_bound_drops_nothing():
    async def run() -> tuple[list[str], int]:
        q = DropOldestQueue(3)
        out = []
        for i in range(6):
            q.put(f"m{i}")
            out.append(await q.get())
        return out, q.dropped

    assert asyncio.run(run()) == ([f"m{i}" for i in range(6)], 0)


# -- tenancy: a tenant's key reads only its tenant's campaigns (streams.web.auth) --------------------
def test_a_tenants_key_reads_only_its_own_campaigns_and_alerts(api):
    create_campaign(api, "livetenant", "라이브테넌트")  # made with the admin key: tenant "default"
    own = api.keys.create("default", name="live-own").key
    other = api.keys.create("acme", name="live-other").key
    wanted = flood_alerts("livetenant", 1, 100, "tenant-alert")[0]

    def status_with(key: str, path: str) -> int:
        req = urllib.request.Request(api.url + path, headers={"Authorization": f"Bearer {key}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            assert "error" in orjson.loads(exc.read())
            return exc.code

    wait_until(lambda: status_with(own, "/api/v1/realtime/livetenant") == 200, 30, "the new key accepted")
    # an unknown campaign answers as another tenant's does: a key cannot probe which ids exist
    assert {path: status_with(other, path) for path in ("/api/v1/realtime/livetenant", "/api/v1/realtime/nobodys",
                                                        "/api/v1/realtime/*")} == {
        "/api/v1/realtime/livetenant": 403, "/api/v1/realtime/nobodys": 403, "/api/v1/realtime/*": 403}
    assert status_with(own, "/api/v1/realtime/*") == 403  # every tenant's mentions: admins only

    async def run() -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                await session.ws_connect(ws_url(api, f"/api/v1/ws/livetenant?key={other}"))
            assert info.value.status == 403
            async with session.ws_connect(ws_url(api, f"/api/v1/ws/livetenant?key={own}")) as mine, \
                    session.ws_connect(ws_url(api, f"/api/v1/ws/alerts?key={own}")) as own_alerts, \
                    session.ws_connect(ws_url(api, f"/api/v1/ws/alerts?key={other}")) as other_alerts:
                await next_message(other_alerts, 10, "tick")
                producer = AIOKafkaProducer(bootstrap_servers=api.broker.bootstrap_servers)
                await producer.start()
                try:
                    await producer.send_and_wait(Topics.ALERTS, wanted, key=b"tenant")
                finally:
                    await producer.stop()
                assert (await next_message(mine, 20, "alert"))["alert_id"] == "tenant-alert-0"
                assert (await next_message(own_alerts, 20, "alert"))["alert_id"] == "tenant-alert-0"
                seen_at = time.time()
                # the other tenant's queue is in order: a tick made after the alert comes after it
                while (msg := await next_message(other_alerts, 30))["type"] != "tick" or msg["as_of"] <= seen_at:
                    assert msg["type"] == "tick", msg

    asyncio.run(run())
