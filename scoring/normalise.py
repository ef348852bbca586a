"""Korean internet-text normaliser, shared by training recipes and serving.

``normalise`` is deliberately cheap (a handful of C-level passes: NFC, ``str.translate``
and a few regexes) because it runs on every mention before scoring. Slang words are NOT
rewritten: the models learn them as they appear in the training text; the dictionary
(``slang_ko.tsv``, data not code) is used to (a) replace emoji by a textual form that
exists in the training corpora and (b) report the slang terms found (``slang_terms``),
whose sentiment hints the hashed-linear models also receive as extra features.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

SLANG_PATH = Path(__file__).resolve().parent / "slang_ko.tsv"
LEXICON_EN_PATH = Path(__file__).resolve().parent / "lexicon_en.tsv"

_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_AT = re.compile(r"@[\w.]{2,}")
# two or more of a crying jamo (mixed ㅠ/ㅜ) -> ㅠㅠ
_CRY = re.compile(r"[ㅠㅜ]{3,}")
# any non-digit character repeated 3+ times -> twice (ㅋㅋㅋㅋ -> ㅋㅋ, 좋아아아 -> 좋아아, !!!! -> !!)
_REPEAT1 = re.compile(r"(\D)\1{2,}")
# a two-character unit repeated 3+ times -> twice (ㅋㅎㅋㅎㅋㅎ -> ㅋㅎㅋㅎ, 너무너무너무 -> 너무너무)
_REPEAT2 = re.compile(r"(\D\D)\1{2,}")
# characters from U+10000 on (emoji, skin tones: see _Dictionary.translated)
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
# variation selectors, zero-width joiners/spaces, skin-tone modifiers
_INVISIBLE = {cp: None for cp in (0xFE0E, 0xFE0F, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)}
_INVISIBLE.update({cp: None for cp in range(0x1F3FB, 0x1F400)})
# full-width ASCII -> ASCII (NFKC would also turn compatibility jamo ㅋ into conjoining jamo: avoided)
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDTH[0x3000] = 0x20


@dataclass(frozen=True)
class SlangEntry:
    term: str
    canonical: str
    sentiment: str  # "pos", "neg", "neu" or ""


def _is_emoji(term: str) -> bool:
    return len(term) == 1 and ord(term) >= 0x2600


@lru_cache(maxsize=4)
def load_slang(path: str | None = None) -> tuple[SlangEntry, ...]:
    p = Path(path) if path else SLANG_PATH
    entries: list[SlangEntry] = []
    seen: set[str] = set()
    for line in p.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if cols[0] == "term":  # header
            continue
        term = unicodedata.normalize("NFC", cols[0].strip())
        if not term or term in seen:
            continue
        seen.add(term)
        canonical = cols[1].strip() if len(cols) > 1 else ""
        sentiment = cols[2].strip() if len(cols) > 2 else ""
        if sentiment not in ("", "pos", "neg", "neu", "ctx"):  # the featuriser has a token for these only
            raise ValueError(f"{p}: {term!r}: sentiment {sentiment!r}, expected pos, neg, neu, ctx or empty")
        entries.append(SlangEntry(term, canonical, sentiment))
    return tuple(entries)


def _trie_pattern(words: list[str]) -> str:
    """A regex alternation factored as a trie, so matching is fast with Python's ``re``."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict) -> str:
        end = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # greedy: prefer the longer term, fall back to the shorter one
        return "(?:" + body + ")?" if end else body

    return build(trie)


def split_alternatives(body: str) -> list[str]:
    """The top-level alternatives of a regular expression (or of a group's body); character
    classes are not parsed, so none may hold "|", "(" or ")"."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append(body[start:i])
            start = i + 1
        i += 1
    out.append(body[start:])
    return out


def first_literal(alternative: str) -> tuple[str, str]:
    """An alternative's first character (a literal, possibly escaped, not quantified) and the rest."""
    n = 2 if alternative.startswith("\\") else 1
    if not alternative or alternative[0] in "()[]|?*+{.^$" or (n == 2 and alternative[1].isalnum()) \
            or alternative[n:n + 1] in ("?", "*", "+", "{"):
        raise ValueError(f"no literal first character in {alternative!r}")
    return alternative[:n], alternative[n:]


