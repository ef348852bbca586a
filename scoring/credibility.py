"""Credibility of a mention, 0-100, as a base plus signed reasons an analyst can read.

``credibility = clip(base + sum(reason.points), 0, 100)``; a mention is credible above
``CREDIBLE_ABOVE`` (60, the design's threshold). The base and every weight and threshold live in
ONE file, ``scoring/credibility.json`` (each factor documented there under ``why``); a copy passed
to ``CredibilityRules.load(path)`` changes the scoring, nothing else holds a weight. The shipped
rules (the design's):

==================== ======= ===============================================================
factor               points  applies when
==================== ======= ===============================================================
(base)               50
bot_likelihood       -50 x p ``p`` from ``scoring.bots`` (always listed, with the profile signals)
account_age          +10     the account is more than 365 days old at the post
follower_ratio       -20     followers / following < 0.1, counted when following >= 20 (an
                             account that follows nobody or a handful has no ratio: no penalty)
extreme_language     -20     the toxicity model's score >= 0.7 (above its "toxic" flag threshold, model.json's `threshold`)
personal_experience  +30     a first-person use / purchase expression of
                             ``experience_phrases.tsv`` in the normalised text
media                +15     a photo or video is attached
hashtags             -15     more than 10 hashtags (the larger of ``hashtags`` and #tags in the text)
repetition           -30     added by the cross-mention tracker (same author, near-duplicate text)
coordination         -25     added by the cross-mention tracker (several accounts, same text)
==================== ======= ===============================================================

Why base 50: a plain post from an ordinary account older than a year (bot likelihood 0.05-0.15)
lands at 52-58, just under the threshold, so "credible" needs positive evidence: a photo or a
described experience. An author we know nothing about (community boards: no age, no counts) gets
the bot model's prior (0.13): about 44. A fresh account pushing a product with hashtags falls
well under 30.

``mention_reasons`` gives the per-mention reasons; ``combine`` is pure, so the tracker adds its
``repetition`` / ``coordination`` reasons (``rules.weights[factor]`` points) and combines again.
Evidence never quotes more of the text than the matched expression, and the enricher passes the
anonymised text, so no personal data reaches a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import ahocorasick
import orjson

from schemas.errors import ConfigurationError
from schemas.records import CredibilityReason, Mention
from scoring.normalise import normalise

__all__ = ["CREDIBLE_ABOVE", "RULES_PATH", "FACTORS", "CredibilityRules", "mention_reasons", "combine",
           "is_credible", "ExperienceMatcher", "load_experience_pattern"]

CREDIBLE_ABOVE = 60.0
HERE = Path(__file__).resolve().parent
RULES_PATH = HERE / "credibility.json"
FACTORS = ("bot_likelihood", "account_age", "follower_ratio", "extreme_language", "personal_experience", "media",
           "hashtags", "repetition", "coordination")

_HASHTAG = re.compile(r"(?<![\w#])#[^\s#]+")
_WORD = re.compile(r"[a-z0-9']")


class ExperienceMatcher:
    """Finds the first expression of an ``experience_phrases.tsv`` file in a normalised text.

    One C-level Aho-Corasick pass per script instead of a regular expression with a hundred
    alternatives (26 us on a 40-character text; this is ~1 us): phrases in Hangul are matched
    with every space removed from both sides, since Korean spacing varies (직접써보니 = 직접 써보니);
    phrases in Latin letters on the text as it is, whole words only. The few ``regex`` lines are
    tried one by one after that."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._korean = ahocorasick.Automaton()
        self._latin = ahocorasick.Automaton()
        self._regexes: list[re.Pattern] = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 2 or parts[0] not in ("phrase", "regex") or not parts[1].strip():
                raise ConfigurationError(f"{path}:{n}: expected 'phrase|regex<TAB>expression[<TAB>note]'")
            kind, expr = parts[0], parts[1].strip()
            if kind == "regex":
                try:
                    self._regexes.append(re.compile(expr))
                except re.error as exc:
                    raise ConfigurationError(f"{path}:{n}: bad regular expression: {exc}") from None
                continue
            phrase = normalise(expr)
            if phrase.isascii():
                for variant in {phrase, phrase.replace("'", "\u2019")}:
                    self._latin.add_word(variant, (len(variant), phrase))
            else:
                self._korean.add_word(phrase.replace(" ", ""), phrase)
        if not (len(self._korean) or len(self._latin) or self._regexes):
            raise ConfigurationError(f"{path}: no expressions")
        for automaton in (self._korean, self._latin):
            if len(automaton):
                automaton.make_automaton()

    def search(self, text: str) -> str | None:
        """The expression found in ``text`` (already normalised), or None."""
        if len(self._korean):
            for _end, phrase in self._korean.iter(text.replace(" ", "")):
                return phrase
        if len(self._latin):
            for end, (length, phrase) in self._latin.iter(text):
                start = end - length + 1
                if (start == 0 or not _WORD.match(text, start - 1)) and not _WORD.match(text, end + 1):
                    return phrase
        for rx in self._regexes:
            m = rx.search(text)
            if m:
                return m.group(0)
        return None

    def __reduce__(self):
        return (ExperienceMatcher, (self.path,))


