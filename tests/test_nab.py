"""bench/nab.py: NAB's scoring rules (nab/sweeper.py, nab/runner.py), on hand-computed cases."""

from __future__ import annotations

import math
import sys
from datetime import datetime, timedelta

import numpy as np
import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import nab  # noqa: E402

START = datetime(2015, 3, 1)
ROWS = 1000  # probationary period: the first min(floor(0.15 * 1000), 750) = 150 rows
TIMES = [START + timedelta(minutes=5 * i) for i in range(ROWS)]
WINDOW = (500, 599)  # rows; width 100


def scored(*rows: int, profile: str = "standard", windows=None):
    f = nab.sweep_file("x.csv", TIMES, windows or [(TIMES[WINDOW[0]].isoformat(sep=" "),
                                                    TIMES[WINDOW[1]].isoformat(sep=" "))], profile)
    detected = np.zeros(ROWS, dtype=bool)
    detected[list(rows)] = True
    raw = nab.raw_score(f, detected)
    return raw, nab.normalised(raw, [f], profile)


def s(x: float) -> float:  # NAB's scaled sigmoid
    return 2 / (1 + math.exp(5 * x)) - 1


def test_scaled_sigmoid_is_nabs():
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert nab.scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(3.5) == -1.0


def test_probation_length():
    assert nab.probation_length(1000) == 150
    assert nab.probation_length(15902) == 750  # capped at 0.15 * 5000


def test_perfect_detector_scores_100_and_null_0():
    assert scored(WINDOW[0]) == (pytest.approx(1.0), pytest.approx(100.0))
    assert scored() == (pytest.approx(-1.0), pytest.approx(0.0))


def test_one_false_positive_only_is_negative():
    raw, norm = scored(300)  # before any window: the full -A_FP
    assert raw == pytest.approx(-1.11)
    assert norm == pytest.approx(100 * (-1.11 + 1) / 2)  # -5.5
    assert scored(300, profile="reward_low_FP_rate")[0] == pytest.approx(-1.22)
    assert scored(300, profile="reward_low_FN_rate") == (pytest.approx(-2.11), pytest.approx(100 * -0.11 / 3))  # null -2, perfect 1


def test_early_detection_beats_late_and_only_the_first_counts():
    late_raw, late = scored(WINDOW[1])  # position -(599 - 599 + 1) / 100 = -0.01
    assert late_raw == pytest.approx(s(-0.01) / s(-1.0))
    mid_raw, mid = scored(550)  # -(599 - 550 + 1) / 100 = -0.5
    assert mid_raw == pytest.approx(s(-0.5) / s(-1.0))
    assert 0 < late < mid < 100
    assert scored(WINDOW[0], 550, WINDOW[1]) == scored(WINDOW[0])  # later detections in the window earn nothing


def test_false_positive_after_a_window_costs_by_its_distance():
    raw, _ = scored(WINDOW[0], 600)  # |599 - 600| / (100 - 1) past the window: almost free
    assert raw == pytest.approx(1 + 0.11 * s(1 / 99))
    far, _ = scored(WINDOW[0], 999)  # 400 / 99 > 3: the full cost
    assert far == pytest.approx(1 - 0.11)


def test_detection_in_the_probationary_period_is_ignored():
    assert scored(100) == scored()
    # a window inside the probationary period is not scored, and the null detector is not charged for it
    early = [(TIMES[10].isoformat(sep=" "), TIMES[20].isoformat(sep=" "))]
    f = nab.sweep_file("x.csv", TIMES, early)
    assert f.n_windows == 0 and nab.null_score([f]) == 0.0


def test_optimised_threshold_is_the_best_of_every_threshold():
    rng = np.random.default_rng(7)
    windows = [(TIMES[300].isoformat(sep=" "), TIMES[349].isoformat(sep=" ")),
               (TIMES[700].isoformat(sep=" "), TIMES[779].isoformat(sep=" "))]
    files = [nab.sweep_file(f"{i}.csv", TIMES, windows) for i in range(2)]
    scores = [np.round(rng.random(ROWS) ** 8, 3) for _ in files]
    scores[0][320] = scores[1][710] = 0.999
    threshold, raw = nab.optimise_threshold(files, scores)
    brute = max(sum(nab.raw_score(f, sc >= t) for f, sc in zip(files, scores))
                for t in [1.1, *np.unique(np.concatenate(scores))])
    assert raw == pytest.approx(brute)
    assert raw == pytest.approx(sum(nab.raw_score(f, sc >= threshold) for f, sc in zip(files, scores)))


def test_corpus_score_sums_files():
    f1 = nab.sweep_file("a.csv", TIMES, [(TIMES[500].isoformat(sep=" "), TIMES[599].isoformat(sep=" "))])
    f2 = nab.sweep_file("b.csv", TIMES, [(TIMES[200].isoformat(sep=" "), TIMES[299].isoformat(sep=" ")),
                                          (TIMES[800].isoformat(sep=" "), TIMES[899].isoformat(sep=" "))])
    assert nab.null_score([f1, f2]) == -3 and nab.perfect_score([f1, f2]) == 3
    hit = np.zeros(ROWS, dtype=bool)
    hit[[200, 800]] = True
    raw = nab.raw_score(f1, np.zeros(ROWS, dtype=bool)) + nab.raw_score(f2, hit)
    assert nab.normalised(raw, [f1, f2]) == pytest.approx(100 * (1 + 3) / 6)


def test_dev_series_through_the_detector():
    data = REPO.parent / "shared" / "data" / "nab"
    assert (data / "windows.json").is_file(), f"the NAB dev series belong in {data} (../shared/data/nab)"
    assert nab.main(["--data", str(data), "--only", "FB", "--no-loo"]) == 0
