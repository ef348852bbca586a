"""Structured logs: JSON lines with the correlation id of the request or batch they were written
for; X-Request-ID taken when sane, replaced when hostile, echoed in every response."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import socket
from pathlib import Path

import pytest

from agents.consumer_loop import ConsumerLoop
from schemas.errors import PermanentError, StorageUnavailableError
from streams.kafka.embedded import EmbeddedBroker, free_port
from streams.logs import CorrelationFilter, make_formatter, resolve_format
from streams.web.request_id import MAX_LENGTH, request_id_from
from tests.conftest import WorkerProcess, wait_until, worker_env

FRESH = re.compile(r"[0-9a-f]{32}")

HOSTILE = {
    "newline": "abc\nforged line",
    "carriage return": "abc\r\nX-Evil: 1",
    "10 kB": "a" * 10_000,
    "one too long": "a" * (MAX_LENGTH + 1),
    "non-ASCII": "요청-1",
    "JSON quotes": 'abc","level":"CRITICAL',
    "spaces": "a b",
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_request_ids_are_replaced(name):
    assert FRESH.fullmatch(request_id_from(HOSTILE[name]))


def test_sane_request_ids_are_kept_and_missing_ones_made():
    for sane in ("req-1", "0f8fad5b-d9cb-469f-a165-70867728950e", "trace.abc:def_9", "a" * MAX_LENGTH):
        assert request_id_from(sane) == sane
    made = {request_id_from(None) for _ in range(3)}
    assert len(made) == 3 and all(FRESH.fullmatch(m) for m in made)


class _Isatty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_formats_json_for_workers_text_for_up_on_a_terminal():
    assert resolve_format(None, embedded=False, stream=_Isatty()) == "json"
    assert resolve_format(None, embedded=True, stream=_Isatty()) == "text"
    assert resolve_format(None, embedded=True, stream=io.StringIO()) == "json"  # up into a file
    assert resolve_format("text", embedded=False, stream=io.StringIO()) == "text"


def _raw_get(port: int, path: str, headers: bytes = b"") -> tuple[int, dict[str, str]]:
    """GET over a plain socket, so header values urllib would refuse can be sent as bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers
                  + b"\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    return status, {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}


def _json_lines(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))  # every JSON-looking line is one whole object
    return out


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("logs")
    with EmbeddedBroker() as broker:
        env = worker_env(broker, tmp / "data", free_port())
        w = WorkerProcess(["worker"], env, tmp / "data", int(env["TRUEVOICE_WEB_PORT"]), tmp / "worker.log").start()
        try:
            yield w
        finally:
            w.kill()


def test_a_request_logs_under_its_id_and_the_response_echoes_it(worker):
    auth = f"Authorization: Bearer {worker.api_key}\r\n".encode()
    status, headers = _raw_get(worker.web_port, "/api/windows?campaign=*", auth + b"X-Request-ID: req-logs-1\r\n")
    assert status == 200 and headers["x-request-id"] == "req-logs-1"
    line = wait_until(lambda: [r for r in _json_lines(worker.log_path) if r.get("correlation_id") == "req-logs-1"],
                      30, "the request's log line")
    (record,) = line
    assert record["route"] == "/api/windows" and record["status"] == 200 and record["level"] == "INFO"
    assert record["time"].endswith("+00:00") and record["logger"] == "streams.web.api"
    # no id sent: one is made, echoed, and logged; errors (401 without a key) carry it too
    status, headers = _raw_get(worker.web_port, "/api/campaigns")
    assert status == 401 and FRESH.fullmatch(headers["x-request-id"])
    made = headers["x-request-id"]
    wait_until(lambda: any(r.get("correlation_id") == made and r.get("status") == 401
                           for r in _json_lines(worker.log_path)), 30, "the 401's log line")


@pytest.mark.parametrize("value", [b"abc\x00def", "요청-1".encode(), b'abc","level":"CRITICAL', b"a" * 5000,
                                   b"a b"])
def test_hostile_request_ids_over_http_are_replaced(worker, value):
    status, headers = _raw_get(worker.web_port, "/health", b"X-Request-ID: " + value + b"\r\n")
    assert status in (200, 400), status  # aiohttp itself refuses some bytes: a 400, never a 500
    if status == 200:
        assert FRESH.fullmatch(headers["x-request-id"]) and headers["x-request-id"].encode() != value
    text = worker.log_path.read_bytes()
    assert value not in text
    _json_lines(worker.log_path)  # still one JSON object a line


def test_ten_kilobyte_header_gets_a_4xx_and_the_worker_goes_on(worker):
    status, _ = _raw_get(worker.web_port, "/health", b"X-Request-ID: " + b"a" * 10_000 + b"\r\n")
    assert 400 <= status < 500
    assert _raw_get(worker.web_port, "/health")[0] == 200