def load_experience_pattern(path: Path) -> ExperienceMatcher:
    """The matcher of every expression in ``path`` (format: the file's header)."""
    return ExperienceMatcher(path)


@dataclass(frozen=True)
class CredibilityRules:
    """The base, every factor's points (``weights``) and thresholds, read from one JSON file.

    Treat ``weights`` as read-only (``dataclasses.replace`` makes a changed copy)."""

    base: float
    weights: dict[str, float]
    account_age_days: int = 365
    follower_ratio_below: float = 0.1
    follower_ratio_min_following: int = 20
    extreme_toxicity: float = 0.7
    hashtags_more_than: int = 10
    experience: ExperienceMatcher | None = field(default=None, repr=False)
    source: str = ""

    @classmethod
    def load(cls, path: Path | str | None = None) -> "CredibilityRules":
        """The rules of ``path`` (default: the shipped ``scoring/credibility.json``). The phrases
        file it names is read relative to it, or from ``scoring/`` when not found there."""
        return _load(str(Path(path).resolve()) if path else str(RULES_PATH))

    def points(self, factor: str) -> float:
        return self.weights[factor]


def _number(factors: dict, factor: str, key: str, default: Any) -> Any:
    value = factors.get(factor, {}).get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"credibility rules: {factor}.{key} must be a number, got {value!r}")
    return value


