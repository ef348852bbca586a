"""Text models over the real shipped ONNX files (no mocks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from schemas.records import TextScores
from scoring.features import FeatureConfig, HashingFeaturizer, hash_str
from scoring.normalise import load_slang, normalise, slang_terms
from scoring.purchase import rule_categories
from scoring.text import DEFAULT_MODEL_ROOT, HEADS, TextScorer, load_classifier

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def scorer() -> TextScorer:
    return TextScorer.load(providers=["CPUExecutionProvider"], intra_op_threads=1)


# --- normaliser ---------------------------------------------------------------------------

def test_normalise_repeats_and_emoji():
    assert normalise("ㅋㅋㅋㅋㅋㅋ") == "ㅋㅋ"
    assert normalise("ㅎㅎㅎㅎ 좋아요") == "ㅎㅎ 좋아요"
    assert normalise("ㅠㅜㅠㅠㅠ") == "ㅠㅠ"
    assert normalise("진짜아아아아 대박!!!!!!") == "진짜아아 대박!!"
    assert normalise("너무너무너무너무 좋다") == "너무너무 좋다"
    assert normalise("가격 1000000원") == "가격 1000000원"  # digits are never squeezed
    assert normalise("  ＡＢＣ　Hello  World ") == "abc hello world"
    assert normalise("맛있어요😂") == "맛있어요 ㅋㅋ"
    assert normalise("최고❤️") == "최고 ♥"
    assert "url" in normalise("여기 https://example.com/a?b=1 보세요").split()
    assert "@user" in normalise("@someone 고마워").split()
    # idempotent, so training and serving agree whichever side normalised first
    for s in ["ㅋㅋㅋㅋ 존맛탱 ㅠㅠㅠ!!!", "내돈내산 후기😂😂 https://x.com/a", "Ｈｉ　ㅎㅎㅎ"]:
        assert normalise(normalise(s)) == normalise(s)


def test_slang_terms():
    assert slang_terms("이 집 존맛탱 ㄹㅇ 개이득") == ["존맛탱", "ㄹㅇ", "개이득"]
    assert "내돈내산" in slang_terms("내돈내산 후기입니다")
    assert slang_terms("오늘 회의는 세 시입니다") == []
    # ASCII terms match whole words only
    assert slang_terms("midnight movie") == []
    assert slang_terms("that was mid lol") == ["mid", "lol"]
    terms = {e.term for e in load_slang()}
    assert {"존맛", "개이득", "내돈내산", "ㄹㅇ", "ㅋㅋ"} <= terms


# --- features -----------------------------------------------------------------------------

def test_featurizer_matches_scalar_hash():
    from scoring.features import _mix

    f = HashingFeaturizer(FeatureConfig(slang_hints=False))
    ft = f(["ab cd", "존맛"])
    assert ft.ids.shape == ft.rows.shape and ft.n_docs == 2
    row0 = set(ft.of(0))
    # char 2-gram "ab", char 5-gram " ab c", word 1-gram "cd", word 2-gram "ab cd"
    for s, salt in ((("ab"), 2), (" ab c", 5), ("cd", 101), ("ab cd", 102)):
        assert int(_mix(np.array([hash_str(s)], np.uint64), salt)[0]) in row0
    # " ab cd " has 7 chars: 7+6+5+4+3 char n-grams, 2 words, 1 word bigram
    assert len(ft.of(0)) == 25 + 2 + 1
    # a word bigram never spans two texts of a batch
    ab = int(_mix(np.array([hash_str("cd 존맛")], np.uint64), 102)[0])
    assert ab not in set(ft.ids.tolist())


# --- TextScorer over the shipped models -------------------------------------------------------

def test_model_folders_are_complete():
    assert not (ROOT / "onnx" / "__init__.py").exists()
    total = 0
    for h in HEADS:
        d = DEFAULT_MODEL_ROOT / h
        meta = json.loads((d / "model.json").read_text(encoding="utf-8"))
        assert meta["task"] == h
        assert (d / "CARD.md").is_file()
        onnx_file = d / meta["onnx"]
        assert onnx_file.stat().st_size < 50 * 2**20
        total += sum(p.stat().st_size for p in d.iterdir() if p.is_file())
    assert total < 80 * 2**20


def test_scores_are_sane(scorer):
    texts = [
        "이 집 떡볶이 존맛탱 ㅋㅋㅋ 진짜 최고 또 갈게요",
        "최악이다 맛도 없고 불친절하고 다시는 안 간다",
        "씨발 개새끼들아 좆같은 회사 망해라 병신들",
        "이 제품 언제 출시되나요?",
        "내돈내산 링크 어디서 사요?",
        "This is the best phone I have ever used, love it!",
        "Terrible service, worst experience ever.",
        "",
    ]
    res = scorer.score(texts)
    assert len(res) == len(texts)
    for r in res:
        TextScores.model_validate(r.model_dump())  # every field within the schema's bounds
        assert abs(sum(r.sentiment_probs) - 1.0) < 1e-4
        assert r.sentiment == pytest.approx(r.sentiment_probs[2] - r.sentiment_probs[0], abs=1e-6)
    pos, neg, curse, question, buy, en_pos, en_neg, _ = res
    assert pos.sentiment > 0.3 and pos.sentiment_label == "positive"
    assert neg.sentiment < -0.3 and neg.sentiment_label == "negative"
    assert pos.sentiment > neg.sentiment + 0.6
    assert curse.toxic and curse.toxicity > 0.8
    assert not pos.toxic and pos.toxicity < curse.toxicity
    assert question.intent == "question"
    assert pos.intent != "question"
    assert buy.purchase_intent > 0.7
    assert buy.purchase_intent > max(pos.purchase_intent, neg.purchase_intent, curse.purchase_intent) + 0.3
    assert question.intent == "question" and buy.intent == "question"
    assert en_pos.sentiment > en_neg.sentiment + 0.5
    assert en_pos.sentiment > 0 > en_neg.sentiment


def test_shared_pass_equals_each_model_alone(scorer):
    texts = ["배송 빠르고 좋아요 ㅎㅎ", "이거 살까 말까 고민중", "품절이라니 ㅠㅠ 재입고 언제?", "ㅅㅂ 짜증나네"]
    probs, norm, _ = scorer.probabilities(texts)
    for h in HEADS:
        alone = load_classifier(DEFAULT_MODEL_ROOT / h, ["CPUExecutionProvider"]).predict_proba(texts)
        np.testing.assert_allclose(probs[h], alone, rtol=1e-5, atol=1e-6)
        assert probs[h].shape == (len(texts), len(scorer.heads[h].labels))


def test_batch_independence(scorer):
    # a text scores the same alone and inside a batch of longer texts (padding is masked)
    t = "친구 추천으로 샀는데 생각보다 괜찮네요"
    alone = scorer.score([t])[0]
    batch = scorer.score(["아주 긴 문장 " * 40, t, "ㅋㅋ"])[1]
    assert alone.sentiment == pytest.approx(batch.sentiment, abs=1e-5)
    assert alone.purchase_intent == pytest.approx(batch.purchase_intent, abs=1e-5)
    assert scorer.score([]) == []


def test_purchase_rules():
    assert "where" in rule_categories(normalise("링크 어디서 사요?"))
    assert "reject" in rule_categories(normalise("다시는 안 삽니다"))
    assert rule_categories(normalise("감사합니다 좋은 하루 되세요")) == []


# --- CLI ----------------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "streams.cli", "models", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_eval_sentiment_binary_and_3class():
    p = _cli("eval", "sentiment", str(DATA / "sentiment_binary_small.tsv"))
    assert p.returncode == 0, p.stderr
    last = json.loads(p.stdout.strip().splitlines()[-1])
    assert set(last) == {"task", "n", "accuracy", "macro_f1"}
    assert last["task"] == "sentiment" and last["n"] == 12
    assert last["accuracy"] >= 0.75
    p = _cli("--model-root", str(DEFAULT_MODEL_ROOT), "eval", "sentiment", str(DATA / "sentiment_3class_small.tsv"))
    assert p.returncode == 0, p.stderr
    last = json.loads(p.stdout.strip().splitlines()[-1])
    assert last["task"] == "sentiment" and last["n"] == 9
    assert 0.0 <= last["macro_f1"] <= 1.0 and last["accuracy"] > 0.34


def test_cli_eval_toxicity():
    p = _cli("eval", "toxicity", str(DATA / "toxicity_small.tsv"))
    assert p.returncode == 0, p.stderr
    last = json.loads(p.stdout.strip().splitlines()[-1])
    assert last["task"] == "toxicity" and last["n"] == 7
    assert last["accuracy"] >= 0.7


def test_cli_eval_rejects_bad_header(tmp_path):
    f = tmp_path / "bad.tsv"
    f.write_text("text\tlab\n좋다\t1\n", encoding="utf-8")
    p = _cli("eval", "sentiment", str(f))
    assert p.returncode != 0


def test_long_texts_and_big_batches(scorer):
    # longer than the 1,000-character cut and a batch whose body outgrows the precomputed powers
    long = "배송 빠르고 좋아요 " * 300
    res = scorer.score([long] * 80 + ["최악이에요 환불해 주세요"])
    assert len(res) == 81
    assert res[0].sentiment == pytest.approx(res[79].sentiment, abs=1e-6)
    assert res[0].sentiment > 0 > res[80].sentiment


def test_uneven_lengths_score_as_they_do_alone(scorer):
    short = ["좋아요", "별로", "ㅋㅋ 존잼", "어디서 사요?"] * 20
    article = "오늘 발표된 신제품은 가격이 저렴하고 성능도 좋아서 많은 관심을 받고 있다. " * 20
    batch = short + [article] + short
    together = scorer.score(batch)
    for t, r in zip(batch, together):
        alone = scorer.score([t])[0]
        assert r.sentiment == pytest.approx(alone.sentiment, abs=1e-5)
        assert r.intent == alone.intent
        assert r.purchase_intent == pytest.approx(alone.purchase_intent, abs=1e-5)


def test_jamo_features_extend_the_shared_pass():
    from scoring.features import _mix

    base_cfg = FeatureConfig(en_lexicon=True)
    cfg = FeatureConfig(en_lexicon=True, jamo_min=3, jamo_max=5)
    assert cfg.base() == base_cfg and base_cfg.base() is base_cfg
    assert FeatureConfig.from_dict(base_cfg.to_dict()) == base_cfg  # old model.json files: jamo off
    texts = ["잼 ㅋㅋ", "재미없다"]
    b = HashingFeaturizer(base_cfg)(texts)
    j = HashingFeaturizer(cfg)(texts)
    w = len(b.ids)
    assert np.array_equal(j.ids[:w], b.ids) and np.array_equal(j.rows[:w], b.rows) and len(j.ids) > w
    # reusing a precomputed base pass gives the same features
    j2 = HashingFeaturizer(cfg).from_normalised(b.normalised, b.slang, b)
    assert np.array_equal(j2.ids, j.ids) and np.array_equal(j2.rows, j.rows)
    # 잼 and 재미 share the jamo 3-gram " ㅈㅐ" (space, choseong ㅈ, jungseong ㅐ)
    h = int(_mix(np.array([hash_str(" \u110c\u1162")], np.uint64), 303)[0])
    for row in range(2):
        assert h in set(j.of(row))


# --- hostile input: nothing a text holds may leak into its neighbours in a batch ----------------

HOSTILE = [
    "a\x00b", "\x00", "\x00\x00\x00", "앞\x00뒤 존맛 ㅋㅋ", "\x01\x02 제어문자", "끝에 NUL\x00", "\x00처음에",
    "\uffff\ufffe 비문자", "lone \ud800 surrogate", "\udfff", "\U0010ffff 마지막 코드포인트",
    "", " ", "\u200b\ufe0f", "😂😂😂", "ㅋ" * 5000, "배송 빠르고 좋아요 " * 400, "a\x00" * 600,
    "\u0301\u0301 결합문자만", "ＡＢＣ\x00ｘｙｚ", "e\u0301\x00\u0301",
]


def _rows(features):
    return [features.of(i) for i in range(features.n_docs)]


@pytest.mark.parametrize("cfg", [FeatureConfig(), FeatureConfig(en_lexicon=True, edge_words=True),
                                 FeatureConfig(en_lexicon=True, jamo_min=2, jamo_max=6)])
def test_featurizer_batch_equals_one_by_one_on_hostile_texts(cfg):
    f = HashingFeaturizer(cfg)
    texts = HOSTILE + ["평범한 문장 " + str(i) for i in range(5)]
    for normalised in (False, True):  # raw normalised texts may still hold a NUL
        batch = f(texts, normalised=normalised)
        assert batch.n_docs == len(texts) and set(batch.rows.tolist()) <= set(range(len(texts)))
        rows = _rows(batch)
        for i, t in enumerate(texts):
            assert rows[i] == _rows(f([t], normalised=normalised))[0], repr(t[:20])


def test_a_nul_is_a_space_to_the_featurizer():
    f = HashingFeaturizer(FeatureConfig(slang_hints=False))
    assert _rows(f(["ab\x00cd"], normalised=True)) == _rows(f(["ab cd"], normalised=True))


def test_scorer_on_hostile_texts(scorer):
    together = scorer.score(HOSTILE)
    assert len(together) == len(HOSTILE)
    for t, r in zip(HOSTILE, together):
        alone = scorer.score([t])[0]
        assert r.sentiment == pytest.approx(alone.sentiment, abs=1e-5), repr(t[:20])
        assert r.toxicity == pytest.approx(alone.toxicity, abs=1e-5)
        assert r.purchase_intent == pytest.approx(alone.purchase_intent, abs=1e-5)
        assert r.intent == alone.intent


def test_nul_in_some_texts_scores_in_one_batch_call():
    scorer = TextScorer.load()  # as the scoring process loads it
    base = ["이 집 떡볶이 존맛탱 ㅋㅋㅋ 진짜 최고", "최악이다 다시는 안 간다", "이 제품 언제 출시되나요?",
            "내돈내산 링크 어디서 사요?", "Terrible service, worst experience ever.", "배송 빠르고 좋아요 ㅎㅎ"]
    texts = []
    for i in range(200):
        t = base[i % len(base)] + f" {i}"
        if i % 7 == 0:
            t = t.replace(" ", "\x00", 1)
        if i % 31 == 0:
            t = "\x00" + t + "\x00"
        texts.append(t)
    assert sum("\x00" in t for t in texts) >= 29
    scores, norm, slang = scorer.analyse(texts)  # one call for the whole batch; it must not raise
    assert len(scores) == len(norm) == len(slang) == 200
    for t, s in zip(texts, scores):
        alone = scorer.analyse([t])[0][0]
        assert s.sentiment == pytest.approx(alone.sentiment, abs=1e-5)
        assert s.toxicity == pytest.approx(alone.toxicity, abs=1e-5)
        assert s.purchase_intent == pytest.approx(alone.purchase_intent, abs=1e-5)
        assert (s.sentiment_label, s.intent, s.toxic) == (alone.sentiment_label, alone.intent, alone.toxic)
    # and the text with its NUL scores like the text with a space there
    assert scores[7].sentiment == pytest.approx(scorer.analyse([texts[7].replace("\x00", " ")])[0][0].sentiment, abs=1e-5)


def test_purchase_rules_compiled_for_speed_find_what_the_written_rules_find():
    import itertools
    import re

    from scoring.purchase import CATEGORIES, rule_categories

    written = [(name, re.compile(p)) for name, p in CATEGORIES.items()]
    atoms = ["샀", "삼", "삽니", "살까", "사요", " ", ".", '"', "(", "~", "a", "buy", "bought", "order", "link",
             "price", "sale", "haul", "1", "2원", "가", "\n", "_"]
    for n in (1, 2, 3):
        for parts in itertools.product(atoms, repeat=n):
            text = "".join(parts)
            assert rule_categories(text) == [name for name, rx in written if rx.search(text)], text


def test_normalise_many_is_normalise_of_each_text():
    from scoring.normalise import normalise, normalise_many

    texts = ["ㅋㅋㅋㅋ 좋아아아아   https://x.y 😂", "", "너무너무너무 ＡＢ\u200b", "ㅠㅜㅠㅠ", "1111 aaa", "ab" * 3,
             "lol\tfire\n", "x\x00x\x00x", "아 아 아", "ㅋㅎㅋㅎㅋㅎ", "a@b.com @handle"]
    assert normalise_many(texts) == [normalise(t) for t in texts]
    assert normalise_many([]) == []


def _reference_features(fz: HashingFeaturizer, norm: list[str], slang: list[list[str]]):
    """The featurizer as it was before its slice-based n-grams (the general path, index arrays):
    the fast path must give the same rows and ids, bit for bit and in the same order."""
    import scoring.features as F

    def ngrams(body, k_range, salt0):
        a, n, sep_cum, doc_of, sub_hash = fz._prefix(body)
        groups = []
        for k in k_range:
            if n < k:
                continue
            l = np.arange(n - k + 1)
            l = l[(sep_cum[l + k] - sep_cum[l]) == 0]
            groups.append((doc_of[l], F._mix(sub_hash(l, l + k - 1), salt0 + k)))
        return groups

    cfg = fz.config
    base_cfg = cfg.base()
    import unicodedata
    from unittest import mock

    groups = ngrams(F._join(norm, cfg.max_chars), range(base_cfg.char_min, base_cfg.char_max + 1), 0)
    # the word / edge / hint families are unchanged code: taken from the featurizer itself
    with mock.patch.object(F, "_concat", lambda g: (g, None)):
        all_groups = HashingFeaturizer(base_cfg)._from_normalised(norm, slang, base_cfg).rows
    groups += all_groups[len(groups):]  # the families after the character n-grams
    if cfg.jamo_max:
        body = unicodedata.normalize("NFKD", F._join(norm, cfg.max_chars))
        groups += ngrams(body, range(max(cfg.jamo_min, 1), cfg.jamo_max + 1), 300)
    groups = [(d, h) for d, h in groups if len(d)]
    if not groups:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate([d for d, _ in groups]), np.concatenate([h for _, h in groups])


@pytest.mark.parametrize("cfg", [FeatureConfig(), FeatureConfig(jamo_min=1, jamo_max=6, en_lexicon=True),
                                 FeatureConfig(char_min=2, char_max=3, edge_words=True, word_max=3)])
def test_fast_featurizer_equals_the_index_array_version(cfg):
    texts = ["", "a", "ab", "신제품 써봤는데 좋아요 ㅋㅋㅋ", "x\x00y", " ", "존나 잼ㅋ", "ok " * 50,
             "한" * 700, "mixed 한글 text 123 !!", "", "a b c d e f"]
    rng = np.random.default_rng(1)
    texts += ["".join(rng.choice(list("ab 가나ㅋ"), size=rng.integers(0, 40))) for _ in range(40)]
    norm = [normalise(t) for t in texts]
    slang = [slang_terms(t, already_normalised=True) for t in norm]
    fz = HashingFeaturizer(cfg)
    got = fz.from_normalised(norm, slang)
    rows, ids = _reference_features(fz, norm, slang)
    assert got.ids.dtype == got.rows.dtype == np.int64 and len(got.ids) > 0
    assert np.array_equal(got.rows, rows) and np.array_equal(got.ids, ids)
    for one in (["a"], [""], ["ab"]):  # a batch shorter than the n-grams
        got = fz.from_normalised(one, [[]])
        rows, ids = _reference_features(fz, one, [[]])
        assert np.array_equal(got.rows, rows) and np.array_equal(got.ids, ids)


# --- the hashed-linear graph ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def recipes():
    """onnx/recipes/common.py: the training side's feature matrix and weighting."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("recipes_common", DEFAULT_MODEL_ROOT / "recipes" / "common.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("head,K,dtype,rules,negation", [
    ("softmax", 4, "float32", None, False), ("sigmoid", 1, "float32", "purchase", False),
    ("hier3", 2, "float16", None, False), ("hier3", 2, "float32", None, True), ("hier3", 2, "float16", None, True)])
