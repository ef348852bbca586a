"""Turning validated mentions into scored ones: normalise, anonymise, match campaigns, score.

Everything here works on a batch, because batching is where the speed comes from: the text
models see one call per batch.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol, Sequence

import numpy as np

from schemas import Author, Mention, ScoredMention, TextScores
from schemas.records import copy_with
from scoring.bots import explain as explain_bot
from scoring.credibility import CredibilityRules, combine, is_credible, mention_reasons
from scoring.privacy import Anonymiser



class BatchTextScorer(Protocol):
    def analyse(self, texts: Sequence[str]) -> tuple[list[TextScores], list[str], list[list[str]]]: ...


class CampaignMatching(Protocol):
    def match(self, text: str, platform: str, posted_at: datetime) -> list[str]: ...


def detect_langs(texts: Sequence[str]) -> list[str]:
    """The language of each text: "ko" when it has Hangul (syllables or compatibility jamo) at
    least a third as often as ASCII letters, else "en" when it has ASCII letters, else "und".
    Counted for the whole batch in one numpy pass."""
    if not texts:
        return []
    cp = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32)
    hangul = ((cp >= 0xAC00) & (cp <= 0xD7A3)) | ((cp >= 0x3131) & (cp <= 0x318E))
    latin = ((cp >= 0x41) & (cp <= 0x5A)) | ((cp >= 0x61) & (cp <= 0x7A))
    doc = np.repeat(np.arange(len(texts)), np.fromiter(map(len, texts), np.int64, len(texts)))
    nh = np.bincount(doc[hangul], minlength=len(texts)).tolist()
    nl = np.bincount(doc[latin], minlength=len(texts)).tolist()
    return ["ko" if h and h * 3 >= n else "en" if n else "und" for h, n in zip(nh, nl)]


class MentionEnricher:
    """``anonymiser`` (keyed with the deployment's salt) replaces personal data in the text and
    pseudonymises the author (``id``, ``handle``, ``name``; personal data in ``description`` and
    ``url`` replaced as in texts) before anything leaves this class.

    Credibility (0-100) and its reasons come from ``rules`` (default: the shipped
    ``scoring/credibility.json``). The bot model reads the author as given, before
    pseudonymisation, because the handle's shape is one of its signals; the reasons read the
    anonymised text, so their evidence holds no personal data."""

    def __init__(self, scorer: BatchTextScorer, matcher: CampaignMatching, anonymiser: Anonymiser,
                 rules: CredibilityRules | None = None) -> None:
        self.scorer = scorer
        self.matcher = matcher
        self.anonymiser = anonymiser
        self.rules = rules or CredibilityRules.load()
        # every scored mention is a copy of this one with its values (schemas.records.copy_with,
        # what model_copy(update=...) does, for less): the same values, fields and field order
        # (the order of the JSON) as model_construct(**values), at a fraction of the cost
        # (model_construct walks every field of the model in Python). The required fields hold
        # placeholders, always replaced.
        self._blank = ScoredMention.model_construct(**{name: None for name, f in ScoredMention.model_fields.items()
                                                       if f.is_required()})

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
        missing = [i for i, m in enumerate(mentions) if not m.lang]
        langs = [m.lang for m in mentions]
        for i, lang in zip(missing, detect_langs([texts[i] for i in missing])):
            langs[i] = lang
        out = []
        matcher = self.matcher
        rules = self.rules
        blank = self._blank
        for m, text, norm, terms, s, lang in zip(mentions, texts, normalised, slang, scores, langs):
            a = m.author
            bot = explain_bot(a, m.posted_at)
            reasons = mention_reasons(m, s.toxicity, bot.likelihood, rules, text_normalised=norm,
                                      bot_signals=[t[0] for t in bot.terms])
            cred = combine(reasons, rules)
            data = m.__dict__.copy()  # keeps nested models; model_dump would turn them into dicts
            # the scores' fields as they are: what model_dump() gives (floats, a tuple, str, bool)
            data.update(s.__dict__)
            data.update(
                author=copy_with(a, self._anonymous_author(a)),
                text=text,
                url=anonymise.url(m.url, a.handle),  # a post's URL often names its author
                text_normalised=norm,
                lang=lang,
                campaigns=matcher.match(text, m.platform, m.posted_at),
                slang_terms=terms,
                credibility=cred,
                credible=is_credible(cred),
                bot_likelihood=bot.likelihood,
                credibility_reasons=reasons,
                coordination="",
                scored_at=now,
            )
            out.append(copy_with(blank, data))  # = blank.model_copy(update=data)
        return out

    def _anonymous_author(self, a: Author) -> dict:
        anonymise = self.anonymiser
        out = {"id": anonymise.author_id(a.id), "handle": anonymise.handle(a.handle)}
        if a.name:
            out["name"] = "name_" + anonymise.token("n", a.name.strip().lower())
        if a.description:
            out["description"] = anonymise(a.description)
        if a.url:
            out["url"] = anonymise.url(a.url, a.handle)
        return out
