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
_SPACE = re.compile(r"\s+")
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


class _Dictionary:
    def __init__(self, entries: tuple[SlangEntry, ...]):
        self.entries = {e.term: e for e in entries}
        self.lower = {e.term.lower(): e for e in entries}
        emoji = {ord(e.term): f" {e.canonical} " for e in entries if _is_emoji(e.term) and e.canonical}
        self.emoji_table = {**_INVISIBLE, **_WIDTH, **emoji}
        words = [e.term.lower() for e in entries if not _is_emoji(e.term)]
        ascii_words = [w for w in words if w.isascii()]
        other = [w for w in words if not w.isascii()]
        parts = []
        if other:
            parts.append(_trie_pattern(other))
        if ascii_words:
            parts.append(r"(?<![a-z0-9])" + _trie_pattern(ascii_words) + r"(?![a-z0-9])")
        self.pattern = re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None


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
    d = _dictionary()
    t = unicodedata.normalize("NFC", text).translate(d.emoji_table).lower()
    if "/" in t or "www" in t:
        t = _URL.sub(" url ", t)
    if "@" in t:
        t = _EMAIL.sub(" @user ", t)
        t = _AT.sub(" @user ", t)
    t = _CRY.sub("ㅠㅠ", t)
    t = _REPEAT1.sub(r"\1\1", t)
    t = _REPEAT2.sub(r"\1\1", t)
    return _SPACE.sub(" ", t).strip()


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


def slang_hints(terms: list[str]) -> list[str]:
    """Sentiment hints ("pos"/"neg"/"neu") of the given dictionary terms."""
    d = _dictionary()
    return [d.entries[t].sentiment for t in terms if t in d.entries and d.entries[t].sentiment]


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
