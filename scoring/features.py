"""Vectorised hashed n-gram features, shared by every hashed-linear head.

One pass over a batch (numpy, no per-n-gram Python) produces, for every text, the hashes of
its character n-grams, its word (space-separated eojeol) n-grams and its slang-hint tokens.
Substring hashes use a polynomial hash modulo 2**64 computed from one prefix sum:
``S[i] = sum_{j<=i} a[j] * Q**j`` with ``Q = P**-1 (mod 2**64)``, so the hash of ``a[l..r]``
is ``(S[r] - S[l-1]) * P**r``; numpy's wrapping uint64 arithmetic does the modulus.

Output: every feature occurrence of the batch as a coordinate, ``rows`` int64 [N] (its text)
and ``ids`` int64 [N] (its hash, in [0, 2**31)), with no padding: social texts differ in length
by ten times, and a padded matrix made the models do twice the work. Each head takes
``ids mod n_buckets`` (``scoring.linear``), so heads of different sizes share one pass.
Two families extend another configuration's pass instead of repeating it: jamo n-grams, and
negation (``scoring.negation``: the negated words' own features once more, at a negative count
in ``values``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence
import unicodedata

import numpy as np

from .negation import negated_words
from .normalise import HINTS, lexicon_hints, normalise_many, slang_hints, slang_terms

_P = 0x100000001B3  # FNV prime (odd, so invertible mod 2**64)
_Q = pow(_P, -1, 2**64)
_M64 = 2**64 - 1
_SEP = 0  # separator code point between texts of a batch (a NUL inside a text becomes a space)
_SPACE = 32
# a negated word's features are added once more at this count each: net, +1 - 2 = -1
NEGATION_COUNT = 2.0


def _join(norm: Sequence[str], max_chars: int) -> str:
    """``" text "`` per document, joined by the separator. The separator is taken out of every
    text first, so no input can split a document in two (or shift the rows of the batch)."""
    return "\x00".join(" " + t[:max_chars].replace("\x00", " ") + " " for t in norm)


def _powers(base: int, n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.uint64)
    x = 1
    for i in range(n):
        out[i] = x
        x = (x * base) & _M64
    return out


def _mix(h: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 finaliser, then 31 bits."""
    with np.errstate(over="ignore"):
        x = h + np.uint64((salt * 0x9E3779B97F4A7C15) & _M64)
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x & np.uint64(0x7FFFFFFF)).astype(np.int64)


@dataclass(frozen=True)
class FeatureConfig:
    char_min: int = 1
    char_max: int = 5
    word_min: int = 1
    word_max: int = 2
    max_chars: int = 1000
    slang_hints: bool = True
    en_lexicon: bool = False  # English lexicon words add the same pos/neg hint tokens
    edge_words: bool = False  # position-tagged features of the last eojeol(s)
    version: int = 1
    # jamo n-grams (0 = off): character n-grams of the NFKD text, where Hangul syllables are
    # split into conjoining jamo and compatibility jamo (ㅋ, ㅈㄴ) map onto the same letters, so
    # 잼/재밌 or 존나/ㅈㄴ share features; hashed with their own salts into the same space
    jamo_min: int = 0
    jamo_max: int = 0
    # negation scope (``scoring.negation``): each negated word's own features once more, counted
    # NEGATION_COUNT times (``Features.values``), so that net they count -1 instead of +1
    negation: bool = False

    def base(self) -> "FeatureConfig":
        """The same configuration without the jamo family and negation (its features are a prefix
        of ours)."""
        from dataclasses import replace

        return replace(self, jamo_min=0, jamo_max=0, negation=False) if self.jamo_max or self.negation else self

    def parent(self) -> "FeatureConfig | None":
        """The configuration ours adds one family to (negation, else jamo), whose features are a
        prefix of ours; None for a base configuration."""
        from dataclasses import replace

        if self.negation:
            return replace(self, negation=False)
        return self.base() if self.jamo_max else None

    @classmethod
    def from_dict(cls, d: dict | None) -> "FeatureConfig":
        d = dict(d or {})
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Features:
    """Feature occurrence ``i`` of a batch of ``n_docs`` texts is hash ``ids[i]`` in text
    ``rows[i]``; a text's occurrences are not contiguous (one family after another)."""

    rows: np.ndarray  # int64 [N]
    ids: np.ndarray  # int64 [N]
    n_docs: int
    normalised: list[str] = field(default_factory=list)
    slang: list[list[str]] = field(default_factory=list)
    # float32 [N], each occurrence's count (None: every one counts 1); negative for the negated
    # words' features (``FeatureConfig.negation``)
    values: np.ndarray | None = None

    def of(self, doc: int) -> list[int]:
        """Text ``doc``'s hashes, sorted (a multiset)."""
        return sorted(self.ids[self.rows == doc].tolist())