async def _create_topic(bootstrap: str, name: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=50)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topic, v) for v in values])
    finally:
        await producer.stop()


def test_a_batch_logs_under_one_id_through_retries_bisection_and_dead_letters():
    """Real broker, real ConsumerLoop: a batch that fails once (retriable), then holds a poison
    record (bisected, dead-lettered) logs every line under one id; the next batch under another."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter("json"))
    handler.addFilter(CorrelationFilter())
    test_log = logging.getLogger("tests.batch")
    watched = [logging.getLogger("agents.consumer_loop"), test_log]
    for lg in watched:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)

    async def go(bootstrap: str) -> None:
        await _create_topic(bootstrap, "logs.batches")
        tries: list[int] = []
        letters: list[int] = []
        done = asyncio.Event()

        async def handle(records):
            tries.append(len(records))
            test_log.info("handling %d records", len(records))
            if len(tries) == 1:
                raise StorageUnavailableError("ClickHouse is down")
            if any(r.value == b"poison" for r in records):
                raise PermanentError("cannot handle poison")
            if any(r.value == b"second" for r in records):
                done.set()

        async def dead_letter(records, exc):
            letters.extend(r.offset for r in records)

        loop = ConsumerLoop("logs", bootstrap, ["logs.batches"], "logs-test", handle, linger_seconds=1.0,
                            dead_letter=dead_letter)
        loop.retry.initial = 0.01
        await _produce(bootstrap, "logs.batches", [b"ok", b"ok", b"poison", b"ok"])
        await loop.start()
        task = asyncio.create_task(loop.run())
        try:
            await asyncio.wait_for(_until(lambda: loop.batches == 1), 60)
            await _produce(bootstrap, "logs.batches", [b"second"])
            await asyncio.wait_for(done.wait(), 60)
        finally:
            await loop.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert letters == [2]

    try:
        with EmbeddedBroker() as broker:
            asyncio.run(go(broker.bootstrap_servers))
    finally:
        for lg in watched:
            lg.removeHandler(handler)
            lg.setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_id: dict[str, list[str]] = {}
    for line in lines:
        by_id.setdefault(line["correlation_id"], []).append(line["message"])
    first = [msgs for msgs in by_id.values() if any("poison" in m for m in msgs)]
    (first,) = first
    assert any("failed, retrying" in m for m in first) and any("bisecting" in m for m in first)
    assert any("is dead-lettered" in m for m in first)
    assert sum(m.startswith("handling") for m in first) >= 5  # the try, the retry and the halves
    ids = [i for i in by_id if i != "-"]
    assert len(ids) == 2 and all(i.startswith("logs-") for i in ids)


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.01)


def test_a_bad_log_format_is_named_without_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUEVOICE_")}
    env.update(TRUEVOICE_LOG_FORMAT="xml", TRUEVOICE_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.run([sys.executable, "-m", "streams.cli", "worker"], env=env, capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: TRUEVOICE_LOG_FORMAT: Input should be 'json' or 'text'"
    assert not (tmp_path / "data").exists()


def test_websocket_handshakes_and_raised_errors_echo_the_id():
    """The echo rides on every prepared response: a handler that prepares its own (a WebSocket)
    and an HTTP exception raised deep inside a handler carry it too."""
    import aiohttp
    from aiohttp import web

    from streams.web.request_id import install

    async def ws(request):
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        await sock.close()
        return sock

    async def missing(request):
        raise web.HTTPNotFound(text="no such thing")

    async def go() -> tuple[str, str, str]:
        app = web.Application()
        app.add_routes([web.get("/ws", ws), web.get("/missing", missing)])
        install(app)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(f"http://127.0.0.1:{port}/ws", headers={"X-Request-ID": "ws-1"}) as s:
                    ws_id = s._response.headers["X-Request-ID"]
                async with session.get(f"http://127.0.0.1:{port}/missing", headers={"X-Request-ID": "nf-1"}) as r:
                    assert r.status == 404
                    nf_id = r.headers["X-Request-ID"]
                async with session.get(f"http://127.0.0.1:{port}/nowhere", headers={"X-Request-ID": "a\tb"}) as r:
                    made = r.headers["X-Request-ID"]
            return ws_id, nf_id, made
        finally:
            await runner.cleanup()

    ws_id, nf_id, made = asyncio.run(go())
    assert (ws_id, nf_id) == ("ws-1", "nf-1") and FRESH.fullmatch(made)


def test_the_log_is_lines_of_json_with_no_terminal_codes(worker):
    """Last in this module, so the worker's start-up has long ended: Faust's start-up spinner wrote
    a cursor code with no newline that glued itself to the next JSON line of a log file."""
    text = worker.log_path.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\b" not in text
