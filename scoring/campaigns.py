"""Campaign matching: keywords, exclusions and a Boolean query language, many campaigns at once.

Matching rules (one place, so the score agent and the tests agree):

* Text and every term are normalised the same way: lower-cased (``str.lower``) and runs of
  whitespace collapsed to one space. Korean is matched as a substring, so ``농심`` matches
  ``농심은``/``농심라면``. An edge of a term that is an ASCII letter or digit must not touch an
  ASCII letter or digit in the text: ``nova`` matches ``Nova``, ``#nova``, ``nova폰``,
  ``노바nova``, ``#nova_s9`` (``_`` separates), but not ``casanova``, ``novak`` or ``nova2``. (Hangul edges have no such rule.)
* A campaign matches when it is ``active``, the platform is in ``platforms`` (empty: all),
  ``starts_at <= posted_at < ends_at`` (a missing bound is open; naive times are UTC), no
  ``exclude`` term occurs, and ANY keyword occurs OR the ``query`` is true. (Keywords and query
  are alternatives; put everything in ``query`` to require both.)
* Query language: terms (a run of characters other than whitespace, parentheses and ``"``),
  ``"quoted phrases"`` (``\\"`` and ``\\\\`` escapes inside), ``AND``, ``OR``, ``NOT`` (upper
  case only; ``and``/``or``/``not`` are plain terms), parentheses; adjacent operands are ANDed.
  Precedence: NOT > AND (explicit or implicit) > OR. ``NOT`` as a leading ``-`` is not supported.
  Every query is parsed once into an AST at construction; a bad one raises
  :class:`CampaignQueryError` naming the character position.

Speed: every distinct term of every campaign goes into one Aho-Corasick automaton
(``pyahocorasick``); one pass over the text finds all terms present, and only campaigns that
reference a found term (or whose query is true on an empty text, e.g. ``NOT x``) are evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
import re

import ahocorasick

from schemas.records import Campaign

__all__ = ["CampaignMatcher", "CampaignQueryError", "parse_query", "normalise"]

_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case and collapse whitespace: the form both texts and terms are matched in."""
    return _WS.sub(" ", text.lower()).strip()


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class CampaignQueryError(ValueError):
    """A Boolean query that cannot be parsed; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int, query: str = "", campaign_id: str = "") -> None:
        self.position = position
        self.query = query
        self.campaign_id = campaign_id
        where = f"campaign {campaign_id!r}: " if campaign_id else ""
        super().__init__(f"{where}{message} at position {position}" + (f" in query {query!r}" if query else ""))


# ---------------------------------------------------------------- AST ---------------------------

@dataclass(frozen=True, slots=True)
class Term:
    text: str  # normalised
    position: int = 0


@dataclass(frozen=True, slots=True)
class Not:
    child: "Node"


@dataclass(frozen=True, slots=True)
class And:
    children: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple["Node", ...]


Node = Term | Not | And | Or


def _tokenise(query: str) -> list[tuple[str, str, int]]:
    """Tokens as (kind, value, position); kinds: LP, RP, AND, OR, NOT, TERM, PHRASE."""
    tokens: list[tuple[str, str, int]] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c == "(":
            tokens.append(("LP", c, i)); i += 1
        elif c == ")":
            tokens.append(("RP", c, i)); i += 1
        elif c == '"':
            start = i
            i += 1
            buf: list[str] = []
            while i < n and query[i] != '"':
                if query[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(query[i])
                i += 1
            if i >= n:
                raise CampaignQueryError("unclosed quote", start, query)
            i += 1
            phrase = normalise("".join(buf))
            if not phrase:
                raise CampaignQueryError("empty phrase", start, query)
            tokens.append(("PHRASE", phrase, start))
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in '()"':
                i += 1
            word = query[start:i]
            if word in ("AND", "OR", "NOT"):
                tokens.append((word, word, start))
            else:
                tokens.append(("TERM", word.lower(), start))
    return tokens


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _tokenise(query)
        self.i = 0

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _error(self, message: str, tok: tuple[str, str, int] | None) -> CampaignQueryError:
        pos = tok[2] if tok is not None else len(self.query)
        return CampaignQueryError(message, pos, self.query)

    def parse(self) -> Node:
        if not self.tokens:
            raise CampaignQueryError("empty query", 0, self.query)
        node = self._or()
        tok = self._peek()
        if tok is not None:
            if tok[0] == "RP":
                raise self._error("unmatched ')'", tok)
            raise self._error(f"unexpected {tok[1]!r}", tok)  # pragma: no cover - defensive
        return node

    def _or(self) -> Node:
        children = [self._and()]
        while (tok := self._peek()) is not None and tok[0] == "OR":
            self.i += 1
            children.append(self._and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _and(self) -> Node:
        children = [self._not()]
        while (tok := self._peek()) is not None and tok[0] in ("AND", "NOT", "TERM", "PHRASE", "LP"):
            if tok[0] == "AND":
                self.i += 1
            children.append(self._not())
        return children[0] if len(children) == 1 else And(tuple(children))

    def _not(self) -> Node:
        tok = self._peek()
        if tok is not None and tok[0] == "NOT":
            self.i += 1
            return Not(self._not())
        return self._primary()

    def _primary(self) -> Node:
        tok = self._peek()
        if tok is None:
            raise self._error("expected a term, phrase or '(' but the query ended", None)
        kind, value, pos = tok
        if kind in ("TERM", "PHRASE"):
            self.i += 1
            return Term(value, pos)
        if kind == "LP":
            self.i += 1
            if (nxt := self._peek()) is not None and nxt[0] == "RP":
                raise self._error("empty parentheses", nxt)
            node = self._or()
            close = self._peek()
            if close is None or close[0] != "RP":
                raise CampaignQueryError("missing ')' for the '(' opened", pos, self.query)
            self.i += 1
            return node
        if kind == "RP":
            raise self._error("unexpected ')'", tok)
        raise self._error(f"expected a term after {self.tokens[self.i - 1][1]!r} but found {value!r}"
                          if self.i else f"query cannot start with {value!r}", tok)


def parse_query(query: str) -> Node:
    """Parse a Boolean query into an AST (raises :class:`CampaignQueryError`)."""
    return _Parser(query).parse()


def _terms(node: Node) -> set[str]:
    if isinstance(node, Term):
        return {node.text}
    if isinstance(node, Not):
        return _terms(node.child)
    out: set[str] = set()
    for c in node.children:
        out |= _terms(c)
    return out


def _source(node: Node, ids: dict[str, int]) -> str:
    if isinstance(node, Term):
        return f"({ids[node.text]} in f)"
    if isinstance(node, Not):
        return f"(not {_source(node.child, ids)})"
    op = " and " if isinstance(node, And) else " or "
    return "(" + op.join(_source(c, ids) for c in node.children) + ")"


def _compile(node: Node, ids: dict[str, int]):
    """AST -> one compiled function of the set ``f`` of found term ids (only ints and the fixed
    operators go into the generated source, never query text)."""
    return eval("lambda f: " + _source(node, ids), {"__builtins__": {}})  # noqa: S307


# ---------------------------------------------------------------- matcher -----------------------

def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@dataclass(slots=True)
class _Compiled:
    campaign_id: str
    keyword_ids: frozenset[int]
    exclude_ids: frozenset[int]
    query: object  # callable(found) -> bool, or None
    ast: object  # Node or None
    platforms: frozenset[str] | None
    starts_at: datetime | None
    ends_at: datetime | None


class CampaignMatcher:
    """Matches texts against many campaigns in one automaton pass; see the module docstring."""

    def __init__(self, campaigns: Iterable[Campaign]) -> None:
        self._campaigns: list[Campaign] = [c for c in campaigns]
        ids: dict[str, int] = {}

        def tid(term: str) -> int | None:
            t = normalise(term)
            if not t:
                return None
            if t not in ids:
                ids[t] = len(ids)
            return ids[t]

        compiled: list[_Compiled] = []
        for c in self._campaigns:
            try:
                ast = parse_query(c.query) if c.query.strip() else None
            except CampaignQueryError as e:
                raise CampaignQueryError(str(e).split(" at position ")[0], e.position, c.query, c.campaign_id) from None
            if not c.active:
                continue
            kw = frozenset(i for i in map(tid, c.keywords) if i is not None)
            ex = frozenset(i for i in map(tid, c.exclude) if i is not None)
            q = None
            if ast is not None:
                for t in _terms(ast):
                    tid(t)
                q = _compile(ast, ids)
            compiled.append(_Compiled(
                campaign_id=c.campaign_id, keyword_ids=kw, exclude_ids=ex, query=q, ast=ast,
                platforms=frozenset(p.lower() for p in c.platforms) or None,
                starts_at=_utc(c.starts_at), ends_at=_utc(c.ends_at),
            ))
        self._compiled = compiled
        self._terms: list[str] = [""] * len(ids)
        for t, i in ids.items():
            self._terms[i] = t
        self._has_space = any(" " in t for t in ids)

        # term id -> campaigns that a found term makes candidates (keywords and query terms;
        # exclude terms only veto, so they never make a campaign a candidate).
        by_term: dict[int, list[int]] = {}
        always: list[int] = []
        for ci, cc in enumerate(compiled):
            positive = set(cc.keyword_ids)
            if cc.query is not None:
                positive |= {ids[t] for t in _terms(cc.ast)}
                if cc.query(frozenset()):
                    always.append(ci)
            for t in positive:
                by_term.setdefault(t, []).append(ci)
        self._by_term = {t: tuple(v) for t, v in by_term.items()}
        self._always = tuple(always)

        self._automaton = None
        if ids:
            a = ahocorasick.Automaton()
            for t, i in ids.items():
                # (term id, length, ASCII-alnum first char, ASCII-alnum last char)
                a.add_word(t, (i, len(t), _is_ascii_alnum(t[0]), _is_ascii_alnum(t[-1])))
            a.make_automaton()
            self._automaton = a

    @property
    def campaigns(self) -> Sequence[Campaign]:
        return tuple(self._campaigns)

    def __len__(self) -> int:
        return len(self._compiled)

    def found_terms(self, text: str) -> set[int]:
        """Ids of the terms occurring in ``text`` (after normalisation and the ASCII edge rule)."""
        if self._automaton is None:
            return set()
        t = text.lower()
        if self._has_space:
            t = _WS.sub(" ", t)
        found: set[int] = set()
        n = len(t)
        for end, (tid, length, a0, a1) in self._automaton.iter(t):
            if tid in found:
                continue
            if a0:
                s = end - length + 1
                if s > 0 and _is_ascii_alnum(t[s - 1]):
                    continue
            if a1 and end + 1 < n and _is_ascii_alnum(t[end + 1]):
                continue
            found.add(tid)
        return found

    def match(self, text: str, platform: str, posted_at: datetime) -> list[str]:
        """Ids of the campaigns this mention belongs to, in campaign order."""
        found = self.found_terms(text)
        if found:
            cands: set[int] = set(self._always)
            by_term = self._by_term
            for tid in found:
                cs = by_term.get(tid)
                if cs:
                    cands.update(cs)
            if not cands:
                return []
            order = sorted(cands) if len(cands) > 1 else cands
        elif self._always:
            order = self._always
        else:
            return []
        when = None
        out: list[str] = []
        compiled = self._compiled
        for ci in order:
            c = compiled[ci]
            if c.platforms is not None and platform not in c.platforms:
                continue
            if c.starts_at is not None or c.ends_at is not None:
                if when is None:
                    when = posted_at if posted_at.tzinfo is not None else posted_at.replace(tzinfo=timezone.utc)
                if (c.starts_at is not None and when < c.starts_at) or (c.ends_at is not None and when >= c.ends_at):
                    continue
            if c.exclude_ids and not c.exclude_ids.isdisjoint(found):
                continue
            if (c.keyword_ids and not c.keyword_ids.isdisjoint(found)) or (c.query is not None and c.query(found)):
                out.append(c.campaign_id)
        return out
