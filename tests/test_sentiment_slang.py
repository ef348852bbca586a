"""Context-dependent slang: the dictionary marks it, the featuriser pairs it, the shipped model reads it.

Sentences here were written for this test (none is in a training file or the dev set): the same
intensifier (미쳤다, 역대급, ㅠㅠ, 실화냐 …) of a praised and of a criticised thing, negation, and
plain information.
"""

from __future__ import annotations

import pytest

from scoring.features import FeatureConfig, HashingFeaturizer
from scoring.normalise import slang_hints, slang_terms
from scoring.text import TextScorer


def hints(text: str) -> list[str]:
    return slang_hints(slang_terms(text))


def test_an_intensifier_is_paired_with_the_cues_around_it():
    assert hints("화면 미쳤다 완전 개이득") == ["pos", "ctx", "ctx+"]
    assert hints("배터리 광탈 미쳤네") == ["neg", "ctx", "ctx-"]
    assert hints("야간모드 ㄷㄷ") == ["ctx"]  # no cue: the model decides from the words
    assert hints("배송 또 늦음 ㅋㅋ 짜증") == ["neg", "ctx", "ctx-"]  # ㅋㅋ after a complaint


def test_negation_entries():
    assert hints("음질 안 좋다") == ["neg"]
    assert hints("가격 별로 안 비쌈") == []  # "별로 안" is not the complaint "별로"
    assert hints("이 가격이면 나쁘지 않네") == ["pos"]


def test_a_dictionary_row_with_an_unknown_sentiment_is_refused(tmp_path):
    from scoring.normalise import load_slang

    bad = tmp_path / "slang.tsv"
    bad.write_text("term\tcanonical\tsentiment\n존맛\t정말 맛있다\tpos\n미쳤다\t대단하다\tcontext\n", encoding="utf-8")
    with pytest.raises(ValueError, match="미쳤다"):
        load_slang(str(bad))


def test_the_pairing_reaches_the_features():
    f = HashingFeaturizer(FeatureConfig())
    praise, complaint = f(["카메라 미쳤다 개이득", "카메라 미쳤다 환불각"]).of(0), f(["카메라 미쳤다 환불각"]).of(0)
    ctx_plus = f._hint_hash["ctx+"]
    ctx_minus = f._hint_hash["ctx-"]
    assert ctx_plus in praise and ctx_minus not in praise
    assert ctx_minus in complaint and ctx_plus not in complaint


@pytest.fixture(scope="module")
def scorer() -> TextScorer:
    return TextScorer.load()


@pytest.mark.parametrize("text,label", [
    ("새로 산 태블릿 화면 미쳤다 완전 개이득", "positive"),
    ("업데이트하고 배터리 광탈 미쳤네 ㅋㅋ", "negative"),
    ("이 노트북 성능 역대급 ㄷㄷ 강추", "positive"),
    ("역대급 최악 서비스 다신 안 씀", "negative"),
    ("택배 드디어 왔다 ㅠㅠ 너무 예뻐 감동", "positive"),
    ("주문한 거 또 취소됨 ㅠㅠ 짜증나", "negative"),
    ("이 가격 실화냐 너무 비쌈", "negative"),
    ("지린다 이번 콜라보 ㄷㄷ", "positive"),
    ("음질 안 좋다", "negative"),
    ("이 이어폰 비추", "negative"),
    ("가격 별로 안 비쌈 만족", "positive"),
    ("신형 모델 다음 달 출시 예정", "neutral"),
    ("이거 배터리 몇 시간 가요?", "neutral"),
])
def test_shipped_model_reads_slang_in_context(scorer, text, label):
    assert scorer.score([text])[0].sentiment_label == label
