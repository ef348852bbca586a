"""Toxicity and the hate-speech categories over the real shipped ONNX files, from the model to
the scored mention (`truevoice score`) and the ClickHouse column (the sink's insert, real chdb)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import orjson
import pytest

from scoring.normalise import normalise
from scoring.text import DEFAULT_MODEL_ROOT, TextScorer, load_classifier
from schemas.records import ScoredMention
from tables.clickhouse.migrations import migrations_dir
from tables.clickhouse.store import ClickHouseStore
from tests.conftest import REPO

CATEGORIES = ["origin", "physical", "politics", "profanity", "age", "gender", "race", "religion"]

# (text, categories that must be named); comments in the style of K-MHaS, written here
HATEFUL = [
    ("여자들은 집에서 밥이나 해라 김치녀들", {"gender"}),
    ("틀딱들은 투표하지 마라 노인네들", {"age"}),
    ("씨발 존나 개새끼 병신", {"profanity"}),
    ("돼지같이 생긴게 살이나 빼라 뚱땡이", {"physical"}),
    ("개독교 먹사들 헌금 뜯어먹는 사이비", {"religion"}),
    ("조선족들 다 중국으로 돌려보내라", {"origin"}),
    ("빨갱이 좌파들 다 북한으로 보내라", {"politics"}),
]
CLEAN = ["배송 빠르고 좋아요 ㅎㅎ", "이 제품 언제 출시되나요?", "노바 폴드2 사전예약 첫날 신기록",
         "이 집 떡볶이 존맛탱 ㅋㅋㅋ 진짜 최고 또 갈게요", "This phone is great, battery lasts two days"]


@pytest.fixture(scope="module")
def scorer() -> TextScorer:
    return TextScorer.load(providers=["CPUExecutionProvider"], intra_op_threads=1)


def test_categories_model_is_a_flat_multilabel_head():
    clf = load_classifier(DEFAULT_MODEL_ROOT / "hate_categories", ["CPUExecutionProvider"])
    meta = clf.meta
    assert clf.labels == CATEGORIES and meta["head"] == "multilabel"
    assert set(meta["thresholds"]) == set(CATEGORIES) and all(0 < t < 1 for t in meta["thresholds"].values())
    p = clf.predict_proba(["씨발 존나 개새끼 병신", "배송 빠르고 좋아요"])
    assert p.shape == (2, 8) and ((p >= 0) & (p <= 1)).all()
    # independent sigmoids, not a softmax: a comment can carry several categories, or none
    assert abs(p[1].sum() - 1.0) > 0.05
    assert p[0, CATEGORIES.index("profanity")] > 0.5 > p[1, CATEGORIES.index("profanity")]


def test_categories_share_the_toxicity_features(scorer):
    # one hashing pass serves both heads: the categories cost one more gather-and-sum only
    assert scorer.heads["toxicity"].feature_config == scorer.heads["hate_categories"].feature_config


@pytest.mark.parametrize("text, expected", HATEFUL)
def test_obvious_hate_is_toxic_with_its_category(scorer, text, expected):
    s = scorer.score([text])[0]
    assert s.toxic
    assert expected <= set(s.hate_categories), s.hate_categories


def test_brand_talk_carries_no_category_and_is_not_toxic(scorer):
    for text, s in zip(CLEAN, scorer.score(CLEAN)):
        assert s.hate_categories == [], text
        assert not s.toxic, (text, s.toxicity)


def test_categories_follow_their_thresholds(scorer):
    texts = [t for t, _ in HATEFUL] + CLEAN
    probs, _, _ = scorer.probabilities(texts)
    thr = np.array([scorer.meta["hate_categories"]["thresholds"][c] for c in CATEGORIES])
    for row, s in zip(probs["hate_categories"], scorer.score(texts)):
        assert s.hate_categories == [c for c, p, t in zip(CATEGORIES, row, thr) if p >= t]


def _labelled(name: str) -> list[tuple[str, int]]:
    with open(DEFAULT_MODEL_ROOT / "toxicity" / name, encoding="utf-8") as f:
        return [(r["document"], int(r["label"])) for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def test_english_eval_is_held_out_from_the_english_seed():
    """english_eval.tsv measures what english_seed.tsv teaches: no text of one is in the other."""
    seed, held = _labelled("english_seed.tsv"), _labelled("english_eval.tsv")
    assert len(held) >= 200 and {y for _, y in held} == {0, 1} == {y for _, y in seed}
    shared = {normalise(t) for t, _ in seed} & {normalise(t) for t, _ in held}
    assert not shared, sorted(shared)[:10]


def test_english_profanity_and_insults_are_toxic(scorer):
    """Hand-written English comments the head never saw (harsh product complaints and violent-
    sounding praise among the clean ones): macro-F1 at the shipped threshold. The head trained on
    the Korean sources alone flagged none of them (macro-F1 0.333)."""
    held = _labelled("english_eval.tsv")
    from sklearn.metrics import f1_score

    flags = np.array([int(s.toxic) for s in scorer.score([t for t, _ in held])])
    y = np.array([label for _, label in held])
    macro_f1 = f1_score(y, flags, average="macro")
    assert macro_f1 >= 0.78, (macro_f1, [t for (t, label), f in zip(held, flags) if f != label][:20])
    stated = json.loads((DEFAULT_MODEL_ROOT / "toxicity" / "model.json").read_text(encoding="utf-8"))["english_eval"]
    assert abs(stated["macro_f1"] - macro_f1) < 1e-3


def test_the_samples_english_brand_talk_is_not_flagged(scorer):
    """The bundled sample's English posts are ordinary brand talk (its generator writes no toxic
    post): a word that only the English seed's toxic lines held must not flag them ("my holy
    grail" did, through "holy shit", before the seed got its everyday clean lines)."""
    from agents.enrich import detect_langs
    from streams.sample import load_sample

    texts = sorted({m["text"] for m in load_sample()})
    english = [t for t, lang in zip(texts, detect_langs(texts)) if lang == "en"]
    assert len(english) >= 50
    flagged = [t for t, s in zip(english, scorer.score(english)) if s.toxic]
    assert len(flagged) <= 0.01 * len(english), flagged[:10]


