"""The spike detector scored on the Numenta Anomaly Benchmark (NAB), and a NAB scorer.

    .venv/bin/python bench/nab.py                                  # the dev series in ../shared/data/nab
    .venv/bin/python bench/nab.py --data DIR --windows windows.json  # any NAB-layout corpus (e.g. a NAB checkout:
                                                                     # --data NAB/data --windows NAB/labels/combined_windows.json)
    .venv/bin/python bench/nab.py --results NAB/results/ARTime       # score another detector's result files

Every series (``timestamp,value`` CSV; its key in windows.json is its path relative to --data,
e.g. ``realTweets/Twitter_volume_AAPL.csv``) goes through exactly what ``truevoice spikes FILE``
runs (``streams.cli.spikes.detect_rows``: one ``scoring.anomaly.VolumeDetector`` fed row by row),
then it is scored with NAB's rules, written again here from NAB's ``nab/sweeper.py``,
``nab/scorer.py``, ``nab/optimizer.py`` and ``nab/runner.py`` (numenta/NAB v1.1):

* probationary period: the first ``min(floor(0.15 * rows), 750)`` rows of a file are not scored
  (they still place the windows);
* a row inside a window scores ``A_TP * S(p) / S(-1)`` where ``S(p) = 2 / (1 + exp(5 p)) - 1``
  and ``p = -(right - i + 1) / width`` (about -1 at the window's first row, near 0 at its last);
  only the best (= first) detection of a window counts, and a window without one costs ``-A_FN``;
* a row outside every window scores ``A_FP * S(p)`` (negative): before the first window ``-A_FP``,
  after a window ``p = |right - i| / (width - 1)`` of the window before it (so a late detection
  just past a window costs little, one far away the full ``-A_FP``; ``S = -1`` once ``p > 3``);
* raw score = sum over windows + sum over detected rows outside windows; files are summed;
* normalised = ``100 (S - S_null) / (S_perfect - S_null)``: the null detector never detects
  (every scored window costs ``-A_FN``), the perfect one scores ``A_TP`` per labelled window;
* profiles (A_TP, A_FP, A_FN): standard (1, 0.11, 1), reward_low_FP_rate (1, 0.22, 1),
  reward_low_FN_rate (1, 0.11, 2).

Two figures per profile:
* ``alert``: the detector's own ``alert`` column as it is (its fixed threshold); the honest figure;
* ``optimised``: NAB's own procedure, the threshold on ``anomaly_score`` that maximises the summed
  raw score over the scored files (what NAB's leaderboard reports; it sees the labels). Every row
  at or above it is a detection: ``anomaly_score`` stays high for the whole of a spike, and the
  refractory period that makes one alert of a spike lives in ``alert`` only, so this figure is
  low for this detector; the same procedure over the alert threshold is printed last.

And the leave-one-series-out check of the alert threshold: for each series, the alert threshold
(``VolumeDetector(threshold=...)``) is chosen on the other series (standard profile, ``alert``
column) and the series is scored with it; the held-out scores are summed like NAB sums files.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "nab"

PROFILES = {  # NAB config/profiles.json: weights of a true positive, a false positive, a false negative
    "standard": (1.0, 0.11, 1.0),
    "reward_low_FP_rate": (1.0, 0.22, 1.0),
    "reward_low_FN_rate": (1.0, 0.11, 2.0),
}
PROBATION_PERCENT = 0.15


def scaled_sigmoid(position: float) -> float:
    """NAB's ``scaledSigmoid``: 0.987 at -1 (a window's start), 0 at 0 (its end), -1 beyond 3."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_length(rows: int, percent: float = PROBATION_PERCENT) -> float:
    return min(math.floor(percent * rows), percent * 5000)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