def test_serving_graph_computes_what_training_fitted(tmp_path, recipes, head, K, dtype, rules, negation):
    """The exported graph's logits are the training matrix (counts, idf, L2 norm, rule tokens at
    their weight, negated words' features at a net negative count: ``weighted(count_matrix_rules(...))``)
    times W plus b, text by text."""
    from scoring.linear import HashedLinearClassifier

    rng = np.random.default_rng(7)
    M = 97
    W, b = rng.normal(size=(M, K)).astype(np.float32), rng.normal(size=K).astype(np.float32)
    texts = [normalise(t) for t in ["어디서 사요? 링크 주세요 링크", "", "좋아요 좋아요 좋아요 ㅋㅋㅋㅋ",
                                    "where can I buy it, price?", "환불 반품 불매", "트러블 하나도 없음",
                                    "안 튼튼해요 튼튼해요 안 튼튼해요", "not good, not good at all", "부작용 없어요 없어요"]]
    cfg = FeatureConfig(jamo_min=2, jamo_max=4, negation=negation)
    X = recipes.count_matrix_rules(texts, M, cfg, rules, 10.0)
    _, N = recipes.count_matrices(texts, M, cfg)
    assert (N.nnz > 0) == negation  # the negated words' features, kept apart from the texts' own
    idf = recipes.idf_from(X)
    meta = {"format": "hashed-linear", "labels": [str(i) for i in range({"softmax": K, "sigmoid": 2, "hier3": 3}[head])],
            "features": cfg.to_dict(), "rules": rules, "rule_weight": 10.0}
    # with negation, sentiment's polar column reads the negated words' features too, its neutral
    # column only the text's own (train_sentiment.SIGNED)
    signed = 1 if negation else None
    recipes.export_head(tmp_path, W, b, idf, head, meta, dtype=dtype, signed=signed)
    if rules:
        assert (X.toarray() == 10).any() or (X.toarray() > 10).any()  # rule tokens are in the training matrix
    logits = np.asarray(recipes.weighted(X, idf) @ W) + b
    if negation:
        logits[:, 0] = np.asarray(recipes.weighted(X, idf, N) @ W[:, 0]) + b[0]
    if head == "softmax":
        want = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    elif head == "sigmoid":
        p = 1 / (1 + np.exp(-logits[:, 0]))
        want = np.stack([1 - p, p], 1)
    else:
        pp, pn = 1 / (1 + np.exp(-logits[:, 0])), 1 / (1 + np.exp(-logits[:, 1]))
        want = np.stack([(1 - pn) * (1 - pp), pn, (1 - pn) * pp], 1)
    clf = HashedLinearClassifier(tmp_path, ["CPUExecutionProvider"])
    got = clf.predict_proba(texts)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=2e-3 if dtype == "float16" else 1e-5)
    assert clf.predict_proba([]).shape[0] == 0  # an empty batch is an empty answer, not an error


def test_a_padded_graph_from_an_older_export_is_refused_with_the_fix(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from scoring.linear import HashedLinearClassifier

    g = helper.make_graph([helper.make_node("Identity", ["mask"], ["probs"])], "old",
                          [helper.make_tensor_value_info("ids", TensorProto.INT64, ["B", "L"]),
                           helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["B", "L"])],
                          [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["B", "L"])])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "model.onnx"))
    (tmp_path / "model.json").write_text(json.dumps({"format": "hashed-linear", "labels": ["a", "b"]}))
    with pytest.raises(ValueError, match="an older graph; export it again with its recipe"):
        HashedLinearClassifier(tmp_path, ["CPUExecutionProvider"])
