"""Purchase-intent rules: surface patterns over normalised text -> rule tokens.

The patterns cover the purchase verbs (구매/구입/주문/결제 …, conjugated forms of 사다 at the
start of an eojeol: 샀어요, 살까, 사려고, 사야 …), wanting (갖고 싶, 탐나 …), where-to-buy
(어디서 사, 링크, 판매처 …), price/deal, stock (품절, 재입고 …), first-hand purchase reports
(내돈내산, 재구매 …) and rejection (안 살, 환불, 불매 …), in Korean and English. Each category
found adds one token to the hashed features of the purchase-intent head, whose weights are
learned from the labelled set in onnx/purchase_intent/. kiwipiepy (morphemes) was measured at
~200 sentences/s on one core here, far below the 5,000/s budget, so it is used only offline in
the recipe, to check these surface rules against its 사다/구매하다 analyses.
"""

from __future__ import annotations

import re

from .normalise import group_end, guard_behind_first

_E = r"(?:^|(?<=[\s\"'(\[.,!?~]))"  # start of an eojeol

CATEGORIES: dict[str, str] = {
    "buy_verb": (
        r"구매|구입|주문|결제|장바구니|직구|공구|공동구매|예약구매|사전예약|사전 예약|정기배송|구독|지르|질렀|질러|지름|플렉스|겟했|득템"
        rf"|{_E}(?:샀|삼\b|삽니|삽시|살(?:까|래|지|거|게|려|만한|만 한|\s?수)|사(?:요|러|려|야|볼|봐|봤|세요|시|자|고\s?싶|는\s?게|도\s?돼|면|서|기로|놓|둘|줄|드림|가지고|ㄹ까))"
        r"|\bbuy|\bbought\b|\bpurchas|\border(?:ed|ing)?\b|checkout|add(?:ed)? to (?:my )?cart|pre-?order|\bcop(?:ped)?\b"
    ),
    "want": (
        r"갖고\s?싶|가지고\s?싶|탐나|사고\s?싶|살까\s?말까|사야\s?하|사야겠|살\s?예정|살\s?거|지름신|위시리스트|찜"
        r"|want (?:to buy|one|it)|wanna (?:buy|get)|gonna (?:buy|get)|need (?:to buy|one)|should i (?:buy|get)|wishlist|worth (?:it|buying|the money)"
    ),
    "where": (
        r"어디서\s?(?:사|살|샀|구매|구입|파|팔)|어디\s?(?:제품|꺼|거)|파는\s?(?:곳|데)|판매처|구매처|구매\s?링크|링크|정보\s?좀|제품명"
        r"|where (?:to|can i|do i|did you) (?:buy|get|order)|\blink\b|\bsource\?"
    ),
    "price": (
        r"가격|얼마|할인|세일|쿠폰|최저가|가성비|배송|택배|적립|포인트|무료배송|특가|핫딜|만원|천원|\d+\s?원"
        r"|\bprice|\bcost|discount|\bsale\b|coupon|\bdeal\b|shipping|\$\d"
    ),
    "stock": r"품절|재입고|입고|재고|매진|완판|한정판|한정 수량|sold out|restock|in stock|out of stock|limited edition",
    "owned": (
        r"내돈내산|내돈내먹|재구매|또\s?샀|두\s?번째\s?구매|써\s?보니|써보니|사용\s?후기|구매\s?후기|언박싱|하울"
        r"|repurchas|unboxing|\bhaul\b|bought (?:it|this|another)"
    ),
    "reject": (
        r"안\s?(?:사|살|샀|삽)|사지\s?마|사지\s?말|비추|환불|반품|불매|손절|돈\s?아깝|돈\s?낭비"
        r"|don'?t buy|not buying|never buy|won'?t buy|refund|returned|return it|boycott|waste of money"
    ),
}

_BOUNDARY = r"[\s\"'(\[.,!?~]"  # what may stand before the start of an eojeol (``_E``)


def _literal_first(pattern: str) -> str:
    """The same regular expression with the assertions that open an alternative moved behind its
    first character, so ``re`` can skip ahead to the characters that may start a match instead of
    trying every alternative at every position (21 µs → a few per text):

    * ``\\bx`` (x a letter) → ``x(?<!\\wx)``: x is a word character, so the boundary means that
      the character before it is not one (or that there is none);
    * ``_E(?:A|B…)`` → ``(?:a(?<![^…]a)A'|…)``, a the first (literal) character of each
      alternative: the character before it is one of ``_BOUNDARY`` (or there is none)."""
    while _E + "(?:" in pattern:
        at = pattern.index(_E + "(?:")
        j = group_end(pattern, at + len(_E))
        group = pattern[at + len(_E):j]  # (?:A|B…)
        pattern = pattern[:at] + "(?:" + "|".join(guard_behind_first(group, f"[^{_BOUNDARY[1:-1]}]")) + ")" + pattern[j:]
    return re.sub(r"\\b([A-Za-z])(?![?*+{])", r"\1(?<!\\w\1)", pattern)


_COMPILED = [(name, re.compile(_literal_first(p))) for name, p in CATEGORIES.items()]


def rule_categories(normalised_text: str) -> list[str]:
    """Rule categories that fire on one normalised text."""
    return [name for name, rx in _COMPILED if rx.search(normalised_text)]


def rule_score(categories: list[str]) -> float:
    """A hand-set prior (0-1) from the categories alone; the shipped head learns its own weights."""
    w = {"buy_verb": 0.35, "want": 0.35, "where": 0.3, "price": 0.15, "stock": 0.15, "owned": 0.3, "reject": -0.4}
    s = sum(w[c] for c in categories)
    return float(min(1.0, max(0.0, s)))