class HashingFeaturizer:
    def __init__(self, config: FeatureConfig | None = None):
        self.config = config or FeatureConfig()
        # negation: the featurizer of config.parent(), for the text and for its negated words
        self._parent = HashingFeaturizer(self.config.parent()) if self.config.negation else None
        self._pows = (_powers(_P, 1 << 16), _powers(_Q, 1 << 16))  # one tuple: swapped atomically
        self._hint_hash = {h: int(_mix(np.array([hash_str("\x01slang:" + h)], np.uint64), 99)[0])
                           for h in HINTS}

    def _ensure(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Power tables of at least ``n`` entries (thread-safe: callers use the pair returned)."""
        pows = self._pows
        if n > len(pows[0]):
            size = 1 << (n - 1).bit_length()
            pows = (_powers(_P, size), _powers(_Q, size))
            if size > len(self._pows[0]):
                self._pows = pows
        return pows

    def __call__(self, texts: Sequence[str], *, normalised: bool = False) -> Features:
        cfg = self.config
        norm = list(texts) if normalised else normalise_many(texts)
        slang = [slang_terms(t, already_normalised=True) for t in norm] if cfg.slang_hints else [[] for _ in norm]
        return self.from_normalised(norm, slang)

    def from_normalised(self, norm: list[str], slang: list[list[str]], base: Features | None = None) -> Features:
        """Features of a batch; ``base`` (features of ``config.parent()`` for the same texts, e.g.
        computed for another head) saves recomputing them when only one family is added."""
        cfg = self.config
        if cfg.negation:
            parent = self._parent
            if base is None:
                base = parent.from_normalised(norm, slang)
            words, owner = [], []
            for i, t in enumerate(norm):
                for w in negated_words(t):
                    words.append(w)
                    owner.append(i)
            values = np.ones(len(base.rows), np.float32)
            if not words:
                return Features(base.rows, base.ids, len(norm), norm, slang, values)
            # the words alone, without hint tokens: their n-grams are the ones they add to the text
            neg = parent.from_normalised(words, [[] for _ in words])
            rows = np.asarray(owner, np.int64)[neg.rows]
            return Features(np.concatenate([base.rows, rows]), np.concatenate([base.ids, neg.ids]), len(norm), norm,
                            slang, np.concatenate([values, np.full(len(rows), -NEGATION_COUNT, np.float32)]))
        if cfg.jamo_max:
            if base is None:
                base = self._from_normalised(norm, slang, cfg.base())
            jrows, jids = self.jamo_features(norm)
            return Features(np.concatenate([base.rows, jrows]), np.concatenate([base.ids, jids]), len(norm), norm, slang)
        return self._from_normalised(norm, slang, cfg)

    def jamo_features(self, norm: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, ids) of the jamo n-grams."""
        cfg = self.config
        # NFKD never produces U+0000, so the separators of _join stay the only ones
        body = unicodedata.normalize("NFKD", _join(norm, cfg.max_chars))
        a, n, sep_cum, doc_of, sub_hash = prefix = self._prefix(body)
        groups = []
        for k in range(max(cfg.jamo_min, 1), cfg.jamo_max + 1):
            if n < k:
                continue
            groups.append(self._ngrams(prefix, k, 300 + k))
        return _concat(groups)

    @staticmethod
    def _ngrams(prefix: tuple, k: int, salt: int) -> tuple[np.ndarray, np.ndarray]:
        """(doc, hash) of every k-gram that does not cross a separator, in position order: the
        hash of ``a[l..l+k-1]`` over every start ``l`` from slices (no index arrays), then the
        starts that cross a separator left out. ``prefix``: what ``_prefix`` returned."""
        _a, n, sep_cum, doc_of, sub_hash = prefix
        S0, pp = sub_hash.tables
        ok = (sep_cum[k:n + 1] - sep_cum[:n - k + 1]) == 0
        with np.errstate(over="ignore"):
            h = (S0[k:n + 1] - S0[:n - k + 1]) * pp[k - 1:n]
        return doc_of[:n - k + 1][ok], _mix(h[ok], salt)

    def _prefix(self, body: str):
        # surrogatepass: a lone surrogate is a code point like any other, not an encoding error
        a = np.frombuffer(body.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        n = len(a)
        pows_p, pows_q = self._ensure(n + 1)
        pp, pq = pows_p[:n], pows_q[:n]
        with np.errstate(over="ignore"):
            S = np.cumsum(a * pq, dtype=np.uint64)
        S0 = np.concatenate([np.zeros(1, np.uint64), S])  # S0[i] = sum_{j<i}
        is_sep = a == _SEP
        sep_cum = np.concatenate([[0], np.cumsum(is_sep)])  # separators before i
        doc_of = np.cumsum(is_sep) - is_sep  # doc index of each position (separator: previous doc)

        def sub_hash(l: np.ndarray, r: np.ndarray) -> np.ndarray:  # inclusive [l, r]
            with np.errstate(over="ignore"):
                return (S0[r + 1] - S0[l]) * pp[r]

        sub_hash.tables = (S0, pp)  # for _ngrams (slices instead of index arrays)
        return a, n, sep_cum, doc_of, sub_hash

    def _from_normalised(self, norm: list[str], slang: list[list[str]], cfg: FeatureConfig) -> Features:
        B = len(norm)
        body = _join(norm, cfg.max_chars)
        a, n, sep_cum, doc_of, sub_hash = prefix = self._prefix(body)
        is_sep = a == _SEP
        groups: list[tuple[np.ndarray, np.ndarray]] = []

        for k in range(cfg.char_min, cfg.char_max + 1):
            if n < k:
                continue
            groups.append(self._ngrams(prefix, k, k))
        if cfg.word_max >= 1:
            # word spans: maximal runs without space/separator
            is_brk = is_sep | (a == _SPACE)
            starts = np.flatnonzero(~is_brk & np.concatenate([[True], is_brk[:-1]]))
            ends = np.flatnonzero(~is_brk & np.concatenate([is_brk[1:], [True]]))
            wdoc = doc_of[starts]
            for k in range(max(cfg.word_min, 1), cfg.word_max + 1):
                if len(starts) < k:
                    continue
                same = wdoc[: len(wdoc) - k + 1] == wdoc[k - 1:]
                l = starts[: len(starts) - k + 1][same]
                r = ends[k - 1:][same]
                groups.append((wdoc[: len(wdoc) - k + 1][same], _mix(sub_hash(l, r), 100 + k)))
            if cfg.edge_words and len(starts):
                # position-tagged features of the sentence-final eojeol (Korean predicates and
                # endings sit there): the word itself, its last 1-3 characters, the last two words
                last = np.flatnonzero(np.concatenate([wdoc[1:] != wdoc[:-1], [True]]))
                ld, ls, le = wdoc[last], starts[last], ends[last]
                groups.append((ld, _mix(sub_hash(ls, le), 201)))
                for k in (1, 2, 3):
                    ok = (le - ls + 1) >= k
                    groups.append((ld[ok], _mix(sub_hash(le[ok] - k + 1, le[ok]), 210 + k)))
                two = last[last > 0]
                two = two[wdoc[two - 1] == wdoc[two]]
                groups.append((wdoc[two], _mix(sub_hash(starts[two - 1], ends[two]), 202)))
        if cfg.slang_hints or cfg.en_lexicon:
            hd, hh = [], []
            for i, terms in enumerate(slang):
                hints = slang_hints(terms) if cfg.slang_hints else []
                if cfg.en_lexicon:
                    hints = hints + lexicon_hints(norm[i])
                for h in hints:
                    hd.append(i)
                    hh.append(self._hint_hash[h])
            if hd:
                groups.append((np.asarray(hd, np.int64), np.asarray(hh, np.int64)))
        rows, ids = _concat(groups)
        return Features(rows, ids, B, norm, slang)


def _concat(groups: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not groups:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (np.concatenate([d for d, _ in groups]).astype(np.int64, copy=False),
            np.concatenate([h for _, h in groups]).astype(np.int64, copy=False))


def hash_str(s: str) -> int:
    """Polynomial hash of a string, same definition as the vectorised one (mod 2**64)."""
    h = 0
    for ch in s:
        h = (h * _P + ord(ch)) & _M64
    return h