def test_cards_carry_the_measured_figures():
    tox = json.loads((DEFAULT_MODEL_ROOT / "toxicity" / "model.json").read_text(encoding="utf-8"))
    runs = tox["loso"]["runs"]
    ours, base = runs[tox["loso"]["chosen"]], max((v for k, v in runs.items() if k.startswith("tfidf")),
                                                   key=lambda v: v["mean_at_0.5"])
    assert set(ours["per_source"]) == {"kocohub", "curse", "malicious", "kmhas"}
    assert ours["mean_nested_threshold"] > base["mean_nested_threshold"]
    assert ours["mean_pooled_threshold"] > base["mean_pooled_threshold"]
    card = (DEFAULT_MODEL_ROOT / "toxicity" / "CARD.md").read_text(encoding="utf-8")
    assert "train_toxicity.py" in card and f"{ours['mean_pooled_threshold']:.4f}" in card
    cats = json.loads((DEFAULT_MODEL_ROOT / "hate_categories" / "model.json").read_text(encoding="utf-8"))
    card = (DEFAULT_MODEL_ROOT / "hate_categories" / "CARD.md").read_text(encoding="utf-8")
    assert "train_hate_categories.py" in card
    for c, m in cats["metrics_test"]["per_category"].items():
        assert f"{m['f1']:.4f}" in card, c


def test_hate_categories_reach_the_scored_mention_and_clickhouse(tmp_path):
    records = [{"platform": "dcinside", "post_id": f"p{i}", "author": {"id": f"a{i}"}, "text": t,
                "posted_at": "2026-12-01T09:00:00+00:00"} for i, t in enumerate(["여자들은 집에서 밥이나 해라 김치녀들",
                                                                               "배송 빠르고 좋아요 ㅎㅎ"])]
    path = tmp_path / "m.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    out = subprocess.run([sys.executable, "-m", "streams.cli", "score", str(path), "--no-progress"],
                         cwd=REPO, capture_output=True, timeout=240)
    assert out.returncode == 0, out.stderr.decode()
    lines = out.stdout.splitlines()
    scored = [orjson.loads(line) for line in lines]
    assert "gender" in scored[0]["hate_categories"] and scored[1]["hate_categories"] == []

    store = ClickHouseStore(f"chdb://{tmp_path / 'ch'}", "tv_hate")
    try:
        store.migrate()
        assert store.insert_scored(lines) == 2
        rows = store.select("SELECT post_id, hate_categories FROM tv_hate.mentions FINAL ORDER BY post_id").rows
        assert [(r[0], list(r[1])) for r in rows] == [(m["post_id"], m["hate_categories"]) for m in scored]
        hits = store.select("SELECT post_id FROM tv_hate.mentions FINAL WHERE has(hate_categories, 'gender')").rows
        assert hits == [("p0",)]
    finally:
        store.close()


def test_scores_do_not_depend_on_the_thread_count():
    # ONNX Runtime's ScatterND(reduction="add") lost updates over several intra-op threads:
    # the same texts scored up to 0.15 apart with 2 threads, so hashed-linear sessions run on one
    from streams.sample import load_sample

    texts = [m["text"] for m in load_sample()][:1500]
    texts = [" ".join(texts[i:i + 4]) for i in range(0, len(texts), 2)]  # long texts share rows
    for head in ("toxicity", "hate_categories"):
        one = load_classifier(DEFAULT_MODEL_ROOT / head, ["CPUExecutionProvider"], intra_op_threads=1)
        two = load_classifier(DEFAULT_MODEL_ROOT / head, ["CPUExecutionProvider"], intra_op_threads=2)
        for i in range(0, len(texts), 512):
            np.testing.assert_array_equal(one.predict_proba(texts[i:i + 512]), two.predict_proba(texts[i:i + 512]))


def test_migration_009_keeps_older_rows_and_stores_categories_after(tmp_path):
    """A data directory migrated before 009 holds a mention; 009 applied, it reads [] and a new
    mention's categories are stored through the landing view."""
    before = tmp_path / "sql"
    before.mkdir()
    for f in sorted(migrations_dir().glob("*.sql")):
        if f.name < "009":
            (before / f.name).write_bytes(f.read_bytes())

    def mention(post_id: str, categories: list[str]) -> bytes:
        return ScoredMention(platform="dcinside", post_id=post_id, author={"id": "a"}, text="글",
                             posted_at="2026-12-01T09:00:00+00:00", hate_categories=categories).dumps()

    store = ClickHouseStore(f"chdb://{tmp_path / 'ch'}", "tv_mig009")
    try:
        store.migrate(before)
        assert store.insert_scored([mention("old", ["age"])]) == 1  # the field is unknown before 009
        assert "009_hate_categories.sql" in store.migrate()
        assert store.insert_scored([mention("new", ["religion", "gender"])]) == 1
        rows = store.select("SELECT post_id, hate_categories FROM tv_mig009.mentions FINAL ORDER BY post_id").rows
        assert [(r[0], list(r[1])) for r in rows] == [("new", ["religion", "gender"]), ("old", [])]
    finally:
        store.close()
