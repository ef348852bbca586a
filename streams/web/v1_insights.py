"""Insights and recommendations, in Korean and English, written from a prediction's own evidence:
its risks and opportunities (kind, platform, terms, figures, example mentions) and its figures.
Nothing is said that the prediction does not hold; an item of a kind not known here is still
reported, with its own summary.
"""

from __future__ import annotations

from typing import Any, Mapping

from streams.web.v1_models import Insight, Text

# what each kind of item means, and what to do about it: (ko, en) templates over the item's
# platform ("{where}"), terms ("{terms}") and share ("{share}")
_SAYS: dict[str, tuple[str, str]] = {
    "negative_burst": ("{where}에서 부정적 반응이 몰리고 있습니다 (부정 비율 {share}){terms_ko}.",
                       "Negative reaction is concentrating {where_en} ({share} negative){terms_en}."),
    "toxic_language": ("{where}에서 공격적인 표현이 늘고 있습니다 ({share}){terms_ko}.",
                       "Toxic language is rising {where_en} ({share}){terms_en}."),
    "purchase_signal": ("{where}에서 구매 의향이 뚜렷합니다{terms_ko}.",
                        "Clear purchase intent {where_en}{terms_en}."),
    "positive_momentum": ("긍정적인 반응이 이어지고 있습니다{terms_ko}.",
                          "Positive reaction keeps building{terms_en}."),
    "viral_negative": ("부정적 반응이 빠르게 퍼지고 있습니다{terms_ko}.",
                       "A negative reaction is spreading fast{terms_en}."),
    "viral_spread": ("반응이 빠르게 확산되고 있습니다{terms_ko}.", "The reaction is spreading fast{terms_en}."),
    "low_credibility": ("신뢰할 수 있는 작성자의 언급이 적습니다 (신뢰 비율 {share}).",
                        "Few mentions come from credible authors ({share} credible)."),
}
_DO: dict[str, tuple[str, str]] = {
    "negative_burst": ("{where}의 불만 글{terms_ko}을 확인하고 공식 답변을 준비하세요.",
                       "Read the complaints {where_en}{terms_en} and prepare an official answer."),
    "toxic_language": ("{where}의 공격적 게시물을 모니터링하고 필요하면 신고·숨김 처리하세요.",
                       "Watch the toxic posts {where_en}; report or hide them where the platform allows."),
    "purchase_signal": ("{where}에서 구매를 고민하는 사용자에게 구매 경로와 혜택을 안내하세요.",
                        "Point the would-be buyers {where_en} to where and how to buy (offers, stock)."),
    "positive_momentum": ("긍정적인 후기{terms_ko}를 공식 채널에서 공유해 분위기를 이어가세요.",
                          "Share the positive posts{terms_en} on your own channels to keep the momentum."),
    "viral_negative": ("확산 속도가 빠르므로 오늘 안에 공식 입장을 내는 것을 검토하세요.",
                       "It is spreading fast: consider an official statement today."),
    "viral_spread": ("확산 중인 게시물에 공식 계정으로 참여해 노출을 키우세요.",
                     "Join the spreading conversation from the brand's account to ride the reach."),
    "low_credibility": ("수치를 판단하기 전에 계정 신뢰도와 조직적 게시 여부를 확인하세요.",
                        "Check author credibility and coordinated posting before acting on these figures."),
}


def _fill(template: str, item: Mapping[str, Any]) -> str:
    platform = item.get("platform") or ""
    terms = [t for t in item.get("terms") or [] if t][:5]
    figures = item.get("figures") or {}
    share = figures.get("credible_share", item.get("severity", 0.0))
    return template.format(
        where=platform or "전체 플랫폼", where_en=f"on {platform}" if platform else "across platforms",
        terms_ko=f" (주요 단어: {', '.join(terms)})" if terms else "",
        terms_en=f" (key words: {', '.join(terms)})" if terms else "",
        share=f"{float(share):.0%}")


def _item_insight(item: Mapping[str, Any], side: str) -> tuple[Insight, Text | None]:
    kind = str(item.get("kind") or "note")
    says, does = _SAYS.get(kind), _DO.get(kind)
    if says is None:
        summary = str(item.get("summary") or kind)
        label = ("위험", "risk") if side == "risk" else ("기회", "opportunity")
        text = Text(ko=f"{label[0]}: {summary}", en=f"{label[1]}: {summary}")
    else:
        text = Text(ko=_fill(says[0], item), en=_fill(says[1], item))
    advice = Text(ko=_fill(does[0], item), en=_fill(does[1], item)) if does else None
    insight = Insight(kind=kind, severity=min(1.0, max(0.0, float(item.get("severity") or 0.0))), text=text,
                      mention_ids=list(item.get("mention_ids") or [])[:5])
    return insight, advice


def _figures(p: Mapping[str, Any]) -> Insight:
    s, pi, v, c = (float(p[k]) for k in ("brand_sentiment", "purchase_intent", "viral_potential", "confidence"))
    mood_ko = "긍정적" if s > 0.15 else "부정적" if s < -0.15 else "중립적"
    mood_en = "positive" if s > 0.15 else "negative" if s < -0.15 else "neutral"
    n = int(p.get("mentions_used") or 0)
    return Insight(kind="figures", severity=min(1.0, abs(s)), text=Text(
        ko=f"언급 {n}건 기준 브랜드 반응은 {mood_ko}입니다 (감성 {s:+.2f}, 구매 의향 {pi:.0%}, 확산 가능성 {v:.0%}, "
           f"신뢰도 {c:.0%}).",
        en=f"Over {n} mentions the brand reaction is {mood_en} (sentiment {s:+.2f}, purchase intent {pi:.0%}, "
           f"viral potential {v:.0%}, confidence {c:.0%})."))


def write(prediction: Mapping[str, Any]) -> tuple[list[Insight], list[Text]]:
    """(insights, recommendations) of one stored prediction (risks first, then opportunities,
    each by severity as the predictor ordered them)."""
    insights, advice = [_figures(prediction)], []
    for side, items in (("risk", prediction.get("risks") or []), ("opportunity", prediction.get("opportunities") or [])):
        for item in items:
            insight, todo = _item_insight(item if isinstance(item, Mapping) else {"summary": str(item)}, side)
            insights.append(insight)
            if todo is not None and todo not in advice:
                advice.append(todo)
    if float(prediction.get("confidence") or 0.0) < 0.3:
        advice.append(Text(ko="신뢰도가 낮습니다. 언급이 더 쌓인 뒤 다시 판단하세요.",
                           en="Confidence is low: decide again once more mentions have come in."))
    return insights, advice