def alternatives(alternation: str) -> list[str]:
    """The alternatives of ``(?:A|B…)``, or ``[alternation]`` when it is not one group."""
    if alternation.startswith("(?:") and group_end(alternation, 0) == len(alternation):
        return split_alternatives(alternation[3:-1])
    return [alternation]


def guard_behind_first(alternation: str, not_before: str, then: str = "") -> list[str]:
    """The alternatives of ``(?<!{not_before})(?:A|B…){then}`` written as ``a(?<!{not_before}a)A'{then}``,
    … (a: the alternative's first character, a literal): the same matches, but an expression made
    of such alternatives lets ``re`` scan for the characters that can start a match instead of
    trying the whole expression at every position. ``not_before``: a one-character class."""
    out = []
    for alt in alternatives(alternation):
        ch, rest = first_literal(alt)
        out.append(f"{ch}(?<!{not_before}{ch}){rest}{then}")
    return out


def group_end(pattern: str, start: int) -> int:
    """The index just past the ")" that closes the "(" at ``pattern[start]`` (escapes skipped;
    character classes are not parsed, so none may hold "(" or ")"); ``len(pattern) + 1`` when
    it is never closed."""
    depth, i = 0, start
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        depth += {"(": 1, ")": -1}.get(c, 0)
        i += 1
        if depth == 0:
            return i
    return len(pattern) + 1


class _Dictionary:
    def __init__(self, entries: tuple[SlangEntry, ...]):
        self.entries = {e.term: e for e in entries}
        self.lower = {e.term.lower(): e for e in entries}
        emoji = {ord(e.term): f" {e.canonical} " for e in entries if _is_emoji(e.term) and e.canonical}
        self.emoji_table = {**_INVISIBLE, **_WIDTH, **emoji}
        # the table's characters under U+10000, as one class (re looks it up in a bitmap); the
        # others are found by _ASTRAL: most texts hold none of them, and are not translated
        self.translated = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(self.emoji_table)
                                                   if cp < 0x10000) + "]")
        words = [e.term.lower() for e in entries if not _is_emoji(e.term)]
        ascii_words = [w for w in words if w.isascii()]
        other = [w for w in words if not w.isascii()]
        # one flat alternation whose every alternative starts with a literal (re then skips to
        # the characters that can start a term): Korean terms anywhere, ASCII ones as whole words
        # ((?<![a-z0-9]) moved behind the first letter by guard_behind_first). A Korean and an
        # ASCII alternative never match at the same position, so their order does not matter.
        parts = alternatives(_trie_pattern(other)) if other else []
        if ascii_words:
            parts += guard_behind_first(_trie_pattern(ascii_words), "[a-z0-9]", r"(?![a-z0-9])")
        self.pattern = re.compile("|".join(parts)) if parts else None


@lru_cache(maxsize=4)
def _dictionary(path: str | None = None) -> _Dictionary:
    return _Dictionary(load_slang(path))


def normalise(text: str) -> str:
    """Normalise one Korean/English internet text.

    NFC, full-width -> ASCII, lower-case Latin, invisible characters dropped, emoji -> their
    dictionary form, URLs -> ``url``, e-mails/@handles -> ``@user``, runs of a character or
    a two-character unit cut to two (ㅋㅋㅋㅋ -> ㅋㅋ, ㅠㅜㅠㅠ -> ㅠㅠ, 좋아아아아 -> 좋아아),
    whitespace collapsed.
    """
    if not text:
        return ""
    t = _prepare(text, _dictionary())
    t = _REPEAT1.sub(r"\1\1", t)
    t = _REPEAT2.sub(r"\1\1", t)
    return " ".join(t.split())  # str.split's whitespace is re's \s: runs collapsed, ends stripped


def _prepare(text: str, d: "_Dictionary") -> str:
    """``normalise`` up to the repeat rules."""
    t = unicodedata.normalize("NFC", text)
    if d.translated.search(t) is not None or _ASTRAL.search(t) is not None:
        t = t.translate(d.emoji_table)
    t = t.lower()
    if "/" in t or "www" in t:
        t = _URL.sub(" url ", t)
    if "@" in t:
        t = _EMAIL.sub(" @user ", t)
        t = _AT.sub(" @user ", t)
    if "ㅠ" in t or "ㅜ" in t:
        t = _CRY.sub("ㅠㅠ", t)
    return t


