"""``truevoice spikes FILE``: the spike detector over a count series, row by row, as the stream runs it."""

from __future__ import annotations

import argparse
import csv
import math
import sys
from datetime import datetime
from typing import Iterable, Iterator

DESCRIPTION = """\
Read a CSV of one count series (header `timestamp,value`, one row per time bucket, timestamps
increasing, ISO 8601 like 2015-02-26 21:42:53; naive times are UTC) and print it again with two
more columns: `anomaly_score` (0-1) and `alert` (0/1), computed causally by the stream's spike
detector (scoring.anomaly.VolumeDetector): each row's values depend on that row and the rows
before it only. FILE `-` reads stdin. The bucket width is the median gap of the first rows."""


class SeriesError(ValueError):
    """A bad input file, with the line at fault."""


def add_spikes_command(sub) -> None:
    p = sub.add_parser("spikes", help="score a timestamp,value CSV for volume spikes, print it with "
                                      "anomaly_score,alert", description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Example: truevoice spikes ../shared/data/nab/realTweets/Twitter_volume_AAPL.csv "
                              "| head")
    p.add_argument("file", metavar="FILE", help="CSV with header timestamp,value; - for stdin")
    p.add_argument("--threshold", type=float, default=None,
                   help="anomaly_score at which to alert, in (0, 1] (default 0.8)")
    p.set_defaults(func=cmd_spikes)


def read_series(lines: Iterable[str]) -> Iterator[tuple[datetime, float]]:
    """(timestamp, value) rows of a ``timestamp,value`` CSV, checked; SeriesError names the line."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != ["timestamp", "value"]:
        raise SeriesError(f"line 1: the header must be timestamp,value (got {','.join(header or [])!r})")
    last = None
    for row in reader:
        line = reader.line_num
        if not row or not "".join(row).strip():
            continue
        if len(row) != 2:
            raise SeriesError(f"line {line}: expected 2 fields (timestamp,value), got {len(row)}")
        try:
            ts = datetime.fromisoformat(row[0].strip())
        except ValueError:
            raise SeriesError(f"line {line}: unparseable timestamp {row[0]!r}") from None
        try:
            value = float(row[1])
        except ValueError:
            raise SeriesError(f"line {line}: unparseable value {row[1]!r}") from None
        if not math.isfinite(value):
            raise SeriesError(f"line {line}: value {row[1]!r} is not a finite number")
        if last is not None and (ts.tzinfo is None) != (last.tzinfo is None):
            raise SeriesError(f"line {line}: timestamps mix time zones and naive times")
        if last is not None and ts <= last:
            raise SeriesError(f"line {line}: timestamp {row[0]} does not come after the previous one")
        last = ts
        yield ts, value


def detect_rows(rows: Iterable[tuple[datetime, float]], **params) -> Iterator[tuple[datetime, float, float, int]]:
    """(timestamp, value, anomaly_score, alert) per row, from one detector fed in order."""
    from scoring.anomaly import VolumeDetector

    detector = VolumeDetector(**params)
    for ts, value in rows:
        score, alert = detector.update(ts, value)
        yield ts, value, score, int(alert)


def _text(ts: datetime, value: float) -> tuple[str, str]:
    return ts.isoformat(sep=" "), (str(int(value)) if value.is_integer() else repr(value))


def cmd_spikes(args: argparse.Namespace) -> int:
    params = {} if args.threshold is None else {"threshold": args.threshold}
    if args.threshold is not None and not 0.0 < args.threshold <= 1.0:
        return _fail("--threshold must be in (0, 1]")
    try:
        fh = sys.stdin if args.file == "-" else open(args.file, newline="", encoding="utf-8")
    except OSError as exc:
        return _fail(f"{args.file}: {exc.strerror}")
    out = csv.writer(sys.stdout, lineterminator="\n")
    try:
        with fh:
            out.writerow(["timestamp", "value", "anomaly_score", "alert"])
            for ts, value, score, alert in detect_rows(read_series(fh), **params):
                out.writerow([*_text(ts, value), f"{score:.4f}", alert])
    except SeriesError as exc:
        return _fail(f"{args.file}: {exc}")
    except UnicodeDecodeError:
        return _fail(f"{args.file}: not UTF-8 text")
    except BrokenPipeError:  # `| head`
        sys.stderr.close()
        return 0
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2