@lru_cache(maxsize=8)
def _load(path: str) -> CredibilityRules:
    p = Path(path)
    try:
        raw = orjson.loads(p.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ConfigurationError(f"credibility rules {p}: {exc}") from None
    factors = raw.get("factors", {})
    missing = [f for f in FACTORS if "points" not in factors.get(f, {})]
    if missing or "base" not in raw:
        raise ConfigurationError(f"credibility rules {p}: missing base or points of {missing}")
    weights = {name: float(_number(factors, name, "points", 0)) for name in factors}
    phrases = Path(factors["personal_experience"].get("phrases", "experience_phrases.tsv"))
    if not phrases.is_absolute():
        phrases = p.parent / phrases if (p.parent / phrases).exists() else HERE / phrases
    return CredibilityRules(
        base=float(raw["base"]),
        weights=weights,
        account_age_days=int(_number(factors, "account_age", "older_than_days", 365)),
        follower_ratio_below=float(_number(factors, "follower_ratio", "below", 0.1)),
        follower_ratio_min_following=int(_number(factors, "follower_ratio", "min_following", 20)),
        extreme_toxicity=float(_number(factors, "extreme_language", "toxicity_at_least", 0.7)),
        hashtags_more_than=int(_number(factors, "hashtags", "more_than", 10)),
        experience=load_experience_pattern(phrases),
        source=str(p),
    )


_setattr = object.__setattr__
_REASON_FIELDS = frozenset(("factor", "points", "evidence"))


def _reason(factor: str, points: float, evidence: str) -> CredibilityReason:
    points = round(points, 2)
    if type(points) is not float or type(factor) is not str or type(evidence) is not str:
        return CredibilityReason(factor=factor, points=points, evidence=evidence)
    # what validation makes of a str, a float and a str (they pass unchanged), without its cost
    r = CredibilityReason.__new__(CredibilityReason)
    _setattr(r, "__dict__", {"factor": factor, "points": points, "evidence": evidence})
    _setattr(r, "__pydantic_fields_set__", set(_REASON_FIELDS))
    _setattr(r, "__pydantic_extra__", None)
    _setattr(r, "__pydantic_private__", None)
    return r


# Reasons are immutable, and most of them repeat (one photo, the same phrase, the same account
# on another day): building one costs several microseconds on the enricher's hot path.
_shared = lru_cache(maxsize=4096)(_reason)


def mention_reasons(mention: Mention, toxicity: float, bot_likelihood: float, rules: CredibilityRules, *,
                    text_normalised: str | None = None, bot_signals: Sequence[str] = ()) -> list[CredibilityReason]:
    """The per-mention reasons that apply (cross-mention ones are the tracker's).

    ``text_normalised``: ``scoring.normalise`` of the (anonymised) text when the caller has it;
    otherwise the mention's own ``text_normalised`` or its text normalised here.
    ``bot_signals``: what moved the bot likelihood (``scoring.bots.explain``), for the evidence."""
    w = rules.weights
    out = [_reason("bot_likelihood", w["bot_likelihood"] * bot_likelihood,
                   f"bot likelihood {bot_likelihood:.2f}" + (": " + ", ".join(bot_signals) if bot_signals else ""))]
    a = mention.author
    posted: datetime = mention.posted_at
    if a.created_at is not None:
        days = (posted.date() - a.created_at).days
        if days > rules.account_age_days:
            out.append(_age_reason(w["account_age"], a.created_at, round(days / 365.25, 1)))
    if a.following >= max(rules.follower_ratio_min_following, 1):
        ratio = a.followers / a.following
        if ratio < rules.follower_ratio_below:
            out.append(_reason("follower_ratio", w["follower_ratio"],
                               f"{a.followers:,} followers / {a.following:,} following = {ratio:.3f} "
                               f"(< {rules.follower_ratio_below:g})"))
    if toxicity >= rules.extreme_toxicity:
        out.append(_shared("extreme_language", w["extreme_language"],
                           f"toxicity {toxicity:.2f} >= {rules.extreme_toxicity:g}"))
    if text_normalised is None:
        text_normalised = getattr(mention, "text_normalised", "") or normalise(mention.text)
    found = rules.experience.search(text_normalised) if rules.experience is not None else None
    if found:
        out.append(_shared("personal_experience", w["personal_experience"], f"matched '{found}'"))
    if mention.media_urls:
        out.append(_media_reason(w["media"], len(mention.media_urls)))
    tags = len(mention.hashtags)
    if "#" in mention.text:
        tags = max(tags, len(_HASHTAG.findall(mention.text)))
    if tags > rules.hashtags_more_than:
        out.append(_shared("hashtags", w["hashtags"], f"{tags} hashtags (> {rules.hashtags_more_than})"))
    return out


@lru_cache(maxsize=4096)
def _age_reason(points: float, created: date, years: float) -> CredibilityReason:
    return _reason("account_age", points, f"account created {created.isoformat()}, {years:.1f} years before the post")


@lru_cache(maxsize=64)
def _media_reason(points: float, n: int) -> CredibilityReason:
    return _reason("media", points, f"{n} photo{'' if n == 1 else 's'}/video{'' if n == 1 else 's'} attached")


def combine(reasons: Sequence[CredibilityReason], rules: CredibilityRules) -> float:
    """``base + sum(points)``, clipped to [0, 100]. Pure: call it again after adding reasons."""
    total = rules.base + sum(r.points for r in reasons)
    return round(0.0 if total < 0.0 else 100.0 if total > 100.0 else total, 2)


def is_credible(credibility: float) -> bool:
    return credibility > CREDIBLE_ABOVE