def normalise_many(texts: Sequence[str]) -> list[str]:
    """``[normalise(t) for t in texts]``, cheaper on a batch: one numpy pass over all the texts
    finds those with a run of three equal characters (or of a two-character unit), and only those
    go through the repeat rules' regular expressions (most texts have none, and finding that
    out is what costs: the expressions try every position)."""
    d = _dictionary()
    pre = [_prepare(t, d) if t else "" for t in texts]
    if not pre:
        return []
    a = np.frombuffer("\x00".join(pre).encode("utf-32-le", "surrogatepass"), np.uint32)
    doc = np.zeros(len(a) + 1, np.int32)
    ends = np.cumsum(np.fromiter(map(len, pre), np.int64, len(pre)) + 1)
    doc[ends[:-1]] = 1
    doc = np.cumsum(doc)[:len(a)]  # the text of each position (a separator: the next text)
    run1 = np.zeros(len(pre), bool)
    run2 = np.zeros(len(pre), bool)
    if len(a) >= 3:  # a[i] == a[i+1] == a[i+2]: (\D)\1{2,} may match (digits too: harmless)
        eq1 = a[:-1] == a[1:]
        run1[doc[:-2][eq1[:-1] & eq1[1:]]] = True
    if len(a) >= 6:  # a[i:i+2] == a[i+2:i+4] == a[i+4:i+6]: (\D\D)\1{2,} may match
        eq2 = a[:-2] == a[2:]
        run2[doc[:-5][eq2[:-3] & eq2[1:-2] & eq2[2:-1] & eq2[3:]]] = True
    out = []
    for t, r1, r2 in zip(pre, run1.tolist(), run2.tolist()):
        if r1:
            t, n = _REPEAT1.subn(r"\1\1", t)
            r2 = r2 or n > 0
        if r2:
            t = _REPEAT2.sub(r"\1\1", t)
        out.append(" ".join(t.split()))
    return out


def slang_terms(text: str, *, already_normalised: bool = False) -> list[str]:
    """Dictionary terms found in ``text`` (unique, in order of first appearance)."""
    d = _dictionary()
    if d.pattern is None or not text:
        return []
    t = text if already_normalised else normalise(text)
    out: list[str] = []
    for m in d.pattern.finditer(t):
        e = d.lower.get(m.group(0))
        if e is not None and e.term not in out:
            out.append(e.term)
    return out


# Hint tokens the hashed-linear models receive. "ctx" marks an intensifier whose polarity comes
# from its context (미쳤다, 역대급, ㄷㄷ, ㅠㅠ, ㅋㅋ …); "ctx+" / "ctx-" pair it with the other
# polar cues of the same text, so the model can learn "카메라 미쳤다 개이득" apart from "렉 미쳤다
# 환불" (and ㅋㅋ after a complaint as mockery) from its training data, rather than a rule deciding.
HINTS = ("pos", "neg", "neu", "ctx", "ctx+", "ctx-")


def slang_hints(terms: list[str]) -> list[str]:
    """Sentiment hints (``HINTS``) of the given dictionary terms."""
    d = _dictionary()
    found = [d.entries[t].sentiment for t in terms if t in d.entries and d.entries[t].sentiment]
    if "ctx" not in found:
        return found
    hints = [h for h in found if h != "ctx"]
    out = hints + ["ctx"]
    if "pos" in hints:
        out.append("ctx+")
    if "neg" in hints:
        out.append("ctx-")
    return out


@lru_cache(maxsize=2)
def _en_lexicon(path: str | None = None) -> dict[str, str]:
    p = Path(path) if path else LEXICON_EN_PATH
    out: dict[str, str] = {}
    for line in p.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if cols[0] == "term" or len(cols) < 2:
            continue
        out[cols[0].strip().lower()] = cols[1].strip()
    return out


_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_HAS_LATIN = re.compile(r"[a-z]")


def lexicon_hints(normalised_text: str) -> list[str]:
    """Sentiment hints ("pos"/"neg") of English lexicon words (``lexicon_en.tsv``) in a normalised text."""
    if not _HAS_LATIN.search(normalised_text):
        return []
    lex = _en_lexicon()
    return [lex[w] for w in _EN_WORD.findall(normalised_text) if w in lex]
