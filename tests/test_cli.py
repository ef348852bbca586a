"""The `truevoice` command against a real broker and worker: topics, replay with progress; `sql` as a
user meets it without data, into `head`, with an empty result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import REPO, wait_until
from tests.mentions import make_mentions
from tests.test_up import truevoice


def test_topics_create_then_list_shows_partition_counts(broker):
    created = truevoice("topics", "create", "--broker-url", broker.url, "--partitions", "3")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("created: mentions.raw, mentions.scored")
    listed = truevoice("topics", "list", "--broker-url", broker.url)
    rows = {line.split()[0]: int(line.split()[1]) for line in listed.stdout.splitlines()}
    assert rows["mentions.raw"] == 3 and rows["alerts.spikes"] == 3 and rows["campaigns"] == 1 and rows["alerts.ops"] == 1
    again = truevoice("topics", "create", "--broker-url", broker.url)
    assert "created: nothing (all topics exist)" in again.stdout


def test_replay_sends_a_file_with_progress_and_bad_lines_are_dead_lettered(broker, worker_factory, tmp_path):
    worker = worker_factory(broker).start()
    good = make_mentions(50, seed=5, prefix="r")
    path = tmp_path / "mentions.jsonl"
    lines = [orjson.dumps(m) for m in good[:25]] + [b"{broken"] + [orjson.dumps(m) for m in good[25:]]
    path.write_bytes(b"\n".join(lines) + b"\n")

    out = truevoice("replay", str(path), "--broker-url", broker.url)
    assert out.returncode == 0, out.stderr
    assert "sent 51 records" in out.stdout
    assert "100%" in out.stderr and "51/51" in out.stderr  # the progress bar

    wait_until(lambda: worker.scalar("SELECT count() FROM mentions FINAL") == 50, 60, "replayed rows")
    wait_until(lambda: worker.scalar("SELECT count() FROM deadletter FINAL") == 1, 60, "the broken line")
    assert worker.scalar("SELECT raw FROM deadletter FINAL") == "{broken"


def test_replay_of_a_missing_file_is_a_clear_error(broker, tmp_path):
    out = truevoice("replay", str(tmp_path / "nope.jsonl"), "--broker-url", broker.url)
    assert out.returncode != 0 and "nope.jsonl" in out.stderr and "Traceback" not in out.stderr


def _no_truevoice_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("TRUEVOICE_")}


@pytest.mark.parametrize("command", [["sql", "SELECT 1"], ["predict", "accuracy"]])
def test_read_only_commands_without_data_say_so_and_create_nothing(command, tmp_path):
    out = truevoice(*command, env=_no_truevoice_env(), cwd=tmp_path)
    assert out.returncode != 0 and "no TrueVoice data in" in out.stderr and "--data-dir" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "data").exists()
    elsewhere = truevoice(*command, "--data-dir", str(tmp_path / "nope"), env=_no_truevoice_env(), cwd=tmp_path)
    assert elsewhere.returncode != 0 and "nope" in elsewhere.stderr and not (tmp_path / "nope").exists()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data directory with the schema (embedded ClickHouse) and no mentions."""
    path = tmp_path_factory.mktemp("cli") / "data"
    out = truevoice("migrate", "--data-dir", str(path), env=_no_truevoice_env())
    assert out.returncode == 0, out.stderr
    return path


def test_sql_into_head_ends_quietly(data_dir):
    """`truevoice sql ... | head -1`: the closed pipe ends the command without a traceback."""
    sql = subprocess.Popen([sys.executable, "-m", "streams.cli", "sql", "--data-dir", str(data_dir),
                            "SELECT number FROM numbers(50000)"], cwd=REPO, env=_no_truevoice_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-1"], stdin=sql.stdout, stdout=subprocess.PIPE)
    sql.stdout.close()  # head alone holds the pipe's read end
    first, _ = head.communicate(timeout=120)
    stderr = sql.stderr.read().decode() if sql.stderr else ""
    assert sql.wait(timeout=120) in (0, 128 + signal.SIGPIPE), stderr
    assert first.decode().startswith("+--") and stderr == ""


def test_sql_empty_result_prints_the_columns(data_dir):
    query = "SELECT number AS n, toString(number) AS label FROM numbers(0)"
    table = truevoice("sql", "--data-dir", str(data_dir), query, env=_no_truevoice_env())
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[1].split() == ["|", "n", "|", "label", "|"] and lines[-1] == "0 rows", table.stdout
    as_json = truevoice("sql", "--json", "--data-dir", str(data_dir), query, env=_no_truevoice_env())
    assert as_json.returncode == 0 and as_json.stdout == "", as_json.stderr  # JSON lines: no rows, no lines
    assert "0 rows; columns: n, label" in as_json.stderr