@dataclass
class ScoredFile:
    """What NAB's sweeper knows of one file, for one profile: per row, its weighted score if it were
    a detection (``sweep``) and its window (-1: outside every window; rows of the probationary
    period are dropped)."""

    name: str
    sweep: np.ndarray     # float per scored row
    window: np.ndarray    # int per scored row: window index, -1 outside
    scored: np.ndarray    # bool per row of the file: False in the probationary period
    n_windows: int        # windows with at least one scored row (each costs -A_FN when missed)
    n_labelled: int       # windows labelled in the file (each worth A_TP to the perfect detector)
    fn_weight: float


def sweep_file(name: str, timestamps: Sequence[datetime], windows: Iterable[Sequence], profile: str = "standard",
               probation_percent: float = PROBATION_PERCENT) -> ScoredFile:
    """NAB's ``Sweeper.calcSweepScore`` for one file. A window's edges are the first row at or after
    its start and the last row at or before its end (NAB's labels always fall on rows)."""
    tp_w, fp_w, fn_w = PROFILES[profile]
    windows = list(windows)
    ts = np.array([np.datetime64(t) for t in timestamps])
    n = len(ts)
    bounds = []
    for start, end in sorted((np.datetime64(parse_time(a) if isinstance(a, str) else a),
                              np.datetime64(parse_time(b) if isinstance(b, str) else b)) for a, b in windows):
        left, right = int(np.searchsorted(ts, start, "left")), int(np.searchsorted(ts, end, "right")) - 1
        if left <= right:
            bounds.append((left, right))
    max_tp = scaled_sigmoid(-1.0)
    sweep = np.empty(n)
    window = np.full(n, -1)
    prev_right = prev_width = None
    k = 0
    for i in range(n):
        if k < len(bounds) and bounds[k][0] <= i <= bounds[k][1]:
            left, right = bounds[k]
            width = float(right - left + 1)
            sweep[i] = scaled_sigmoid(-(right - i + 1) / width) * tp_w / max_tp
            window[i] = k
            if i == right:
                prev_right, prev_width = right, width
                k += 1
        elif prev_right is None:
            sweep[i] = -1.0 * fp_w
        else:
            # a one-row window would divide by zero here, as in NAB
            sweep[i] = scaled_sigmoid(abs(prev_right - i) / (prev_width - 1.0)) * fp_w
    scored = np.arange(n) >= probation_length(n, probation_percent)
    n_windows = len(set(window[scored][window[scored] >= 0].tolist()))
    return ScoredFile(name, sweep[scored], window[scored], scored, n_windows, len(windows), fn_w)


def raw_score(f: ScoredFile, detected: np.ndarray) -> float:
    """The file's raw NAB score for a detection per row (bool array over all rows of the file)."""
    d = np.asarray(detected, dtype=bool)[f.scored]
    outside = f.window < 0
    total = float(f.sweep[d & outside].sum())
    for k in set(f.window[f.window >= 0].tolist()):
        hits = f.sweep[d & (f.window == k)]
        total += max(-f.fn_weight, float(hits.max())) if hits.size else -f.fn_weight
    return total


def null_score(files: Sequence[ScoredFile]) -> float:
    return -sum(f.fn_weight * f.n_windows for f in files)


def perfect_score(files: Sequence[ScoredFile], profile: str = "standard") -> float:
    return PROFILES[profile][0] * sum(f.n_labelled for f in files)


def normalised(raw: float, files: Sequence[ScoredFile], profile: str = "standard") -> float:
    base, perfect = null_score(files), perfect_score(files, profile)
    return 100.0 * (raw - base) / (perfect - base)


