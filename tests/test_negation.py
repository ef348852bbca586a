"""Negation scope (scoring.negation) and the features it gives the sentiment head (scoring.features)."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.features import NEGATION_COUNT, FeatureConfig, HashingFeaturizer
from scoring.negation import negated_words
from scoring.normalise import normalise, slang_terms


@pytest.mark.parametrize("text,words", [
    ("부작용 없어요", ["부작용"]),
    ("트러블 하나도 없음", ["트러블"]),             # an adverb between them is skipped
    ("소음 전혀 없고 시원해요", ["소음"]),
    ("튼튼하지 않아요", ["튼튼하지"]),
    ("기대만큼은 아니에요", ["기대만큼은"]),
    ("추천하지 못하겠어요", ["추천하지"]),
    ("안 튼튼해요", ["튼튼해요"]),                # 안 / 못 negate the word after them
    ("하나도 안 아파요", ["아파요"]),
    ("배송 안 와요 연락도 없음", ["와요", "연락도"]),
    ("not good at all", ["good"]),
    ("never really liked it", ["liked"]),
    ("문제없어요 재미없다", []),                 # fused forms hold their negation in their own n-grams
    ("없어요", []),                             # nothing before it
    ("좋아요 안", []),                          # nothing after it
    ("안 없어요", []),                          # a negator is never itself the negated word
    ("", []),
    ("배송 빠르고 좋아요", []),
])
def test_negated_words(text, words):
    assert negated_words(normalise(text)) == words


def _features(cfg, texts):
    norm = [normalise(t) for t in texts]
    slang = [slang_terms(t, already_normalised=True) for t in norm]
    return HashingFeaturizer(cfg).from_normalised(norm, slang), norm, slang


def test_negated_words_add_their_own_features_at_a_negative_count():
    parent_cfg = FeatureConfig(en_lexicon=True, jamo_min=2, jamo_max=6)
    cfg = FeatureConfig(en_lexicon=True, jamo_min=2, jamo_max=6, negation=True)
    assert cfg.parent() == parent_cfg and parent_cfg.parent() == parent_cfg.base() and parent_cfg.base().parent() is None
    assert cfg.base() == parent_cfg.base()
    texts = ["트러블 하나도 없음 ㅎㅎ", "배송 빠르고 좋아요", "안 튼튼해요"]
    got, norm, slang = _features(cfg, texts)
    parent, _, _ = _features(parent_cfg, texts)
    n = len(parent.ids)
    # the text's own features first, each counting 1
    assert np.array_equal(got.ids[:n], parent.ids) and np.array_equal(got.rows[:n], parent.rows)
    assert (got.values[:n] == 1).all()
    # then each negated word's features, as the word alone has them, at -NEGATION_COUNT
    words = HashingFeaturizer(parent_cfg).from_normalised(["트러블", "튼튼해요"], [[], []])
    assert np.array_equal(got.ids[n:], words.ids)
    assert np.array_equal(got.rows[n:], np.where(words.rows == 0, 0, 2))
    assert (got.values[n:] == -NEGATION_COUNT).all()
    assert not (got.rows[n:] == 1).any()  # the text without a negation has none
    # net, a feature counts its occurrences in the text minus twice those in the negated word:
    # one that only 트러블 holds counts -1
    from collections import Counter

    net, in_text, in_word = Counter(), Counter(parent.ids[parent.rows == 0].tolist()), Counter(words.ids[words.rows == 0].tolist())
    for r, i, v in zip(got.rows, got.ids, got.values):
        if r == 0:
            net[i] += v
    assert all(net[i] == in_text[i] - NEGATION_COUNT * in_word[i] for i in net)
    assert sum(net[i] == -1 for i in in_word) > len(in_word) / 2
    # reusing another head's pass of the parent configuration gives the same features
    again = HashingFeaturizer(cfg).from_normalised(norm, slang, parent)
    assert np.array_equal(again.ids, got.ids) and np.array_equal(again.values, got.values)


def test_no_negation_means_the_parent_features_unchanged():
    cfg = FeatureConfig(jamo_min=2, jamo_max=6, negation=True)
    got, _, _ = _features(cfg, ["배송 빠르고 좋아요", ""])
    parent, _, _ = _features(cfg.parent(), ["배송 빠르고 좋아요", ""])
    assert np.array_equal(got.ids, parent.ids) and (got.values == 1).all()
    assert parent.values is None  # a configuration without negation counts every occurrence once
