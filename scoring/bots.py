"""Bot likelihood of an account from its profile alone: a transparent logistic model.

``bot_likelihood(author, posted_at)`` = sigmoid(INTERCEPT + sum of the terms below), each term a
hand-set weight times a log-scaled count or a per-day rate, centred on what an ordinary human
account looks like, so a term is 0 for an unremarkable value and its sign says which way it
pushes. ``explain`` gives the same number with the terms that moved it most, in words, for the
``bot_likelihood`` credibility reason.

Why hand-set and not trained: there is no labelled bot data in this project. The features and
the direction and rough strength of each weight come from published work on profile-only
detection:

* Yang et al. 2020, "Scalable and generalizable social bot detection through data selection"
  (AAAI; Botometer-lite): the 20 profile features used here almost as they are (statuses,
  followers, friends, listed counts and their per-day growth rates, followers/friends ratio,
  default profile, verified, screen-name length, digits in screen name and name, description
  length, screen-name likelihood). Bots there post more per day, gather fewer followers and
  lists per day of age, follow more than they are followed, and have longer, digit-heavy,
  less "pronounceable" screen names.
* Varol et al. 2017, "Online human-bot interactions" (ICWSM; Botometer): user metadata (counts,
  age, default profile) is among the most informative feature classes.
* Cresci et al. 2015, "Fame for sale": fake followers have default images, empty descriptions,
  no URL, few posts and follow far more accounts than follow them.
* Feng et al. 2022, TwiBot-22: verified accounts are almost all human; new accounts are
  over-represented among bots; profile features alone reach moderate, not high, scores there.

Features (``x``), centre (``c``, the ordinary human) and weight (``w``, logit per unit of
``x - c``); a term whose input is unknown is 0. ``age`` = days from creation to the post, at
least 1:

==================  ======================================  =====  ======  ==========================
name                x                                       c      w       clipped to (logit)
==================  ======================================  =====  ======  ==========================
account_age         ln(1 + age days)                        7.0    -0.40   [-0.6, 2.5]
posts_per_day       ln(1 + statuses / age)                  1.4    +0.55   [-0.6, 3.0]
few_posts           statuses < 10                           -      +0.40   (fake followers post little)
followers           ln(1 + followers)                       5.0    -0.25   [-1.5, 1.3]
follow_ratio        ln((followers + 1) / (following + 1))   0.0    -0.22   [-1.0, 1.5]
follows_per_day     ln(1 + following / age)                 0.4    +0.30   [-0.2, 1.5]
listed              ln(1 + listed)                          1.1    -0.45   [-1.8, 0.6]
default_image       default_profile_image                   -      +1.30
verified            verified                                -      -2.00
empty_description   description == "" (profile known)       -      +0.70
profile_url         url != "" (profile known)               -      -0.30
bot_words           "bot", "automated", spam/ad words        -      +1.50   (in the description)
handle_digits       digits in the handle                    1      +0.12   [0, 1.0]
handle_digit_tail   6+ trailing digits (X's suggested        -      +0.90
                    handles for bulk sign-ups)
handle_length       characters of the handle                10     +0.06   [-0.3, 0.4]
handle_randomness   5+ consonants in a row, or letters and  -      +0.40
                    digits interleaved (a1b2c)
name_digits         digits in the display name              -      +0.40
==================  ======================================  =====  ======  ==========================

INTERCEPT = -1.9, so an account whose every term is 0 (or unknown) gets 0.13, about the share
of bots among active accounts in TwiBot-22; the intercept does not change a ranking (ROC-AUC),
only how many credibility points an unknown author loses.

Missing fields: with only id, handle and created_at known (most platforms other than X), the
model reduces to account age and the handle terms; followers = following = 0 with no other
profile field is read as "not reported", not as an account nobody follows (collectors of
community boards leave both at 0). A profile counts as known once ``statuses_count``,
``listed_count`` or ``default_profile_image`` is set, or a description, name or URL is given.

Limits, honestly: the weights are not fitted, so on a real labelled set this is a baseline, not
Botometer; it has not been measured on labelled accounts here (``tests/test_bots.py`` only checks
orderings on plausible synthetic profiles, and that it ranks them better than age and follower
ratio alone). It sees one profile, not behaviour: a patient bot with an old, bought account and
human-looking counts passes; a human who tweets 200 times a day, or a new human account, is
pushed up. X now sells verification, so ``verified`` means less since 2023. Pseudonymised
handles (``user_<hex>``) carry no handle signal: score before anonymising, as the enricher does.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import NamedTuple

from schemas.records import Author

__all__ = ["bot_likelihood", "explain", "BotAssessment", "INTERCEPT"]

INTERCEPT = -1.9

# Self-declared automation and the usual spam/ad profile vocabulary, English and Korean
# (gambling, loans, side income, "DM me"): Korean promotion accounts advertise through the bio.
_BOT_WORDS = re.compile(
    r"(?<![a-z])(?:bot|robot|automated|auto[- ]?post(?:ed|s|ing)?|follow ?back|f4f|giveaways?|airdrops?|"
    r"crypto|nft|forex|onlyfans|promo(?:tion)?s?|dm (?:for|me))(?![a-z])"
    r"|봇(?![가-힣])|자동\s?(?:게시|업로드|트윗)|토토|카지노|바카라|대출|부업|수익\s?보장|문의\s?(?:는|주세요)?\s?(?:dm|카톡|텔레)"
    r"|텔레그램|오픈\s?카톡|홍보\s?계정|광고\s?계정",
    re.IGNORECASE,
)
_DIGIT_TAIL = re.compile(r"\d{6,}$")
# Stand-in for Yang et al.'s screen-name likelihood (a bigram model of 2M real names we do not
# have): generated handles show 5+ consonants in a row or letters and digits interleaved.
_NOISE = re.compile(r"[bcdfghjklmnpqrstvwxz]{5,}|(?:[a-z]+\d+){2,}[a-z]", re.IGNORECASE)
_PSEUDONYM = re.compile(r"user_[0-9a-f]{20}")


class BotAssessment(NamedTuple):
    likelihood: float
    terms: tuple[tuple[str, float], ...]  # (what was seen, logit contribution), largest |contribution| first


# Evidence of each term, formatted only for the few terms ``explain`` reports (formatting every
# term of every mention cost more than the model itself).
_EVIDENCE = {
    "account_age": "account {} days old", "posts_per_day": "{:,.1f} posts/day", "few_posts": "{} posts",
    "followers": "{:,} followers", "follow_ratio": "follows {:,}, followed by {:,}",
    "follows_per_day": "follows {:,.1f} accounts per day of age", "listed": "on {:,} lists",
    "default_image": "default profile image", "verified": "verified", "empty_description": "empty description",
    "profile_url": "profile links a site", "bot_words": "description says '{}'",
    "handle_digits": "{} digits in the handle", "handle_digit_tail": "handle ends in 6+ digits",
    "handle_length": "handle of {} characters", "handle_randomness": "handle looks generated",
    "name_digits": "digits in the display name",
}


def _terms(author: Author, posted_at: datetime) -> list[tuple[str, float, tuple]]:
    """(feature, logit contribution, evidence arguments) of every known term."""
    out: list[tuple[str, float, tuple]] = []
    add = out.append
    a = author
    log1p = math.log1p
    profile = (a.statuses_count is not None or a.listed_count is not None or a.default_profile_image is not None
               or bool(a.description or a.name or a.url))
    age = None
    if a.created_at is not None:
        days = max((posted_at.date() - a.created_at).days, 0)
        age = max(days, 1)
        add(("account_age", min(max(-0.40 * (log1p(days) - 7.0), -0.6), 2.5), (days,)))
    if a.statuses_count is not None:
        n = a.statuses_count
        if age is not None:
            rate = n / age
            add(("posts_per_day", min(max(0.55 * (log1p(rate) - 1.4), -0.6), 3.0), (rate,)))
        if n < 10:
            add(("few_posts", 0.40, (n,)))
    if profile or a.followers or a.following:
        add(("followers", min(max(-0.25 * (log1p(a.followers) - 5.0), -1.5), 1.3), (a.followers,)))
        add(("follow_ratio", min(max(-0.22 * math.log((a.followers + 1) / (a.following + 1)), -1.0), 1.5),
             (a.following, a.followers)))
        if age is not None:
            add(("follows_per_day", min(max(0.30 * (log1p(a.following / age) - 0.4), -0.2), 1.5),
                 (a.following / age,)))
    if a.listed_count is not None:
        add(("listed", min(max(-0.45 * (log1p(a.listed_count) - 1.1), -1.8), 0.6), (a.listed_count,)))
    if a.default_profile_image:
        add(("default_image", 1.30, ()))
    if a.verified:
        add(("verified", -2.00, ()))
    if profile:
        if not a.description.strip():
            add(("empty_description", 0.70, ()))
        if a.url:
            add(("profile_url", -0.30, ()))
    if a.description:
        m = _BOT_WORDS.search(a.description)
        if m:
            add(("bot_words", 1.50, (m.group(0),)))
    handle = a.handle.strip().lstrip("@")
    if handle and not _PSEUDONYM.fullmatch(handle):
        digits = sum(map(str.isdigit, handle)) if not handle.isalpha() else 0
        if digits:
            add(("handle_digits", min(max(0.12 * (digits - 1), 0.0), 1.0), (digits,)))
            if _DIGIT_TAIL.search(handle):
                add(("handle_digit_tail", 0.90, ()))
        add(("handle_length", min(max(0.06 * (len(handle) - 10), -0.3), 0.4), (len(handle),)))
        if _NOISE.search(handle):
            add(("handle_randomness", 0.40, ()))
    if a.name and not a.name.isalpha() and any(c.isdigit() for c in a.name):
        add(("name_digits", 0.40, ()))
    return out


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def bot_likelihood(author: Author, posted_at: datetime) -> float:
    """0-1: how likely ``author`` is an automated or bulk account, as of ``posted_at``."""
    return round(_sigmoid(INTERCEPT + sum(t[1] for t in _terms(author, posted_at))), 4)


def explain(author: Author, posted_at: datetime, top: int = 3) -> BotAssessment:
    """The likelihood and the ``top`` terms that pushed it furthest (either way), in words; terms
    under 0.1 in the logit are left out as noise."""
    terms = _terms(author, posted_at)
    p = round(_sigmoid(INTERCEPT + sum([t[1] for t in terms])), 4)  # the same additions, in order
    ranked = [t for t in terms if abs(t[1]) >= 0.1]
    ranked.sort(key=_pull)  # stable, as sorted()
    return BotAssessment(p, tuple([(_EVIDENCE[name].format(*args), round(c, 2)) for name, c, args in ranked[:top]]))


def _pull(term: tuple) -> float:
    return -abs(term[1])
