"""Short product and service reviews, as a shopping mall or a delivery app shows them.

onnx/sentiment/negation_eval.tsv: 120 more, each turning on a negation (60 praise that says a
problem is absent, "트러블 하나도 없어요"; 60 complaints that negate praise, "튼튼하지 않아요"),
written on 2026-12-05 by a helper of this project who read no file of the repository; the lead
wrote the negation-scope rules (scoring/negation.py) without seeing the reviews, and changed
nothing after reading them. Never trained on.

The forty reviews were written by the lead on 2026-12-05 for this check, before reading
onnx/sentiment/review_seed.tsv and without giving them to its writer; none is in a seed file
(`test_no_review_here_is_a_training_text`) nor, checked once by hand on 2026-12-05 after
`normalise`, a text of ../shared/data. Movie reviews, the model's main training data, hold
little of this talk, so a floor is asserted, not every sentence: the model before review_seed.tsv
read 29 of them right, the shipped one 32 (onnx/sentiment/CARD.md).
The negated reviews: 53 of 120 before negation scope, 76 with it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from scoring.normalise import normalise
from scoring.text import TextScorer

PRAISE = [
    "생각보다 튼튼하네요", "냄새 하나도 안 나요", "아기 피부에도 자극 없어요", "설명서 없이도 금방 설치함",
    "소음 거의 없어서 밤에 돌려도 됨", "국물이 진하고 양도 많아요", "보풀 안 생기고 따뜻해요", "충전 한 번에 사흘 감",
    "앱 업데이트 후 훨씬 빨라짐", "직원분이 끝까지 챙겨주셨어요", "이불 빨래 한 번에 끝남 대만족", "두 번째 주문인데 역시 맛있네",
    "부모님 선물로 드렸는데 너무 좋아하심", "화질 깨끗하고 반응속도 빠름", "쿠션감 좋아서 오래 걸어도 안 아파요", "가격 대비 훌륭합니다",
    "매번 시켜먹는 집 실패 없음", "촉촉하고 끈적임 없어요", "고장 나서 AS 맡겼는데 이틀 만에 고쳐줌", "주변에 다 추천했어요",
]
COMPLAINTS = [
    "한 번 빨았더니 줄어들었어요", "뚜껑이 안 닫혀요", "사진이랑 색 완전 다름", "음식이 다 식어서 왔네요", "벌써 두 번째 고장",
    "문의 남겼는데 일주일째 답 없음", "바느질 다 터져 있음", "쓰자마자 트러블 올라옴", "모터 소리 너무 시끄러움",
    "배달 한 시간 넘게 걸림", "환불 요청했더니 안 된다네요", "이 가격이면 다른 데서 삽니다", "설명이랑 기능이 다름",
    "두 번 다시 주문 안 할 듯", "포장 뜯겨서 옴", "충전이 안 돼요", "양이 반으로 줄었네", "앱 자꾸 튕김",
    "기사님이 약속 시간 안 지킴", "추천하고 싶지 않네요",
]
SENTIMENT = Path(__file__).resolve().parent.parent / "onnx" / "sentiment"
SEEDS = sorted(SENTIMENT.glob("*_seed.tsv"))


def _negation_eval() -> list[tuple[str, int]]:
    with open(SENTIMENT / "negation_eval.tsv", encoding="utf-8") as f:
        return [(r["document"], int(r["label"])) for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


@pytest.fixture(scope="module")
def scorer() -> TextScorer:
    return TextScorer.load()


def test_no_review_here_is_a_training_text():
    """The seeds are trained on at weight 5: a review here that is also a seed text would test memory, not reading."""
    assert SEEDS, "no seed files found"
    mine = {normalise(t) for t in PRAISE + COMPLAINTS} | {normalise(t) for t, _ in _negation_eval()}
    assert len(mine) == 160
    for path in SEEDS:
        with open(path, encoding="utf-8") as f:
            seeds = {normalise(r["document"]) for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)}
        assert not mine & seeds, (path.name, sorted(mine & seeds))


def test_short_reviews_get_their_polarity(scorer):
    praise = [s.sentiment for s in scorer.score(PRAISE)]
    complaints = [s.sentiment for s in scorer.score(COMPLAINTS)]
    right_praise = sum(v > 0 for v in praise)
    right_complaints = sum(v < 0 for v in complaints)
    wrong = ([t for t, v in zip(PRAISE, praise) if v <= 0], [t for t, v in zip(COMPLAINTS, complaints) if v >= 0])
    assert right_praise + right_complaints >= 30, wrong
    assert right_praise >= 15 and right_complaints >= 14, wrong


def test_negated_reviews_get_their_polarity(scorer):
    """The model before negation scope read 53 of the 120 right, fewer than a coin: it took 트러블
    as a complaint in "트러블 하나도 없어요" and 튼튼 as praise in "튼튼하지 않아요"."""
    rows = _negation_eval()
    assert sorted(y for _, y in rows) == [0] * 60 + [2] * 60
    scores = [s.sentiment for s in scorer.score([t for t, _ in rows])]
    right_praise = sum(v > 0 for (_, y), v in zip(rows, scores) if y == 2)
    right_complaints = sum(v < 0 for (_, y), v in zip(rows, scores) if y == 0)
    wrong = [(t, round(v, 2)) for (t, y), v in zip(rows, scores) if (v > 0) != (y == 2)]
    assert right_praise + right_complaints >= 70, wrong
    assert right_complaints >= 50 and right_praise >= 20, wrong