def optimise_threshold(files: Sequence[ScoredFile], scores: Sequence[np.ndarray]) -> tuple[float, float]:
    """NAB's ``optimizeThreshold``: (threshold, summed raw score) maximising the summed raw score when
    every row with ``anomaly_score >= threshold`` is a detection (ties go to the higher threshold;
    1.1 = no detection)."""
    values = np.concatenate([np.asarray(s, dtype=float)[f.scored] for f, s in zip(files, scores)])
    thresholds = np.concatenate([[1.1], np.unique(values)[::-1]])
    total = np.zeros(len(thresholds))
    # rows outside windows: each adds its (negative) sweep score once the threshold reaches it
    for f, s in zip(files, scores):
        v = np.asarray(s, dtype=float)[f.scored]
        outside = f.window < 0
        order = np.argsort(-v[outside], kind="stable")
        sv, cum = v[outside][order], np.cumsum(f.sweep[outside][order])
        # number of outside rows with value >= t
        cnt = len(sv) - np.searchsorted(sv[::-1], thresholds, "left")
        total += np.where(cnt > 0, cum[np.maximum(cnt - 1, 0)] if len(cum) else 0.0, 0.0)
        for k in set(f.window[f.window >= 0].tolist()):
            inside = f.window == k
            order = np.argsort(-v[inside], kind="stable")
            sv, best = v[inside][order], np.maximum.accumulate(f.sweep[inside][order])
            cnt = len(sv) - np.searchsorted(sv[::-1], thresholds, "left")
            total += np.where(cnt > 0, np.maximum(best[np.maximum(cnt - 1, 0)], -f.fn_weight), -f.fn_weight)
    i = int(np.argmax(total))
    return float(thresholds[i]), float(total[i])


# --- the corpus and the detector ---------------------------------------------------------------

def read_series(path: Path) -> tuple[list[datetime], list[float]]:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return [parse_time(r[0]) for r in rows[1:]], [float(r[1]) for r in rows[1:]]


def corpus_files(data: Path, windows: dict) -> list[str]:
    names = sorted(k for k in windows if (data / k).is_file())
    if not names:
        raise SystemExit(f"error: no file of {len(windows)} labelled ones under {data}")
    return names


def run_detector(data: Path, names: Sequence[str], params: dict | None = None) -> dict[str, dict]:
    """Each series through the ``truevoice spikes`` code path: name -> timestamps, anomaly_score, alert."""
    from streams.cli.spikes import detect_rows

    out = {}
    for name in names:
        ts, values = read_series(data / name)
        rows = list(detect_rows(zip(ts, values), **(params or {})))
        out[name] = {"timestamps": ts, "score": np.array([r[2] for r in rows]),
                     "alert": np.array([r[3] for r in rows], dtype=bool)}
    return out


def read_results(results: Path, names: Sequence[str]) -> dict[str, dict]:
    """Another detector's NAB result files (``DETECTOR_name.csv`` with an anomaly_score column)."""
    out = {}
    for name in names:
        folder, base = name.rsplit("/", 1) if "/" in name else ("", name)
        path = results / folder / f"{results.name}_{base}"
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        out[name] = {"timestamps": [parse_time(r["timestamp"]) for r in rows],
                     "score": np.array([float(r["anomaly_score"]) for r in rows]), "alert": None}
    return out


def report(runs: dict[str, dict], windows: dict, profiles: Sequence[str]) -> dict:
    figures = {}
    for profile in profiles:
        files = [sweep_file(name, r["timestamps"], windows[name], profile) for name, r in runs.items()]
        scores = [r["score"] for r in runs.values()]
        threshold, opt_raw = optimise_threshold(files, scores)
        per_file = {}
        alert_raw = 0.0
        for f, r in zip(files, runs.values()):
            row = {"optimised": normalised(raw_score(f, r["score"] >= threshold), [f], profile)}
            if r["alert"] is not None:
                raw = raw_score(f, r["alert"])
                alert_raw += raw
                row["alert"] = normalised(raw, [f], profile)
            per_file[f.name] = row
        figures[profile] = {"files": per_file, "threshold": threshold,
                            "optimised": normalised(opt_raw, files, profile),
                            "alert": normalised(alert_raw, files, profile) if all(
                                r["alert"] is not None for r in runs.values()) else None}
    return figures


