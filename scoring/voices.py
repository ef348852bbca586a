"""Cross-mention signals: what one mention cannot show alone.

Two things are measured over the stream of scored mentions, in order:

* **Author state** (per pseudonymised author id, never a raw id): the recent posts of the
  author — posting time, a short event key and the text fingerprint — kept for ``ttl_minutes``
  and at most ``max_posts_per_author`` posts (the newest). From it: the posting rate, the
  regularity of the gaps between posts (coefficient of variation: a machine posting every 60 s
  has a CV near 0, people are bursty, CV around 1 or more) and **self-repetition**: a post whose
  text is a near-duplicate of at least ``repetition_min_earlier`` other posts of the same author
  within ``ttl_minutes`` gets the ``repetition`` reason.
* **Coordinated campaigns**: near-identical texts posted by several DIFFERENT accounts within
  ``coordination_window_minutes`` of each other form a cluster; once the cluster holds
  ``coordination_min_accounts`` accounts (or ``coordination_min_young_accounts`` when at least
  half of them are younger than ``young_account_days``), every member from then on gets the
  ``coordination`` reason and the cluster's ``coordination`` id. The earlier members are not
  changed here (see README "Coordinated campaigns": ``truevoice score FILE`` marks them too).

Near-duplicates: the text is normalised (``scoring.normalise.normalise``: the scoring process
already has it as ``text_normalised``) and stripped of URLs, @handles, #hashtags, numbers,
punctuation, emoji and whitespace, and of the placeholders ``normalise`` leaves for some of them:
``url`` standing alone, and, in a text that had emoji, the words ``normalise`` puts in their place
(``ㅋㅋ``, ``대박``, ``최고`` … standing alone: such a word typed next to an emoji goes too). Texts
with fewer than ``MIN_CHARS`` characters left carry no fingerprint (a short "존맛 ㅋㅋ" is posted by
thousands of real people and proves nothing). The rest is cut into character 3-grams, each hashed
to 32 bits (its three code points packed into 63 bits, then the splitmix64 finaliser), and
MinHashed with ``NUM_PERM`` = 32 permutations (multiply-add-shift hashes ``(a * h + b) >> 32``
with 64-bit constants derived from blake2b, so they are the same in every process and after a
restart), whose signature is cut into ``BANDS`` = 4 bands of 8 rows (LSH banding): two texts are
near-duplicates when one band is equal, i.e. with probability 1 at Jaccard 1, 0.99 at 0.95, 0.89
at 0.9, 0.27 at 0.8 and 0.02 at 0.6 (``1 - (1 - J**8)**4``). Only the 4 band hashes (63 bits
each: the band's 8 values, each keyed by its position and put through the splitmix64 finaliser,
summed and finalised again) travel and are stored: 32 bytes per post. A whole batch is
fingerprinted in a few numpy passes (``fingerprints``). (These hashes replaced datasketch's
MinHash and blake2b bands: author state written before then matches nothing new and expires with
the TTL.)

The fingerprint is computed where the text is normalised (the scoring process); the tracker only
sees ``VoicePost`` tuples. State lives behind ``VoiceStore`` (get / put / delete / items):
``tables.voices.MemoryVoiceStore`` or ``tables.voices.RocksVoiceStore``. The coordination index
is memory only (minutes of posts) and rebuilt from ClickHouse by ``up``. A batch of posts reads
its authors' state with one ``get_many`` and writes it back with one ``put_many``; the index maps
each band hash to the minutes it was seen in (and each minute to its bands, for the expiry), so a
post costs a few dictionary look-ups, not one per minute of the window and band.

Time is event time (``posted_at``), so a file of last year's posts behaves as it did then; the
tracker's clock (``max posted_at`` seen, never more than ``max_future_seconds`` past the injected
wall clock) drives the TTL sweeps. Re-observing a post (a batch read again after a crash, a
rebuild) never counts it against itself: posts are recognised by their event key.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
import time
from dataclasses import dataclass
from itertools import islice
from typing import Callable, Iterable, Iterator, NamedTuple, Protocol, Sequence

import numpy as np

from scoring.normalise import _dictionary, normalise

NUM_PERM = 32
BANDS = 4
ROWS = NUM_PERM // BANDS
SHINGLE = 3
MIN_CHARS = 12
_MASK63 = (1 << 63) - 1
_SEED = 20260607

REPETITION = "repetition"
COORDINATION = "coordination"
CADENCE = "cadence"
VOICE_FACTORS = frozenset((REPETITION, COORDINATION, CADENCE))


def _emoji_words() -> tuple[str, frozenset[str]]:
    """The emoji ``normalise`` turns into words (those that are not \\w: a text's letters stay) and
    those words, as they stand in a normalised text."""
    table = _dictionary().emoji_table
    emoji = sorted(chr(cp) for cp, to in table.items() if isinstance(to, str) and to.strip()
                   and not re.match(r"\w", chr(cp)))
    return "".join(emoji), frozenset(table[ord(e)].strip().lower() for e in emoji)


_EMOJI_CHARS, _EMOJI_WORDS = _emoji_words()
_MAYBE_EMOJI = re.compile("[\u2600-\u27bf\U0001F000-\U0001FAFF]")  # ranges: a fast first look
_EMOJI = re.compile(f"[{re.escape(_EMOJI_CHARS)}]")
_PLACEHOLDERS = frozenset(("url",))
_PLACEHOLDERS_EMOJI = _PLACEHOLDERS | _EMOJI_WORDS
_TAG = re.compile(r"[@#][\w.]+")  # @handles (normalise leaves "@user") and #hashtags
_LETTERS = re.compile(r"[^\W\d_]+")  # word characters but digits and "_"


def _constants(name: bytes, n: int) -> np.ndarray:
    """``n`` 64-bit constants, the same in every process and version (blake2b, not a RNG)."""
    return np.array([int.from_bytes(hashlib.blake2b(b"%d:%s%d" % (_SEED, name, i), digest_size=8,
                                                    person=b"truevoice-minhsh").digest(), "little")
                     for i in range(n)], dtype=np.uint64)


_PERM_A = _constants(b"a", NUM_PERM)
_PERM_B = _constants(b"b", NUM_PERM)
_BAND_SEEDS = _constants(b"band", BANDS)
_ROW_KEYS = _constants(b"row", NUM_PERM).reshape(BANDS, ROWS)
_MATRIX_MAX = 1 << 15  # 3-grams × permutations up to which one matrix is cheaper than 32 passes
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S21, _S27, _S30, _S31, _S32, _S42 = (np.uint64(n) for n in (21, 27, 30, 31, 32, 42))


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place (uint64)."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


def fingerprint_key(text: str, normalised: str) -> str:
    """The text as compared for near-duplicates (see the module docstring): ``normalised`` is
    ``normalise(text)`` (``ScoredMention.text_normalised``), stripped."""
    drop = _PLACEHOLDERS
    m = _MAYBE_EMOJI.search(text)
    if m is not None and _EMOJI.search(text, m.start()) is not None:
        drop = _PLACEHOLDERS_EMOJI
    if drop is _PLACEHOLDERS_EMOJI or "url" in normalised:
        # normalise collapses whitespace to single spaces: a word standing alone is one item
        normalised = " ".join([w for w in normalised.split(" ") if w not in drop])
    if "@" in normalised or "#" in normalised:
        normalised = _TAG.sub("", normalised)
    return "".join(_LETTERS.findall(normalised))


def fingerprint_text(text: str) -> str:
    """``fingerprint_key`` of a text not normalised yet."""
    return fingerprint_key(text, normalise(text))


def fingerprints(texts: Sequence[str], normalised: Sequence[str]) -> list[tuple[int, ...] | None]:
    """``fingerprint`` of every text, from its normalised form (``normalised[i]`` is
    ``normalise(texts[i])``), the whole batch at once."""
    out: list[tuple[int, ...] | None] = [None] * len(texts)
    keys: list[str] = []
    where: list[int] = []
    for i, (text, norm) in enumerate(zip(texts, normalised)):
        key = fingerprint_key(text, norm)
        if len(key) >= MIN_CHARS:
            keys.append(key)
            where.append(i)
    if keys:
        for i, bands in zip(where, _band_hashes(keys)):
            out[i] = tuple(bands)
    return out


def _band_hashes(keys: list[str]) -> list[list[int]]:
    """The band hashes of keys of at least ``SHINGLE`` characters: every 3-gram of every key in one
    array, one pass per permutation, ``np.minimum.reduceat`` per key."""
    lens = np.fromiter(map(len, keys), np.int64, len(keys))
    cp = np.frombuffer("".join(keys).encode("utf-32-le"), np.uint32).astype(np.uint64)
    x = cp[:-2] << _S42  # code points < 2**21: three of them pack exactly into 63 bits
    x |= cp[1:-1] << _S21
    x |= cp[2:]
    ends = np.cumsum(lens)
    inside = np.ones(len(cp), bool)  # 3-grams that do not straddle two keys
    inside[ends - 1] = False
    inside[ends - 2] = False
    shingles = _mix(x[inside[:-2]]) >> _S32
    starts = np.zeros(len(keys), np.int64)
    np.cumsum(lens[:-1] - (SHINGLE - 1), out=starts[1:])
    n = len(keys)
    if len(shingles) * NUM_PERM <= _MATRIX_MAX:  # a few texts: one matrix, few numpy calls
        v = shingles[:, None] * _PERM_A
        v += _PERM_B
        sig = np.minimum.reduceat(v, starts, axis=0)
    else:  # a batch: one 1-D pass per permutation, the 3-grams stay in cache
        flat = np.empty((NUM_PERM, n), np.uint64)
        for k in range(NUM_PERM):
            v = shingles * _PERM_A[k]
            v += _PERM_B[k]
            np.minimum.reduceat(v, starts, out=flat[k])
        sig = flat.T
    sig = sig >> _S32  # the top 32 bits: the (strongly universal) multiply-add-shift hash
    # band hash: each row's value keyed by its band and row and mixed, summed per band, mixed
    rows = sig.reshape(n, BANDS, ROWS) ^ _ROW_KEYS
    bands = _mix(rows).sum(axis=2, dtype=np.uint64)
    bands ^= _BAND_SEEDS
    _mix(bands)
    bands &= np.uint64(_MASK63)
    bands[bands == 0] = 1
    return bands.tolist()


def fingerprint(text: str) -> tuple[int, ...] | None:
    """The ``BANDS`` band hashes of the text's MinHash signature, or None when it is too short.

    ``text``: the mention's (anonymised) text, as stored. Stable across processes and restarts;
    the same as ``fingerprints([text], [normalise(text)])``."""
    return fingerprints([text], [normalise(text)])[0]


def event_key(event_id: str) -> int:
    """64-bit key of an event id (the first 16 hex digits of the blake2b event id)."""
    try:
        return int(event_id[:16], 16)
    except ValueError:
        return int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=8).digest(), "little")


class VoicePost(NamedTuple):
    """What the tracker needs of one scored mention (built in the scoring process; a named tuple
    because thousands a second cross the process boundary, and a tuple pickles cheaply)."""

    event_id: str
    author_id: str  # pseudonymised
    posted_at: float  # epoch seconds
    account_age_days: int | None
    bands: tuple[int, ...] | None


@dataclass(frozen=True, slots=True)
class VoiceReason:
    factor: str
    points: float
    evidence: str


@dataclass(frozen=True, slots=True)
class VoiceFinding:
    reasons: tuple[VoiceReason, ...]
    coordination: str = ""


@dataclass(frozen=True, slots=True)
class AuthorActivity:
    """Measured from an author's posts within the TTL (this one included)."""

    posts: int
    per_hour: float  # posts / span of the posts in hours (0 with fewer than 2 posts)
    gap_cv: float | None  # coefficient of variation of the gaps (None with fewer than 3 posts)
    duplicates: int  # other posts of the author that are near-duplicates of this one


@dataclass(frozen=True)
class VoiceConfig:
    ttl_minutes: float = 360.0
    max_posts_per_author: int = 50
    repetition_min_earlier: int = 1
    coordination_window_minutes: float = 10.0
    coordination_min_accounts: int = 5
    coordination_min_young_accounts: int = 3
    young_account_days: int = 30
    max_accounts_per_cluster: int = 1000
    cadence_min_posts: int = 6
    cadence_max_cv: float = 0.1
    repetition_points: float = -30.0
    coordination_points: float = -25.0
    cadence_points: float = 0.0  # 0: measured, no reason (credibility.json has no 'cadence' weight)
    sweep_every_minutes: float = 5.0
    sweep_chunk: int = 5000
    max_future_seconds: float = 3600.0


class VoiceStore(Protocol):
    """Bytes keys to bytes values (``tables.voices``: in memory or RocksDB)."""

    def get(self, key: bytes) -> bytes | None: ...

    def put(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def items(self) -> Iterator[tuple[bytes, bytes]]: ...

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        """``get`` of each key, in one call (a RocksDB multi-get)."""
        ...

    def put_many(self, items: dict[bytes, bytes]) -> None:
        """``put`` of each item, in one call (a RocksDB write batch)."""
        ...


_POST = struct.Struct("<dQ%dQ" % BANDS)  # posted_at, event key, bands (0 = no fingerprint)
_NO_BANDS = (0,) * BANDS
_AUTHOR = b"a:"


def _unpack(value: bytes | None) -> list[tuple]:
    return list(_POST.iter_unpack(value)) if value else []


def _pack(posts: Iterable[tuple]) -> bytes:
    return b"".join(_POST.pack(*p) for p in posts)


class _Cluster:
    """Posts of near-identical text within the window. A single post is a cluster of one whose
    account tables are made only when a second post joins (most posts never get one)."""

    __slots__ = ("root", "first", "last", "author", "young", "accounts", "members")

    def __init__(self, root: int, at: float, author: str, young: bool) -> None:
        self.root, self.first, self.last, self.author, self.young = root, at, at, author, int(young)
        self.accounts: dict[str, bool] | None = None
        self.members: set[int] | None = None

    @property
    def id(self) -> str:
        return f"coord_{self.root:016x}"

    def size(self) -> int:
        return 1 if self.accounts is None else len(self.accounts)

    def add(self, ek: int, at: float, author: str, young: bool, cap: int) -> bool:
        """Add a post; False when it is already counted (or the cluster is full)."""
        if self.members is None:
            if ek == self.root:
                return False
            self.members = {self.root}
            self.accounts = {self.author: bool(self.young)}
        if ek in self.members or len(self.members) >= cap * 4:
            return False
        self.members.add(ek)
        self.first, self.last = min(self.first, at), max(self.last, at)
        if author not in self.accounts and len(self.accounts) < cap:  # type: ignore[operator]
            self.accounts[author] = young  # type: ignore[index]
            self.young += young
        return True


class VoiceTracker:
    """Author state and coordinated clusters over scored mentions, in order. Not thread-safe:
    run it in ONE place (the score agent's parent process, or ``score FILE``)."""

    def __init__(self, authors: VoiceStore, config: VoiceConfig | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config or VoiceConfig()
        self.authors = authors
        self.clock = clock
        self.watermark = 0.0
        # band hash → (minute, cluster) or, once seen in several minutes, {minute: cluster}
        self._index: dict[int, tuple[int, _Cluster] | dict[int, _Cluster]] = {}
        self._minutes: dict[int, list[int]] = {}  # minute → band hashes indexed in it (expiry)
        self._clusters: dict[int, _Cluster] = {}  # clusters of two posts or more, by root
        self._last_sweep = 0.0
        self._sweeper: Iterator[tuple[bytes, bytes]] | None = None
        self.swept_posts = 0
        # the cluster id each post of the last ``observe`` joined ("" without a fingerprint)
        self.cluster_ids: list[str] = []
        # opt-in (``score FILE``): every cluster recognised so far → its latest coordination
        # reason; None in the stream, where it would grow without bound
        self.recognised: dict[str, VoiceReason] | None = None

    # ------------------------------------------------------------------ the stream

    def observe(self, posts: Sequence[VoicePost]) -> list[VoiceFinding | None]:
        """Remember each post in order and say what it shows (None: nothing cross-mention)."""
        self.cluster_ids = []
        out = self._batch(posts, emit=True)
        self._sweep_some()
        return out

    def remember(self, posts: Iterable[VoicePost], *, chunk: int = 4096) -> int:
        """Add posts without findings (a rebuild); posts already known are skipped."""
        n = 0
        it = iter(posts)
        while batch := list(islice(it, chunk)):
            self._batch(batch, emit=False)
            n += len(batch)
        self._sweep_some()
        return n

    def activity(self, author_id: str, posted_at: float | None = None) -> AuthorActivity:
        at = self.watermark if posted_at is None else posted_at
        cut = at - self.config.ttl_minutes * 60
        times = sorted(p[0] for p in _unpack(self.authors.get(_AUTHOR + author_id.encode())) if p[0] >= cut)
        return _activity(times, 0)

    # ------------------------------------------------------------------ internals

    def _advance(self, posted_at: float) -> None:
        limit = self.clock() + self.config.max_future_seconds
        if self.watermark < posted_at <= limit:
            self.watermark = posted_at
        elif posted_at > limit > self.watermark:
            self.watermark = limit

    def _batch(self, posts: Sequence[VoicePost], *, emit: bool) -> list[VoiceFinding | None]:
        """The posts in order, their authors' state read in one call and written in one."""
        if not posts:
            return []
        keys = [_AUTHOR + p.author_id.encode() for p in posts]
        distinct = list(dict.fromkeys(keys))
        state = dict(zip(distinct, self.authors.get_many(distinct)))
        written: dict[bytes, bytes] = {}
        out = [self._observe(p, key, state, written, emit=emit) for p, key in zip(posts, keys)]
        if written:
            self.authors.put_many(written)
        return out

    def _observe(self, p: VoicePost, key: bytes, state: dict[bytes, bytes | None], written: dict[bytes, bytes],
                 *, emit: bool) -> VoiceFinding | None:
        """One post; ``state``: its author's stored posts (this batch's writes included), which
        ``written`` collects for the store."""
        cfg = self.config
        self._advance(p.posted_at)
        ek = event_key(p.event_id)
        reasons: list[VoiceReason] = []

        at = p.posted_at
        bands = p.bands
        value = state[key]
        if value:
            cut = max(at, self.watermark) - cfg.ttl_minutes * 60
            held = _unpack(value)
            stored = [q for q in held if q[0] >= cut]
            others = [q for q in stored if q[1] != ek]
        else:  # a new author (most posts): nothing to compare
            held = stored = others = []
        known = len(others) != len(stored)
        dups = 0
        if bands is not None and others:
            window = cfg.ttl_minutes * 60
            dups = sum(1 for q in others if abs(q[0] - at) <= window
                       and any(a == b for a, b in zip(q[2:], bands)))
        if emit:
            if dups >= cfg.repetition_min_earlier and cfg.repetition_points:
                reasons.append(VoiceReason(REPETITION, cfg.repetition_points,
                                           f"near-duplicate of {dups} other post{'s' if dups != 1 else ''} "
                                           f"by this author within {_span(cfg.ttl_minutes * 60)}"))
            if cfg.cadence_points:
                act = _activity(sorted([q[0] for q in others] + [at]), dups)
                if act.posts >= cfg.cadence_min_posts and act.gap_cv is not None and act.gap_cv < cfg.cadence_max_cv:
                    reasons.append(VoiceReason(CADENCE, cfg.cadence_points,
                                               f"{act.posts} posts at {act.per_hour:.1f}/h with near-constant gaps "
                                               f"(CV {act.gap_cv:.2f})"))
        if not known:
            this = _POST.pack(at, ek, *(bands or _NO_BANDS))
            if len(stored) == len(held) and len(held) < cfg.max_posts_per_author:
                # nothing expired and no cap: the stored bytes plus this post's
                state[key] = written[key] = value + this if value else this
            else:
                others.append((at, ek, *(bands or _NO_BANDS)))
                if len(others) > cfg.max_posts_per_author:
                    others.sort(key=lambda q: q[0])
                    others = others[-cfg.max_posts_per_author:]
                state[key] = written[key] = _pack(others)
        elif len(stored) != len(held):
            state[key] = written[key] = _pack(stored)

        coordination = ""
        cid = ""
        if bands is not None:
            cluster = self._cluster_of(p, ek)
            cid = cluster.id
            if emit and self._recognised(cluster):
                coordination = cluster.id
                n, young = cluster.size(), cluster.young
                if cfg.coordination_points:
                    reasons.append(VoiceReason(
                        COORDINATION, cfg.coordination_points,
                        f"near-identical text from {n}{'+' if n >= cfg.max_accounts_per_cluster else ''} accounts "
                        f"within {_span(cluster.last - cluster.first)} ({young} created less than "
                        f"{cfg.young_account_days} days before posting)"))
                    if self.recognised is not None:
                        self.recognised[coordination] = reasons[-1]
        if emit:
            self.cluster_ids.append(cid)
        if not emit or (not reasons and not coordination):
            return None
        return VoiceFinding(tuple(reasons), coordination)

    def _cluster_of(self, p: VoicePost, ek: int) -> _Cluster:
        """The cluster the post joins: of the clusters indexed under one of its bands within the
        window's minutes (and still open to it), the oldest (ties: the earliest minute, then the
        first band); otherwise a new one."""
        cfg = self.config
        minute = int(p.posted_at // 60)
        span = int(math.ceil(cfg.coordination_window_minutes))
        window = cfg.coordination_window_minutes * 60
        lo, hi = minute - span, minute + span
        at = p.posted_at
        index = self._index
        found: _Cluster | None = None
        rank: tuple[float, int, int] | None = None
        bands = p.bands
        for j, b in enumerate(bands):  # type: ignore[arg-type]
            seen = index.get(b)
            if seen is None:
                continue
            # one minute (most bands): a (minute, cluster) pair; more: a dict minute → cluster
            for m, c in ((seen,) if type(seen) is tuple else seen.items()):
                if lo <= m <= hi and (c.root == ek or abs(at - c.last) <= window):
                    r = (c.first, m, j)
                    if rank is None or r < rank:
                        found, rank = c, r
        young = p.account_age_days is not None and p.account_age_days < cfg.young_account_days
        if found is None:
            found = _Cluster(ek, at, p.author_id, young)
        elif found.add(ek, at, p.author_id, young, cfg.max_accounts_per_cluster):
            self._clusters[found.root] = found
        entry = (minute, found)
        new: list[int] | None = None
        for b in bands:  # type: ignore[union-attr]
            seen = index.get(b)
            if seen is None:
                index[b] = entry
            elif type(seen) is tuple:
                if seen[0] == minute:
                    index[b] = entry
                    continue
                index[b] = {seen[0]: seen[1], minute: found}
            else:
                fresh = minute not in seen
                seen[minute] = found
                if not fresh:
                    continue
            if new is None:
                new = self._minutes.get(minute)
                if new is None:
                    new = self._minutes[minute] = []
            new.append(b)
        return found

    def _recognised(self, c: _Cluster) -> bool:
        n = c.size()
        cfg = self.config
        return n >= cfg.coordination_min_accounts or (
            n >= cfg.coordination_min_young_accounts and c.young * 2 >= n)

    def _sweep_some(self) -> None:
        """TTL sweeps: whole minutes of the coordination index and stale clusters at once; the
        author store in chunks of ``sweep_chunk`` keys per call, one pass every ``sweep_every_minutes``."""
        cfg = self.config
        now = self.watermark
        keep_from = int(now // 60) - int(math.ceil(cfg.coordination_window_minutes)) - 1
        for m in [m for m in self._minutes if m < keep_from]:
            for b in self._minutes.pop(m):
                seen = self._index.get(b)
                if type(seen) is tuple:
                    if seen[0] == m:
                        del self._index[b]
                elif seen is not None:
                    seen.pop(m, None)
                    if not seen:
                        del self._index[b]
        stale = now - cfg.coordination_window_minutes * 60 - 120
        for root in [r for r, c in self._clusters.items() if c.last < stale]:
            del self._clusters[root]
        if self._sweeper is None:
            if now - self._last_sweep < cfg.sweep_every_minutes * 60:
                return
            self._last_sweep = now
            self._sweeper = iter(self.authors.items())
        cut = now - cfg.ttl_minutes * 60
        for _ in range(cfg.sweep_chunk):
            item = next(self._sweeper, None)
            if item is None:
                self._sweeper = None
                return
            key, value = item
            posts = _unpack(value)
            kept = [q for q in posts if q[0] >= cut]
            if len(kept) == len(posts):
                continue
            self.swept_posts += len(posts) - len(kept)
            if kept:
                self.authors.put(key, _pack(kept))
            else:
                self.authors.delete(key)

    def sweep_all(self) -> None:
        """One complete TTL sweep now (tests, shutdown)."""
        self._last_sweep = -math.inf
        self._sweeper = None
        while True:
            self._sweep_some()
            if self._sweeper is None:
                return

    @property
    def clusters(self) -> int:
        return len(self._clusters)

    @property
    def indexed_bands(self) -> int:
        return sum(1 if type(m) is tuple else len(m) for m in self._index.values())


def _activity(times: list[float], dups: int) -> AuthorActivity:
    n = len(times)
    span = times[-1] - times[0] if n > 1 else 0.0
    per_hour = (n - 1) / (span / 3600) if span > 0 else 0.0
    cv = None
    if n >= 3:
        gaps = [b - a for a, b in zip(times, times[1:])]
        mean = sum(gaps) / len(gaps)
        if mean > 0:
            cv = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps)) / mean
    return AuthorActivity(n, per_hour, cv, dups)


def _span(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{max(seconds, 60) / 60:.0f} min"
