"""The `truevoice` command against a real broker and worker: topics, replay with progress."""

from __future__ import annotations

import orjson

from tests.conftest import wait_until
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
