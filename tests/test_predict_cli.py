"""`truevoice predict`: a small JSONL scored with the shipped models end to end, then outcomes and
accuracy in a temporary embedded ClickHouse (chdb) data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

REPO = Path(__file__).resolve().parents[1]


def truevoice(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUEVOICE_")}
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=180, env=env)


OLD_ACCOUNT = {"created_at": "2019-03-01", "followers": 800, "following": 120}
HAPPY = ["내돈내산 재구매 했어요 배송도 빠르고 가성비 최고", "한 달 써보니 너무 만족합니다 재구매 의사 있어요",
         "할인할 때 두 개 샀는데 진짜 좋네요 강추", "가격 대비 품질 훌륭해요 또 살게요",
         "선물용으로 구매했는데 다들 좋아해요 추천합니다", "이거 진짜 좋아요 어디서 사요? 링크 부탁",
         "재입고 되자마자 샀어요 완전 만족", "I bought two, love it, will buy again"]
ANGRY = ["배터리 폭발 사고 났다 리콜 안하냐 쓰레기 회사", "배터리 폭발 이거 실화냐 리콜 해라 미친",
         "리콜 안하면 불매한다 배터리 폭발 무섭다 최악", "쓰레기 같은 회사 배터리 폭발 리콜하라고 개빡치네"]


def write_mentions(path: Path) -> None:
    rows = []
    platforms = ["naver_cafe", "naver_blog", "clien", "dcinside", "web", "instagram"]
    for i in range(24):
        rows.append({"platform": platforms[i % len(platforms)], "post_id": f"h{i}", "brand": "acme",
                     "author": {"id": f"fan{i}", "handle": f"@fan{i}", **OLD_ACCOUNT},
                     "text": HAPPY[i % len(HAPPY)], "posted_at": f"2026-11-20T09:{i:02d}:00Z",
                     "engagement": {"likes": 10 + i, "comments": 2}, "media_urls": [f"https://img.example/h{i}.jpg"]})
    for i in range(16):
        rows.append({"platform": "dcinside", "post_id": f"a{i}", "brand": "boomco",
                     "author": {"id": f"angry{i}", "handle": f"@angry{i}", **OLD_ACCOUNT},
                     "text": ANGRY[i % len(ANGRY)], "posted_at": f"2026-11-20T10:{i:02d}:00Z",
                     "engagement": {"likes": 50 + i}, "media_urls": [f"https://img.example/a{i}.jpg"]})
    lines = [orjson.dumps(r) for r in rows[:30]] + [b"{not json"] + [orjson.dumps(r) for r in rows[30:]]
    path.write_bytes(b"\n".join(lines) + b"\n")


@pytest.fixture(scope="module")
def predicted(tmp_path_factory):
    d = tmp_path_factory.mktemp("predict")
    path = d / "mentions.jsonl"
    write_mentions(path)
    out = truevoice("predict", str(path), "--save", "--data-dir", str(d / "data"), "--now", "2026-11-20T11:00:00Z")
    assert out.returncode == 0, out.stderr
    return d, {r["campaign_id"]: r for r in map(orjson.loads, out.stdout.splitlines())}, out.stderr


def test_predict_file_prints_one_line_per_brand(predicted):
    _, rows, stderr = predicted
    assert set(rows) == {"acme", "boomco"}
    assert "skipped 1 invalid record" in stderr
    for r in rows.values():
        assert {"campaign_id", "purchase_intent", "brand_sentiment", "viral_potential", "confidence", "risks",
                "opportunities", "mentions_used"} <= set(r)
        assert 0 <= r["confidence"] <= 1 and 0 <= r["purchase_intent"] <= 1
    acme, boom = rows["acme"], rows["boomco"]
    # old, followed accounts with photos: credible (the angry ones may lose it for their language:
    # then all of them are used, with lower confidence)
    assert acme["mentions_used"] == 24 and 3 <= boom["mentions_used"] <= 16
    assert acme["brand_sentiment"] > 0.4 > 0 > boom["brand_sentiment"]
    assert acme["purchase_intent"] > boom["purchase_intent"]
    assert acme["signals"]["mean_rating"] > 7 > boom["signals"]["mean_rating"]  # the rating regressor ran
    assert any(o["kind"] == "purchase_signal" and o["terms"] and o["mention_ids"] for o in acme["opportunities"])
    burst = [r for r in boom["risks"] if r["kind"] == "negative_burst"]
    assert burst and burst[0]["platform"] == "dcinside" and {"배터리", "폭발", "리콜"} & set(burst[0]["terms"])
    assert acme["confidence"] > 0.3


def test_predict_by_campaign(tmp_path):
    path = tmp_path / "m.jsonl"
    write_mentions(path)
    camps = tmp_path / "campaigns.json"
    camps.write_bytes(orjson.dumps([{"campaign_id": "battery", "brand": "boomco", "keywords": ["배터리"]},
                                    {"campaign_id": "repurchase", "brand": "acme", "keywords": ["재구매", "또 살"]}]))
    out = truevoice("predict", str(path), "--campaigns", str(camps), "--no-progress")
    assert out.returncode == 0, out.stderr
    rows = {r["campaign_id"]: r for r in map(orjson.loads, out.stdout.splitlines())}
    assert set(rows) == {"battery", "repurchase"}
    assert rows["battery"]["signals"]["mentions"] == 16 and rows["repurchase"]["signals"]["mentions"] == 9


def test_predict_errors_are_clear(tmp_path):
    out = truevoice("predict", str(tmp_path / "nope.jsonl"))
    assert out.returncode != 0 and "nope.jsonl" in out.stderr and "Traceback" not in out.stderr
    bad = tmp_path / "x.txt"
    bad.write_text("hello")
    out = truevoice("predict", str(bad))
    assert out.returncode != 0 and "unknown replay format" in out.stderr and "Traceback" not in out.stderr
    out = truevoice("predict", "actual", "acme", "--metric", "brand_sentiment", "--value", "3",
                    "--data-dir", str(tmp_path / "d"))
    assert out.returncode != 0 and "brand_sentiment must lie in [-1, 1]" in out.stderr
    assert "Traceback" not in out.stderr
    out = truevoice("predict", "--help")
    assert out.returncode == 0 and "truevoice predict actual CAMPAIGN" in out.stdout


def test_actual_and_accuracy_on_a_chdb_data_dir(predicted):
    d, rows, _ = predicted
    data = str(d / "data")
    acme = rows["acme"]
    actual = round(acme["brand_sentiment"] - 0.2, 4)
    out = truevoice("predict", "actual", "acme", "--metric", "brand_sentiment", "--value", str(actual),
                    "--at", "2026-11-21T00:00:00Z", "--data-dir", data)
    assert out.returncode == 0, out.stderr
    rec = orjson.loads(out.stdout)
    assert rec["prediction_id"] == acme["prediction_id"] and rec["accuracy"] == pytest.approx(0.9, abs=1e-3)
    # an outcome before any prediction is recorded but measures nothing
    out = truevoice("predict", "actual", "acme", "--metric", "purchase_intent", "--value", "0.9",
                    "--at", "2026-01-01T00:00:00Z", "--data-dir", data)
    assert out.returncode == 0 and orjson.loads(out.stdout)["accuracy"] is None
    # a bad purchase-intent outcome drags that metric's rolling accuracy under the alert line
    out = truevoice("predict", "actual", "boomco", "--metric", "purchase_intent",
                    "--value", "1.0" if rows["boomco"]["purchase_intent"] < 0.5 else "0.0",
                    "--at", "2026-11-22T00:00:00Z", "--data-dir", data)
    assert out.returncode == 0, out.stderr
    out = truevoice("predict", "accuracy", "--json", "--data-dir", data)
    assert out.returncode == 0, out.stderr
    acc = {(r["campaign_id"], r["metric"]): r for r in map(orjson.loads, out.stdout.splitlines())}
    assert set(acc) == {("acme", "brand_sentiment"), ("boomco", "purchase_intent")}
    assert acc[("acme", "brand_sentiment")]["rolling_accuracy"] == pytest.approx(0.9, abs=1e-3)
    assert acc[("acme", "brand_sentiment")]["below_alert"] is False
    assert acc[("boomco", "purchase_intent")]["below_alert"] is True
    table = truevoice("predict", "accuracy", "--data-dir", data)
    assert table.returncode == 0 and "BELOW 0.70" in table.stdout and "acme" in table.stdout


def test_the_rolling_view_agrees_with_the_pure_function(predicted):
    """After the CLI runs above (module order), ClickHouse's view and scoring.accuracy agree."""
    from tables.clickhouse.store import ClickHouseStore

    d, _, _ = predicted
    with ClickHouseStore(f"chdb://{d / 'data' / 'clickhouse'}", "truevoice") as store:
        view = {(r["campaign_id"], r["metric"]): r for r in store.select(
            "SELECT campaign_id, metric, outcomes, rolling_accuracy, below_alert FROM prediction_accuracy_rolling"
        ).dicts()}
        pure = {(r["campaign_id"], r["metric"]): r for r in store.prediction_accuracy(last=20)}
        assert view.keys() == pure.keys() and view
        for k, r in view.items():
            assert r["outcomes"] == pure[k]["outcomes"]
            assert r["rolling_accuracy"] == pytest.approx(pure[k]["rolling_accuracy"], abs=1e-4)
            assert bool(r["below_alert"]) == pure[k]["below_alert"]
        # the predictions were stored with their structured items
        preds = store.predictions("boomco")
        assert preds and preds[0]["risk_items"][0]["kind"] in {"negative_burst", "toxic_language", "low_credibility"}
        assert preds[0]["risks"][0] == preds[0]["risk_items"][0]["summary"]
