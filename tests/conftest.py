"""Shared fixtures: a real Tansu broker on a free loopback port, and real worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import orjson
import pytest
import urllib.request
import urllib.error

from streams.kafka.embedded import EmbeddedBroker, free_port
from streams.keystore import KEYS_FILE, KeyStore

REPO = Path(__file__).resolve().parent.parent
# a production worker refuses to start without a salt; one per test session, never a published one
TEST_SALT = os.urandom(16).hex()


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.1) -> object:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as b:
        yield b


class WorkerProcess:
    """``truevoice worker`` (or ``up``) in a subprocess, driven over its HTTP API.

    Before it starts, an admin key is made in its key file (``api_key``; ``headers`` carries it);
    the helpers below send it. ``make_key=False`` leaves the key file alone (``up``'s first key).
    """

    def __init__(self, args: list[str], env: dict[str, str], data_dir: Path, web_port: int, log: Path,
                 *, make_key: bool = True) -> None:
        self.args, self.env, self.data_dir, self.web_port, self.log_path = args, env, data_dir, web_port, log
        self.proc: subprocess.Popen | None = None
        self.make_key = make_key
        self.api_key: str | None = None

    @property
    def keys(self) -> KeyStore:
        """The key file this worker reads."""
        return KeyStore(Path(self.env.get("TRUEVOICE_API_KEYS_FILE") or self.data_dir / KEYS_FILE))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self, timeout: float = 90) -> "WorkerProcess":
        self.log = open(self.log_path, "ab")
        if self.make_key and self.api_key is None:
            self.api_key = self.keys.create("default", admin=True, name="tests").key
        # its own process group, like a command started from a terminal
        self.proc = subprocess.Popen([sys.executable, "-m", "streams.cli", *self.args], env=self.env, cwd=REPO,
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_until(self._ready, timeout, f"worker ready ({self.log_path})")
        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(self.url + "/ready", timeout=2) as r:
                return orjson.loads(r.read())["ready"]
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def get(self, path: str) -> dict:
        req = urllib.request.Request(self.url + path, headers=self.headers)
        with urllib.request.urlopen(req, timeout=30) as r:
            return orjson.loads(r.read())

    def post(self, path: str, body: object) -> tuple[int, dict]:
        req = urllib.request.Request(self.url + path, data=orjson.dumps(body),
                                     headers={"Content-Type": "application/json", **self.headers})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, orjson.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, orjson.loads(exc.read())

    def sql(self, query: str) -> list[tuple]:
        status, body = self.post("/api/sql", {"sql": query})
        assert status == 200, body
        return [tuple(r) for r in body["rows"]]

    def scalar(self, query: str) -> object:
        return self.sql(query)[0][0]

    def metrics(self) -> dict[str, float]:
        """/metrics as {"name" or "name{labels}": value} (Prometheus text, comments left out)."""
        req = urllib.request.Request(self.url + "/metrics", headers=self.headers)
        with urllib.request.urlopen(req, timeout=30) as r:
            lines = r.read().decode().splitlines()
        return {k: float(v) for k, _, v in (line.rpartition(" ") for line in lines if line and line[0] != "#")}

    def children(self) -> list[int]:
        """PIDs of this worker's child processes (its scoring process)."""
        assert self.proc is not None
        kids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                kids.append(int(stat.parent.name))
        return kids

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 90, *, group: bool = False) -> int:
        """Send ``sig`` (to the whole process group with ``group``, as a terminal's Ctrl-C does)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"worker did not stop on signal {sig}:\n{self.log_path.read_text()[-4000:]}")


def worker_env(broker: EmbeddedBroker | None, data_dir: Path, web_port: int) -> dict[str, str]:
    """The environment of a worker under test: its own data dir, port and broker.

    Model choices pass through (to run the suite over other models); the rest is the test's.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TRUEVOICE_") or k in ("TRUEVOICE_MODEL_ROOT", "TRUEVOICE_ORT_THREADS")}
    env.update(TRUEVOICE_DATA_DIR=str(data_dir), TRUEVOICE_WEB_PORT=str(web_port), TRUEVOICE_LOG_LEVEL="INFO",
               PYTHONUNBUFFERED="1", TRUEVOICE_ANON_SALT=TEST_SALT)
    if broker is not None:
        env["TRUEVOICE_BROKER_URL"] = broker.url
    return env


@pytest.fixture
def worker_factory(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def make(broker: EmbeddedBroker | None, *, command: str = "worker", extra: list[str] | None = None,
             data_dir: Path | None = None, web_port: int | None = None, make_key: bool = True) -> WorkerProcess:
        data_dir = data_dir or tmp_path / "data"
        web_port = web_port or free_port()
        env = worker_env(broker, data_dir, web_port)
        if command == "up":
            env.pop("TRUEVOICE_ANON_SALT")  # up makes its own, in the data directory
        w = WorkerProcess([command, *(extra or [])], env, data_dir, web_port, tmp_path / f"{command}-{len(started)}.log",
                          make_key=make_key)
        started.append(w)
        return w

    yield make
    for w in started:
        if w.proc is not None and w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()