def leave_one_out(data: Path, names: Sequence[str], windows: dict, grid: Sequence[float]) -> dict:
    """For each held-out series: the alert threshold of ``grid`` best on the others (standard
    profile, ``alert`` column), and the held-out series scored with it."""
    raws: dict[float, dict[str, float]] = {}
    files = {}
    for t in grid:
        runs = run_detector(data, names, {"threshold": t})
        for name, r in runs.items():
            if name not in files:
                files[name] = sweep_file(name, r["timestamps"], windows[name])
            raws.setdefault(t, {})[name] = raw_score(files[name], r["alert"])
    out = {}
    held_raw = 0.0
    for held in names:
        others = [n for n in names if n != held]
        best = max(grid, key=lambda t: sum(raws[t][n] for n in others))
        held_raw += raws[best][held]
        out[held] = {"threshold": best, "score": normalised(raws[best][held], [files[held]])}
    out["overall"] = normalised(held_raw, [files[n] for n in names])
    best = max(grid, key=lambda t: sum(raws[t].values()))
    out["optimised"] = {"threshold": best, "score": normalised(sum(raws[best].values()), [files[n] for n in names])}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="folder of the series (default ../shared/data/nab)")
    ap.add_argument("--windows", type=Path, help="NAB windows JSON (default DATA/windows.json)")
    ap.add_argument("--results", type=Path, help="score a NAB results folder (e.g. NAB/results/ARTime) instead "
                                                 "of running the detector")
    ap.add_argument("--threshold", type=float, help="with --results: the detector's threshold on anomaly_score, "
                                                    "for the alert column (e.g. its NAB corpus threshold)")
    ap.add_argument("--only", action="append", default=[], help="only windows.json keys containing this "
                                                                "(repeatable), e.g. --only realTweets")
    ap.add_argument("--no-loo", action="store_true", help="skip the leave-one-series-out check")
    args = ap.parse_args(argv)
    windows = json.loads((args.windows or args.data / "windows.json").read_text())
    names = [n for n in corpus_files(args.data, windows) if not args.only or any(o in n for o in args.only)]
    started = time.perf_counter()
    runs = read_results(args.results, names) if args.results else run_detector(args.data, names)
    if args.results and args.threshold is not None:
        for r in runs.values():
            r["alert"] = r["score"] >= args.threshold
    elapsed = time.perf_counter() - started
    rows = sum(len(r["timestamps"]) for r in runs.values())
    if not args.results:
        print(f"{len(names)} series, {rows:,} rows: {1e6 * elapsed / rows:.1f} µs per row (read, detect)")
    figures = report(runs, windows, list(PROFILES))
    for profile, fig in figures.items():
        print(f"\n{profile}: normalised NAB score (100 perfect, 0 never alerting)")
        print(f"  {'series':44s} {'alert':>8s} {'optimised':>10s}")
        for name, row in fig["files"].items():
            alert = f"{row['alert']:8.1f}" if "alert" in row else f"{'-':>8s}"
            print(f"  {name:44s} {alert} {row['optimised']:10.1f}")
        alert = f"{fig['alert']:8.1f}" if fig["alert"] is not None else f"{'-':>8s}"
        print(f"  {'overall':44s} {alert} {fig['optimised']:10.1f}   (optimised threshold "
              f"{fig['threshold']:.4f})")
    if not args.results and not args.no_loo and len(names) > 1:
        from scoring.anomaly import THRESHOLD_GRID

        loo = leave_one_out(args.data, names, windows, THRESHOLD_GRID)
        print("\nleave one series out (standard profile, alert column; threshold chosen on the others):")
        for name in names:
            print(f"  {name:44s} {loo[name]['score']:8.1f}   (threshold {loo[name]['threshold']:g})")
        print(f"  {'overall':44s} {loo['overall']:8.1f}")
        print(f"alert threshold optimised on all series (NAB's procedure, sees the labels): "
              f"{loo['optimised']['score']:.1f} at threshold {loo['optimised']['threshold']:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
