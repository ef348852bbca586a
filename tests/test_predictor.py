"""The reaction predictor (scoring.predictor) and the accuracy arithmetic (scoring.accuracy) on
small, realistic groups of scored mentions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from schemas.records import PLATFORMS, Prediction, PredictionItem
from scoring.accuracy import (ACCURACY_ALERT_BELOW, accuracy, rolling_accuracy, score_outcomes)
from scoring.predictor import PredictorConfig, default_config, predict, predict_with_signals

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def mention(i: int, platform: str, text: str, *, sentiment: float, purchase: float = 0.05, toxicity: float = 0.02,
            credible: bool = True, author: str | None = None, minutes: float = 0.0, likes: int = 3,
            rating: float | None = None, **extra) -> dict:
    neg = max(0.0, -sentiment)
    pos = max(0.0, sentiment)
    d = {"event_id": f"e{i:04d}", "platform": platform, "post_id": f"p{i}", "text": text, "text_normalised": text,
         "author": {"id": author or f"a{i}"}, "posted_at": (T0 + timedelta(minutes=minutes)).isoformat(),
         "engagement": {"likes": likes, "comments": 1, "shares": 0, "views": 100},
         "sentiment": sentiment, "sentiment_probs": (neg, 1 - neg - pos, pos),
         "sentiment_label": "negative" if sentiment < -0.3 else "positive" if sentiment > 0.3 else "neutral",
         "purchase_intent": purchase, "toxicity": toxicity, "toxic": toxicity >= 0.5,
         "credible": credible, "credibility": 80.0 if credible else 20.0, "slang_terms": [], **extra}
    if rating is not None:
        d["rating"] = rating
    return d


BUYERS = [
    ("naver_cafe", "내돈내산 재구매 했어요 배송도 빠르고 가성비 최고"),
    ("dcinside", "이거 진짜 존맛 재구매 각 가성비 미쳤다"),
    ("clien", "할인할 때 샀는데 가성비 좋네요 재구매 예정"),
    ("naver_blog", "한 달 써보니 만족합니다 재구매 의사 있음 가성비 추천"),
    ("web", "가격 대비 품질 훌륭 재구매 할게요 가성비 강추"),
    ("fmkorea", "세일하길래 두 개 샀음 가성비 인정 재구매"),
]


def buyer_group(n: int = 24) -> list[dict]:
    return [mention(i, *BUYERS[i % len(BUYERS)], sentiment=0.8 + 0.02 * (i % 5), purchase=0.75,
                    minutes=2 * i, likes=5 + i) for i in range(n)]


def test_every_platform_has_a_family_and_weight():
    cfg = default_config()
    assert {p: cfg.family(p) for p in PLATFORMS}.keys() == set(PLATFORMS)
    assert cfg.platform_weight("naver_news") == 0.3 and cfg.platform_weight("twitter") == 0.5
    assert cfg.platform_weight("instagram") == 0.7 and cfg.platform_weight("dcinside") == 0.8
    assert cfg.platform_weight("naver_blog") == 0.9
    assert cfg.demographic_weight("f_20s") == 1.0  # neutral by default
    with pytest.raises(ValueError):
        PredictorConfig.load(overrides={"platform_family": {"twitter": "nowhere"}})


def test_credible_buyers_across_communities_and_review_sites():
    pred = predict(buyer_group(), "campaign_a")
    assert isinstance(pred, Prediction)
    assert pred.purchase_intent >= 0.7
    assert pred.brand_sentiment >= 0.75
    assert pred.mentions_used == 24
    kinds = {o.kind for o in pred.opportunities}
    assert "purchase_signal" in kinds and "positive_momentum" in kinds
    assert not [r for r in pred.risks if r.kind in ("negative_burst", "toxic_language")]
    sig = [o for o in pred.opportunities if o.kind == "purchase_signal"][0]
    # evidence: a platform, the words behind it, example mentions that exist, the figures
    assert sig.platform in {p for p, _ in BUYERS}
    assert "재구매" in sig.terms or "가성비" in sig.terms
    assert sig.mention_ids and all(m.startswith("e") for m in sig.mention_ids)
    assert sig.figures["purchase_intent"] >= 0.7 and sig.figures["mentions"] >= 3


def test_toxic_negative_burst_on_one_platform_names_it_and_its_terms():
    calm = [mention(i, "naver_blog", "무난하게 쓰고 있어요 괜찮은 편", sentiment=0.3, minutes=i * 5) for i in range(10)]
    burst_texts = ["배터리 폭발 사고 났다 리콜 안하냐 쓰레기", "배터리 폭발 이거 실화냐 리콜 해라",
                   "리콜 안하면 불매 배터리 폭발 무섭다", "쓰레기 회사 배터리 폭발 리콜하라고"]
    burst = [mention(100 + i, "dcinside", burst_texts[i % 4], sentiment=-0.9, toxicity=0.8, minutes=55 + i * 0.2,
                     likes=40 + i) for i in range(16)]
    pred = predict(calm + burst, "campaign_b")
    risk = [r for r in pred.risks if r.kind == "negative_burst"]
    assert risk and risk[0].platform == "dcinside"
    assert {"배터리", "폭발", "리콜"} & set(risk[0].terms)
    assert risk[0].figures["negative_share"] == 1.0 and risk[0].figures["toxic_share"] == 1.0
    assert set(risk[0].mention_ids) <= {f"e{100 + i:04d}" for i in range(16)}
    tox = [r for r in pred.risks if r.kind == "toxic_language"]
    assert tox and tox[0].platform == "dcinside"
    assert not [r for r in pred.risks if r.kind == "negative_burst" and r.platform == "naver_blog"]
    assert pred.brand_sentiment < 0


def test_confidence_grows_with_more_agreeing_diverse_mentions():
    three = predict(buyer_group()[:3], "c")
    many = predict(buyer_group(30), "c")
    assert many.confidence > three.confidence + 0.2
    # disagreement lowers it at the same size
    split = [mention(i, BUYERS[i % 6][0], "글쎄요", sentiment=0.9 if i % 2 else -0.9, minutes=i) for i in range(30)]
    assert predict(split, "c").confidence < many.confidence
    # one author posting thirty times is one voice
    one_voice = [dict(m, author={"id": "same"}) for m in buyer_group(30)]
    pred, sig = predict_with_signals(one_voice, "c")
    assert sig.distinct_authors == 1 and sig.effective_n == pytest.approx(1.0)
    assert pred.confidence < three.confidence


def test_only_credible_mentions_unless_none_is():
    good = buyer_group(12)
    bots = [mention(500 + i, "twitter", "최악 절대 사지마", sentiment=-0.95, credible=False) for i in range(40)]
    pred = predict(good + bots, "c")
    assert pred.mentions_used == 12 and pred.brand_sentiment > 0.7
    assert any(r.kind == "low_credibility" for r in pred.risks)
    # none credible: all used, with lower confidence
    all_bad = [dict(m, credible=False) for m in buyer_group(24)]
    fallback, sig = predict_with_signals(all_bad, "c")
    assert sig.used_all_mentions and fallback.mentions_used == 24
    assert fallback.confidence < predict(buyer_group(24), "c").confidence
    # credibility on 0-100 without the flag
    no_flag = [{k: v for k, v in m.items() if k != "credible"} for m in good]
    assert predict(no_flag, "c").mentions_used == 12


def test_weights_and_rating_blend():
    news = [mention(i, "naver_news", "별로", sentiment=-0.8) for i in range(10)]
    reviews = [mention(50 + i, "naver_blog", "좋아요", sentiment=0.8) for i in range(10)]
    pred = predict(news + reviews, "c")
    assert pred.brand_sentiment == pytest.approx((0.9 * 0.8 - 0.3 * 0.8) / 1.2, abs=1e-6)
    demo = PredictorConfig.load(overrides={"demographic_weights": {"f_20s": 3.0}})
    seg = [dict(m, segment="f_20s") for m in news] + reviews
    assert predict(seg, "c", config=demo).brand_sentiment < pred.brand_sentiment
    # a predicted 10/10 rating pulls a lukewarm text score up, by rating_blend
    rated = [mention(i, "web", "음", sentiment=0.0, rating=10.0) for i in range(5)]
    cfg = PredictorConfig.load(overrides={"rating_blend": 0.5})
    assert predict(rated, "c", config=cfg).brand_sentiment == pytest.approx(0.5)


def test_velocity_and_viral_potential():
    slow = [mention(i, "twitter", "그냥 그래요", sentiment=0.5, minutes=i * 120) for i in range(12)]
    fast = [mention(i, p, "대박 다들 이거 봐", sentiment=0.7, minutes=60 + i * 0.5, likes=400)
            for i, p in enumerate(["twitter", "instagram", "dcinside", "naver_blog"] * 30)]
    p_slow, s_slow = predict_with_signals(slow, "c")
    p_fast, s_fast = predict_with_signals(fast, "c")
    assert s_fast.velocity_per_hour == 120 and s_fast.acceleration > 0
    assert p_fast.viral_potential > 0.8 > 0.3 > p_slow.viral_potential
    assert any(o.kind == "viral_spread" for o in p_fast.opportunities)


def test_empty_group_and_items_from_text():
    pred = predict([], "c", made_at=T0)
    assert pred.mentions_used == 0 and pred.confidence == 0.0
    item = PredictionItem.model_validate("배송 지연")
    assert item.summary == "배송 지연" and item.kind == "note"


def test_accuracy_definitions():
    assert ACCURACY_ALERT_BELOW == 0.70
    assert accuracy(0.2, 0.6, "brand_sentiment") == pytest.approx(0.8)
    assert accuracy(0.2, 0.6, "purchase_intent") == pytest.approx(0.6)
    assert accuracy(-1.0, 1.0, "brand_sentiment") == 0.0
    preds = [{"campaign_id": "c", "made_at": T0 + timedelta(hours=h), "prediction_id": f"p{h}",
              "brand_sentiment": 0.1 * h, "purchase_intent": 0.5, "viral_potential": 0.5} for h in range(5)]
    outs = [{"campaign_id": "c", "metric": "brand_sentiment", "value": 0.2, "observed_at": T0 + timedelta(hours=h, minutes=30)}
            for h in (-1, 0, 2, 4)]
    scored = score_outcomes(outs, preds)
    assert [s.prediction_id for s in scored] == ["p0", "p2", "p4"]  # the one before -1h has no prediction
    assert [round(s.accuracy, 3) for s in scored] == [0.9, 1.0, 0.9]
    roll = rolling_accuracy(scored, last=2)
    assert len(roll) == 1 and roll[0].outcomes == 2 and roll[0].accuracy == pytest.approx(0.95)
    assert not roll[0].below_alert
    bad = [dict(campaign_id="c", metric="purchase_intent", observed_at=T0 + timedelta(hours=i), accuracy=0.5)
           for i in range(3)]
    assert rolling_accuracy(bad)[0].below_alert


def test_the_shipped_rating_regressor():
    """onnx/rating through scoring.rating (the real ONNX file): stars from the words."""
    from scoring.rating import RatingModel, default_rating_dir

    d = default_rating_dir()
    assert (d / "CARD.md").is_file() and (d / "model.onnx").stat().st_size < 50 * 2**20
    model = RatingModel()
    r = model.predict(["인생 영화 최고의 명작 10점 만점에 10점", "그냥 그랬어요 볼만은 한데 좀 지루함",
                       "최악 시간 아깝다 돈 버렸다 1점도 아깝다", ""])
    assert r.shape == (4,) and ((r >= 1) & (r <= 10)).all()
    assert r[0] > 8.5 > r[1] > r[2] and r[2] < 3
    assert model.predict([]).shape == (0,)
