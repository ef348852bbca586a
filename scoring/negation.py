"""Which words of a normalised text a negation applies to (its scope), for the sentiment features.

Korean negates after the word (부작용 **없어요**, 튼튼하지 **않아요**, 기대만큼은 **아니에요**,
추천하지 **못해요**) or before it (**안** 튼튼해요, **못** 고쳐요); English before it (**not**
good, **never** again). An adverb between the two (하나도, 전혀, 별로 …; really, that …) is
skipped, so 트러블 **하나도 없음** negates 트러블. The featurizer gives each scoped word's own
features a negative count (``scoring.features``), so a negated complaint word pulls the way its
praise counterpart would and the model keeps learning one weight per word: this module says
where negation reaches, not what any word means.

Fused forms (재미없다, 문제없어요) are one word: their own n-grams already hold the negation.
"""

from __future__ import annotations

# a word that starts with one of these negates the word before it
KO_AFTER = ("없", "않", "아니", "아님", "아닌", "아냐", "못하", "못해", "못했", "못한", "못함", "못합")
# a word that is one of these negates the word after it
BEFORE = frozenset({"안", "못", "not", "never", "no", "dont", "don't", "doesnt", "doesn't", "didnt", "didn't",
                    "isnt", "isn't", "wasnt", "wasn't", "arent", "aren't", "cant", "can't", "cannot", "wont",
                    "won't", "nothing"})
# degree and frequency adverbs between a negator and its word
SKIPPED = frozenset({"하나도", "전혀", "별로", "딱히", "거의", "그다지", "그닥", "그렇게", "크게", "절대", "한번도",
                     "조금도", "아무", "별", "너무", "많이", "다", "더", "really", "very", "that", "so", "too", "at",
                     "all", "even", "quite", "exactly"})


def _word_past_adverbs(words: list[str], j: int, step: int) -> int | None:
    """The first position from ``j`` on, moving by ``step``, that holds no skipped adverb."""
    while 0 <= j < len(words) and words[j] in SKIPPED:
        j += step
    return j if 0 <= j < len(words) else None


def negated_words(normalised: str) -> list[str]:
    """The words of ``normalised`` (split on spaces) that a negation applies to, in text order,
    each position once: "트러블 하나도 없음" -> ["트러블"], "안 튼튼해요" -> ["튼튼해요"]."""
    words = normalised.split()
    scoped: set[int] = set()
    for i, w in enumerate(words):
        j = None
        if w.startswith(KO_AFTER):
            j = _word_past_adverbs(words, i - 1, -1)
        elif w in BEFORE:
            j = _word_past_adverbs(words, i + 1, 1)
        if j is not None and words[j] not in BEFORE and not words[j].startswith(KO_AFTER):
            scoped.add(j)
    return [words[j] for j in sorted(scoped)]
