"""Anonymisation of personal data in mention text, run before anything is stored.

``anonymise(text)`` makes ONE pass of one precompiled regular expression over the text; a
callback decides the replacement for each hit. What it does, precisely:

Caught and replaced
  * e-mail addresses ``local@domain.tld``  -> first character of the local part, ``***``, the
    domain: ``jane.doe@example.com`` -> ``j***@example.com``.
  * Korean resident registration numbers ``YYMMDD-[1-8]NNNNNN`` -> ``[rrn]``.
  * card numbers: four groups of four digits separated by ``-`` or a space -> ``[card]``.
  * phone numbers -> ``[phone]``:
      - Korean mobile ``01[016789]`` + 3/4 + 4 digits, with ``-``, ``.``, a space or nothing
        between groups (``010-1234-5678``, ``010.1234.5678``, ``01012345678``);
      - Korean landline ``02`` / ``0[3-6][1-5]`` / ``070`` / ``050x`` + 3/4 + 4 digits
        (separators as above, ``(02) 123-4567`` too);
      - Korean service numbers ``15xx/16xx/18xx-xxxx`` (separator required);
      - international numbers starting with ``+`` and a country code (``+82 10-1234-5678``,
        ``+82-2-123-4567``, ``+1 (415) 555-0132``) with 8-15 digits in total;
      - generic separated numbers ``(0xx) xxx[x]-xxxx`` / ``xxx-xxx-xxxx`` (2-4, 3-4, 4 digits,
        a separator between every group).
    Digit runs glued to other digits are never touched (``(?<!\\d)``/``(?!\\d)``), so order
    numbers, prices and dates (``2024-05-12``, ``15,000원``) stay.
  * IPv4 dotted quads with each octet 0-255 -> ``[ip]`` (a four-part version number such as
    ``1.2.3.4`` is indistinguishable and is removed too).
  * IPv6 addresses (full, ``::``-compressed, with an embedded IPv4 tail), checked with
    :mod:`ipaddress` so clock times like ``12:30:45`` are left alone -> ``[ip]``.
  * @handles in the text (``@`` not preceded by a letter, digit, ``.``, ``*`` or ``@``, then
    1-30 of ``[A-Za-z0-9_.]``, not ending in ``.``) -> ``@user_<20 hex>``, the keyed hash (see
    *Pseudonyms* below) of the lower-cased handle, so the same handle always gets the same token
    (per salt), the same one as :meth:`Anonymiser.handle` gives an author's handle. Handles listed
    in ``keep_handles`` (brand accounts) are kept. Already hashed tokens are kept, so the function
    is idempotent.
  * Korean personal names in two patterns -> ``name_<20 hex>`` (keyed hash of the name):
      - a 2-4 syllable Hangul word that starts with one of the ~100 common surnames
        (``SURNAMES``; two-syllable surnames 남궁, 황보, 제갈, 선우, 독고 included), is not preceded
        by another Hangul syllable, and is followed (optionally after one space) by an honorific:
        ``고객님``, ``회원님``, ``선생님``, ``씨``, ``님``. ``김민수씨가`` -> ``name_<20 hex>씨가``.
        Not when the honorific is followed by ``들/발/앗/름/족`` (``님들``, ``씨발``, ``씨앗`` …),
        not when the word is a common noun in ``NOT_NAMES`` (``고객님``, ``사장님``, ``선배님``,
        ``기사님``, ``오빠님`` …) and, before ``씨``, not when the word ends in a syllable that makes
        a common ``-씨`` noun (``날씨``, ``마음씨``, ``글씨``, ``솜씨`` …).
      - a 2-4 syllable Hangul word after a label ``이름``, ``성함``, ``성명``, ``고객명``,
        ``예금주``, ``수령인``, ``받는분``/``받는 분`` with an optional ``:``/``：`` (any Hangul
        word there, no surname test), and ``Name:``/``name :`` followed by 1-3 capitalised Latin
        words.

Not caught (by design or limitation)
  * Given names alone whose first syllable is not a surname (``수빈씨`` stays; ``민수씨`` and
    ``지훈씨`` are hashed only because 민 and 지 are surnames), names with rare surnames, names without an honorific or
    label, names written in Latin letters outside ``Name:``, nicknames.
  * Names that are common nouns listed in ``NOT_NAMES`` are kept even when they are names.
  * A surname-initial common word before ``님``/``씨`` that is missing from ``NOT_NAMES`` is
    hashed (a false positive): e.g. ``정말 님`` is in the list, rarer ones may not be.
  * Street addresses, bank account numbers, passport and licence numbers, un-separated
    generic numbers (other than Korean mobiles), numbers written in Hangul or with spaces
    between every digit, obfuscated e-mails (``jane at example dot com``), URLs (an IP or
    handle inside a URL is replaced, the rest of the URL stays).

Speed (2-core machine, 60-90 character mixed Korean/English texts, 5% with PII): see
``tests/test_privacy.py::test_speed``: ~120k texts/s measured (~60-90k/s when every text holds
a long digit run or a 님/씨 cue, since those texts take the full scan).

Pseudonyms
  Every token is ``<kind>_`` + the first 20 hex characters (80 bits) of HMAC-SHA256 keyed with
  the salt over ``<k>:<value>`` (``k`` separates the families, so a name and a handle that are
  the same string get different tokens):

  ======================  ==============================  ====================================
  what                    token                           value hashed
  ======================  ==============================  ====================================
  author id               ``author_<20 hex>``             the id as given (``a:``)
  author handle           ``user_<20 hex>``               lower-cased, without a leading ``@``
  @handle in a text       ``@user_<20 hex>``              as for the author handle (``h:``)
  name in a text          ``name_<20 hex>``               the name (Latin names lower-cased)
  ======================  ==============================  ====================================

  80 bits keep accidental collisions away (about one expected in 10^12 distinct values) while
  the tokens stay short. Without the salt nobody can recompute a token from a guessed name, so
  the salt is a secret: it is never read here. Whoever builds the :class:`Anonymiser` passes it
  in (``streams.salt`` decides where it comes from) and injects the instance where it is needed.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from schemas.errors import ConfigurationError

__all__ = ["Anonymiser", "TOKEN_HEX", "SURNAMES", "NOT_NAMES"]

TOKEN_HEX = 20  # hex characters of every pseudonym (80 bits)

# Common Korean surnames (covering well over 95 % of the population). Rare ones are left out on
# purpose: each added syllable adds false positives (e.g. 사, 부, 어, 마 start common nouns).
SURNAMES: tuple[str, ...] = tuple(
    "김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 유 전 홍 고 문 양 손 배 백 허 남 심 노 "
    "하 곽 성 차 주 우 구 민 진 나 지 엄 채 원 천 방 공 현 함 변 염 여 추 도 소 석 선 설 길 연 위 표 "
    "명 기 반 왕 금 옥 육 인 맹 제 모 탁 국 은 편 용 예 경 봉 변 태 라 승 갈 빈 피 감 동 범".split()
)
TWO_SYLLABLE_SURNAMES = ("남궁", "황보", "제갈", "선우", "독고", "사공", "서문")

# Surname-initial common nouns that appear before 님/씨 (titles, relatives, roles, fillers).
NOT_NAMES: frozenset[str] = frozenset("""
고객 고객님 사장 선생 기사 배송기사 택배기사 기사분 부장 회장 원장 차장 소장 이사 선배 방장 반장 주임 기장
변호사 공주 왕자 도련 조상 구독자 유튜버 장인 장모 고모 이모 박사 전문가 천사 신부 임금 남편 엄마 오빠
우리 진짜 정말 정말로 진심 제수 형수 주인 주인장 연예인 작성자 판매자 관리자 운영자 상담원 직원 매니저
여사 여보 여러분 이분 저분 그분 이웃 이웃님 구매자 배달기사 사모 하나 하나님 선수 감독 감독님 위원 의원
국회의원 대표 대표님 교수 작가 기자 고수 고인 신도 성도 목자 도사 도인 도련님 조카 손주 손녀 손자 남친
여친 지인 친구 동생 동기 동료 후배 선배님 언니 누나 형님 부모 모친 부친 경비 경찰 소방관 간호사 의사
약사 성님 나리 마님 영감 대감 전하 폐하 마마 공자 공주님 왕비 원님 사또 주임님 팀장 과장 대리 실장 사원
인턴 고문 위원장 회원 회원님 가족 시청자 시민 국민 주민 학생 학부모 고객분 천재 바보 변태 진상 제가 저희
""".split())

_CSS_SUFFIX = frozenset("날음글맵말꽃불홀솜볍씨")  # 날씨, 마음씨, 글씨, 맵씨, 말씨, 꽃씨 …
_AFTER_HONORIFIC_BAD = "들발앗름족"

_HANGUL = "가-힣"
_SURNAME_ALT = "|".join(TWO_SYLLABLE_SURNAMES) + "|[" + "".join(sorted(set(SURNAMES))) + "]"

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_SEP = r"[-. ]?"

# (trigger, alternative) in priority order. A text is scanned in ONE pass by the union of the
# alternatives whose trigger it contains (unions are compiled once per trigger set and cached):
# a single alternation over everything defeats the regex engine's first-character skip and runs
# about 3x slower on texts without personal data.
_AT, _DIGIT, _COLON, _NAME = 1, 2, 4, 8
_ALTERNATIVES: tuple[tuple[int, str], ...] = (
    # e-mail: local part, @, domain with a dot and a 2+ letter TLD
    (_AT, r"(?P<email>(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}))"),
    # resident registration number
    (_DIGIT, r"(?P<rrn>(?<!\d)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])-[1-8]\d{6}(?!\d))"),
    # card number
    (_DIGIT, r"(?P<card>(?<!\d)\d{4}(?P<csep>[- ])\d{4}(?P=csep)\d{4}(?P=csep)\d{4}(?!\d))"),
    # international phone (digit count checked in the callback)
    (_DIGIT, r"(?P<intl>(?<![\w+])\+\d{1,3}(?:[-. ]?\(?\d{1,4}\)?){2,5}(?!\d))"),
    # Korean mobile / landline / service numbers, generic separated numbers
    (_DIGIT, r"(?P<phone>(?<!\d)(?:"
        r"01[016789]" + _SEP + r"\d{3,4}" + _SEP + r"\d{4}"
        r"|\(?0(?:2|[3-6][1-5]|70|50\d)\)?" + _SEP + r"\d{3,4}" + _SEP + r"\d{4}"
        r"|1[568]\d{2}[-. ]\d{4}"
        r"|\(?\d{2,4}\)?[-. ]\d{3,4}[-. ]\d{4}"
        r")(?!\d))"),
    # IPv4
    (_DIGIT, r"(?P<ip4>(?<![\d.])" + _OCTET + r"(?:\." + _OCTET + r"){3}(?!\.?\d))"),
    # IPv6 candidates (validated in the callback)
    (_COLON, r"(?P<ip6>(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:]))"),
    # @handle
    (_AT, r"(?P<handle>(?<![A-Za-z0-9_.*@])@(?P<hname>[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?)(?![\w@]))"),
    # label: name
    (_NAME, r"(?P<label>(?:이름|성함|성명|고객명|예금주|수령인|받는 ?분)\s*[:：]?\s*)(?P<lname>[" + _HANGUL + r"]{2,4})(?![" + _HANGUL + r"])"),
    (_NAME, r"(?P<elabel>\b[Nn]ame\s*:\s*)(?P<ename>[A-Z][a-z]+(?: [A-Z][a-z]+){0,2})\b"),
    # name + honorific
    (_NAME, r"(?P<hon>(?<![" + _HANGUL + r"])(?P<pname>(?:" + _SURNAME_ALT + r")[" + _HANGUL + r"]{1,3})"
        r"(?P<hsep> ?)(?P<title>고객님|회원님|선생님|씨|님)(?![" + _AFTER_HONORIFIC_BAD + r"]))"),
)
# Every digit alternative needs a run of 7+ characters of digits and separators (the shortest
# is an IPv4 ``1.1.1.1``); texts without one (prices, dates with 년/월, counts) skip them.
_HAS_DIGIT_RUN = re.compile(r"[\d(+][\d\-. ()]{5,}\d")
_HAS_NAME_CUE = re.compile(r"[씨님]|이름|성함|성명|고객명|예금주|수령인|받는|[Nn]ame")
_UNIONS: dict[int, re.Pattern] = {}


def _union(mask: int) -> re.Pattern:
    pat = _UNIONS.get(mask)
    if pat is None:
        pat = _UNIONS[mask] = re.compile("|".join(alt for trig, alt in _ALTERNATIVES if trig & mask))
    return pat


_PATTERN = _union(_AT | _DIGIT | _COLON | _NAME)  # everything, for reference and tests


def _mask(text: str) -> int:
    m = 0
    if "@" in text:
        m = _AT
    if _HAS_DIGIT_RUN.search(text):
        m |= _DIGIT
    if text.count(":") >= 2:
        m |= _COLON
    if _HAS_NAME_CUE.search(text):
        m |= _NAME
    return m


_HASHED_HANDLE = re.compile(r"user_[0-9a-f]{%d}" % TOKEN_HEX)


class Anonymiser:
    """Precompiled anonymiser keyed with its own salt (see the module docstring for the rules).

    ``salt`` is required (bytes, or a str taken as UTF-8) and must not be empty; where it comes
    from is the caller's business (``streams.salt.salt_from``)."""

    __slots__ = ("_salt", "_keep", "_cache")

    def __init__(self, salt: bytes | str, keep_handles: Iterable[str] = ()) -> None:
        if isinstance(salt, str):
            salt = salt.encode()
        if not isinstance(salt, (bytes, bytearray)) or not salt:
            raise ConfigurationError("an Anonymiser needs a non-empty salt (bytes)")
        self._salt = bytes(salt)
        self._keep = frozenset(h.lower().lstrip("@") for h in keep_handles)
        self._cache: dict[str, str] = {}

    def token(self, kind: str, value: str) -> str:
        """``TOKEN_HEX`` hex characters of HMAC-SHA256(salt, ``kind:value``), stable for one salt."""
        key = kind + ":" + value
        hit = self._cache.get(key)
        if hit is None:
            hit = hmac.digest(self._salt, key.encode("utf-8", "surrogatepass"), "sha256").hex()[:TOKEN_HEX]
            if len(self._cache) < 100_000:
                self._cache[key] = hit
        return hit

    def author_id(self, value: str) -> str:
        """``author_<20 hex>``; always hashed (a caller-chosen ``author_…`` id is hashed too, so
        nobody can pose as another author's pseudonym)."""
        return "author_" + self.token("a", value)

    def handle(self, value: str) -> str:
        """An author's handle -> ``user_<20 hex>`` (the token its @mentions in texts get); an empty
        handle stays empty, a handle in ``keep_handles`` is kept."""
        low = value.strip().lstrip("@").lower()
        if not low:
            return ""
        if low in self._keep:
            return value
        return "user_" + self.token("h", low)

    def url(self, value: str, handle: str) -> str:
        """A post's or profile's URL without its author's handle, then anonymised as a text.

        Platforms put the handle in the path (``twitter.com/<handle>/status/…``,
        ``tiktok.com/@<handle>/video/…``, ``blog.naver.com/<id>/…``) or in the query
        (``?blogId=<id>``): a path segment or query value that IS the handle (any case, with or
        without ``@``) becomes the handle's token, the one ``author_handle`` holds, so the URL
        keeps its shape and still joins with the author."""
        low = handle.strip().lstrip("@").lower()
        if low and low not in self._keep and value:
            token = "user_" + self.token("h", low)

            def plain(part: str) -> str:
                return unquote(part).lstrip("@").lower()

            parts = urlsplit(value)
            path = "/".join(("@" if seg.startswith("@") else "") + token if plain(seg) == low else seg
                            for seg in parts.path.split("/"))
            query = parts.query
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(plain(v) == low for _, v in pairs):
                query = urlencode([(k, token if plain(v) == low else v) for k, v in pairs])
            value = urlunsplit(parts._replace(path=path, query=query))
        return self(value)

    def _replace(self, m: re.Match) -> str:
        kind = m.lastgroup
        if kind == "email":
            return m.group("email")[0] + "***@" + m.group("domain")
        if kind == "handle":
            name = m.group("hname")
            low = name.lower()
            if low in self._keep or _HASHED_HANDLE.fullmatch(name):
                return m.group(0)
            return "@user_" + self.token("h", low)
        if kind == "hon":
            name = m.group("pname")
            title = m.group("title")
            if name in NOT_NAMES or (title == "씨" and name[-1] in _CSS_SUFFIX):
                return m.group(0)
            return "name_" + self.token("n", name) + m.group("hsep") + title
        if kind == "lname":
            return m.group("label") + "name_" + self.token("n", m.group("lname"))
        if kind == "ename":
            return m.group("elabel") + "name_" + self.token("n", m.group("ename").lower())
        if kind in ("phone", "card", "rrn"):
            return "[phone]" if kind == "phone" else "[" + kind + "]"
        if kind == "intl":
            s = m.group(0)
            digits = sum(c.isdigit() for c in s)
            return "[phone]" if 8 <= digits <= 15 else s
        if kind == "ip4":
            return "[ip]"
        if kind == "ip6":
            s = m.group(0)
            try:
                ipaddress.IPv6Address(s)
            except ValueError:
                return s
            return "[ip]"
        return m.group(0)  # pragma: no cover - every alternative is named

    def __call__(self, text: str) -> str:
        mask = _mask(text)
        return _union(mask).sub(self._replace, text) if mask else text

    anonymise = __call__
