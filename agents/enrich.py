"""Turning validated mentions into scored ones: normalise, anonymise, match campaigns, score.

Everything here works on a batch, because batching is where the speed comes from: the text
models see one call per batch.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Protocol, Sequence

from schemas import Mention, ScoredMention, TextScores
from scoring.privacy import Anonymiser

_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN = re.compile(r"[A-Za-z]")


class BatchTextScorer(Protocol):
    def analyse(self, texts: Sequence[str]) -> tuple[list[TextScores], list[str], list[list[str]]]: ...


class CampaignMatching(Protocol):
    def match(self, text: str, platform: str, posted_at: datetime) -> list[str]: ...


def detect_lang(text: str) -> str:
    hangul = len(_HANGUL.findall(text))
    latin = len(_LATIN.findall(text))
    if hangul and hangul * 3 >= latin:
        return "ko"
    if latin:
        return "en"
    return "und"


def credibility(mention: Mention) -> float:
    """A rule score in [0, 1]: old, followed, verified accounts with engagement are more credible.

    Brand-new accounts with no followers that post links are the classic bot / astroturf shape.
    """
    author = mention.author
    score = 0.35
    if author.created_at is not None:
        age_days = (mention.posted_at.date() - author.created_at).days
        score += 0.25 * min(max(age_days, 0) / 365.0, 1.0)
        if age_days < 7:
            score -= 0.15
    score += 0.2 * min(math.log10(1 + author.followers) / 4.0, 1.0)
    if author.following > 0 and author.followers / author.following < 0.05 and author.following > 500:
        score -= 0.15  # follows thousands, followed by nobody
    if author.verified:
        score += 0.2
    e = mention.engagement
    score += 0.1 * min(math.log10(1 + e.likes + 2 * e.comments + 3 * e.shares) / 3.0, 1.0)
    return round(min(max(score, 0.0), 1.0), 4)


class MentionEnricher:
    """``anonymiser`` (keyed with the deployment's salt) replaces personal data in the text and
    pseudonymises ``author.id`` and ``author.handle`` before anything leaves this class."""

    def __init__(self, scorer: BatchTextScorer, matcher: CampaignMatching, anonymiser: Anonymiser) -> None:
        self.scorer = scorer
        self.matcher = matcher
        self.anonymiser = anonymiser

    def set_matcher(self, matcher: CampaignMatching) -> None:
        self.matcher = matcher

    def enrich(self, mentions: Sequence[Mention]) -> list[ScoredMention]:
        if not mentions:
            return []
        now = datetime.now(timezone.utc)
        # Personal data goes first: nothing downstream (models, topics, ClickHouse) sees it.
        anonymise = self.anonymiser
        texts = [anonymise(m.text) for m in mentions]
        scores, normalised, slang = self.scorer.analyse(texts)
        out = []
        matcher = self.matcher
        for m, text, norm, terms, s in zip(mentions, texts, normalised, slang, scores):
            cred = credibility(m)
            data = dict(m.__dict__)  # keeps nested models; model_dump would turn them into dicts
            a = m.author
            data.update(
                author=a.model_copy(update={"id": anonymise.author_id(a.id), "handle": anonymise.handle(a.handle)}),
                text=text,
                text_normalised=norm,
                lang=m.lang or detect_lang(text),
                campaigns=matcher.match(text, m.platform, m.posted_at),
                slang_terms=terms,
                credibility=cred,
                credible=cred >= 0.5,
                scored_at=now,
                **s.model_dump(),
            )
            out.append(ScoredMention.model_construct(**data))
        return out
