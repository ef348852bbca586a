"""`truevoice spikes FILE`: the stream's spike detector over a timestamp,value CSV."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest

from streams.cli import main
from tests.conftest import REPO

AAPL = REPO.parent / "shared" / "data" / "nab" / "realTweets" / "Twitter_volume_AAPL.csv"


def run(capsys, *args: str) -> tuple[int, list[dict], str]:
    rc = main(["spikes", *args])
    out, err = capsys.readouterr()
    return rc, list(csv.DictReader(io.StringIO(out))), err


@pytest.fixture
def series(tmp_path):
    assert AAPL.is_file(), f"the NAB dev series belong in {AAPL.parent} (../shared/data/nab)"
    return AAPL


def test_real_series(capsys, series):
    rc, rows, err = run(capsys, str(series))
    assert rc == 0 and err == ""
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "alert"]
    assert len(rows) == 15902  # every input row
    assert rows[0]["timestamp"] == "2015-02-26 21:42:53" and rows[0]["value"] == "104"
    scores = [float(r["anomaly_score"]) for r in rows]
    assert all(0.0 <= s <= 1.0 for s in scores)
    alerts = [r for r in rows if r["alert"] == "1"]
    assert 3 <= len(alerts) <= 30 and {r["alert"] for r in rows} == {"0", "1"}
    assert all(float(r["anomaly_score"]) >= 0.8 for r in alerts)


def test_causal_first_rows_do_not_depend_on_later_ones(capsys, series, tmp_path):
    lines = series.read_text().splitlines()
    n = 6000
    head = tmp_path / "head.csv"
    head.write_text("\n".join(lines[:n + 1]) + "\n")
    _, whole, _ = run(capsys, str(series))
    _, part, _ = run(capsys, str(head))
    assert len(part) == n and part == whole[:n]


def test_stdin_and_threshold(tmp_path):
    text = "timestamp,value\n" + "".join(f"2026-05-01 00:{m:02d}:00,{3 if m == 30 else 1}\n" for m in range(60))
    out = subprocess.run([sys.executable, "-m", "streams.cli", "spikes", "-", "--threshold", "0.5"], input=text,
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 60 and rows[30]["value"] == "3" and all(r["alert"] == "0" for r in rows)  # warm-up


def test_help():
    out = subprocess.run([str(REPO / ".venv" / "bin" / "truevoice"), "spikes", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "anomaly_score" in out.stdout and "causally" in out.stdout


@pytest.mark.parametrize("content, message", [
    ("time,count\n2026-05-01 00:00:00,1\n", "line 1: the header must be timestamp,value"),
    ("", "line 1: the header must be timestamp,value"),
    ("timestamp,value\n2026-05-01 00:00:00,1\nyesterday,2\n", "line 3: unparseable timestamp 'yesterday'"),
    ("timestamp,value\n2026-05-01 00:00:00,1\n2026-05-01 00:01:00,many\n", "line 3: unparseable value 'many'"),
    ("timestamp,value\n2026-05-01 00:00:00,nan\n", "line 2: value 'nan' is not a finite number"),
    ("timestamp,value\n2026-05-01 00:00:00,1,2\n", "line 2: expected 2 fields"),
    ("timestamp,value\n2026-05-01 00:01:00,1\n2026-05-01 00:00:00,1\n",
     "line 3: timestamp 2026-05-01 00:00:00 does not come after the previous one"),
    ("timestamp,value\n2026-05-01 00:01:00,1\n2026-05-01 00:01:00,1\n", "line 3: timestamp"),
])
def test_bad_input(capsys, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    rc, _, err = run(capsys, str(path))
    assert rc == 2 and f"error: {path}: {message}" in err


def test_missing_file(capsys, tmp_path):
    rc, _, err = run(capsys, str(tmp_path / "nope.csv"))
    assert rc == 2 and "nope.csv: No such file or directory" in err
