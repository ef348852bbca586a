"""Records carried on the topics. Serialised with orjson (``Record.dumps``/``Record.loads``)."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timezone
from typing import Any, ClassVar, Literal, Mapping

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

Platform = Literal[
    "twitter", "instagram", "youtube", "tiktok", "facebook", "reddit", "threads",
    "naver_blog", "naver_cafe", "naver_news", "daum", "dcinside", "fmkorea", "clien",
    "ruliweb", "theqoo", "instiz", "blind", "news", "web", "other",
]
PLATFORMS: tuple[str, ...] = Platform.__args__  # type: ignore[attr-defined]

MAX_TEXT_CHARS = 20_000

# Control characters are stripped from every string of a Mention and its Author: C0 controls
# except tab, line feed and carriage return, DEL and C1 controls (U+0080-U+009F). They carry no
# meaning in a post, and downstream code must never meet them (a NUL was once a document
# separator). Lone surrogates (U+D800-U+DFFF) never get this far: pydantic refuses them
# (``string_unicode``), as orjson does when parsing.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+")


def strip_controls(value: str) -> str:
    """``value`` without the control characters listed above (the same object when it has none)."""
    return _CONTROL.sub("", value) if _CONTROL.search(value) else value


def _stripped(value: str, required: bool) -> str:
    out = strip_controls(value)
    if required and value and not out:
        raise PydanticCustomError("control_characters", "holds nothing but control characters")
    return out


def _utc(value: datetime) -> datetime:
    # Naive timestamps are taken as UTC so that every stored time is comparable.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


_setattr = object.__setattr__


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False, str_strip_whitespace=False)

    # Records whose every field holds a str, int, float, bool, None, date, datetime, list, tuple
    # or one of these records set this: ``dumps`` then hands the fields to orjson as they are
    # (``_native_fields``), which writes exactly what ``model_dump(mode="json")`` + orjson writes
    # (same key order, floats, ``...Z`` datetimes) at a fraction of the cost.
    _native_json: ClassVar[bool] = False

    def dumps(self) -> bytes:
        if self._native_json:
            fields = _native_fields(self)
            if fields is not None:
                try:
                    return orjson.dumps(fields, default=_native_default, option=orjson.OPT_UTC_Z)
                except TypeError:  # a value orjson does not know (a number subclass, ...): the general path
                    pass
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def loads(cls, data: bytes | str):
        return cls.model_validate(orjson.loads(data))


def _native_fields(model: Record) -> dict | None:
    """The model's ``__dict__`` when it can be serialised as it is: exactly the model's fields, in
    their declared order, nothing extra (else None: ``model_dump`` decides)."""
    d = model.__dict__
    cls = type(model)
    order = _FIELD_ORDER.get(cls)
    if order is None:
        order = _FIELD_ORDER[cls] = tuple(cls.__pydantic_fields__)
    return d if tuple(d) == order and not model.__pydantic_extra__ else None


_FIELD_ORDER: dict[type, tuple[str, ...]] = {}


def _native_default(value: Any) -> Any:
    """orjson's hook for a nested record: its fields as they are, or its JSON-mode dump."""
    if isinstance(value, Record):
        fields = _native_fields(value) if value._native_json else None
        return fields if fields is not None else value.model_dump(mode="json")
    raise TypeError(f"not serialisable natively: {type(value).__name__}")


def copy_with(model: Record, update: Mapping[str, Any]):
    """``model.model_copy(update=update)`` (a shallow copy with ``update`` set, unvalidated, added
    to the fields set) without pydantic's generic overhead; the same object state."""
    private = getattr(model, "__pydantic_private__", None)
    if model.__pydantic_extra__ is not None or private is not None:
        return model.model_copy(update=update)
    cls = type(model)
    m = cls.__new__(cls)
    d = model.__dict__.copy()
    d.update(update)
    fields_set = model.__pydantic_fields_set__.copy()
    fields_set.update(update.keys())
    _setattr(m, "__dict__", d)
    _setattr(m, "__pydantic_extra__", None)
    _setattr(m, "__pydantic_fields_set__", fields_set)
    _setattr(m, "__pydantic_private__", None)
    return m


class _AuthorFields(Record):
    """Author's fields and every rule of Author but the control-character stripping: the schema
    ``mention_without_controls`` validates with when the raw record cannot hold one."""

    id: str = Field(min_length=1, max_length=256)
    handle: str = Field(default="", max_length=256)
    created_at: date | None = Field(default=None, description="date the account was created")
    followers: int = Field(default=0, ge=0)
    following: int = Field(default=0, ge=0)
    verified: bool = False
    statuses_count: int | None = Field(default=None, ge=0, description="posts the account has made "
                                       "(X: public_metrics.tweet_count); None = unknown")
    listed_count: int | None = Field(default=None, ge=0, description="lists the account is on "
                                     "(X: public_metrics.listed_count); None = unknown")
    description: str = Field(default="", max_length=4096, description="profile text (bio)")
    name: str = Field(default="", max_length=256, description="display name")
    url: str = Field(default="", max_length=2048, description="the profile's link")
    default_profile_image: bool | None = Field(default=None, description="still the platform's default "
                                               "avatar (X: profile_image_url under default_profile_images/); "
                                               "None = unknown")

    @model_validator(mode="before")
    @classmethod
    def _from_x_user(cls, data: object) -> object:
        if not isinstance(data, dict) or _X_USER_KEYS.isdisjoint(data):
            return data
        data = dict(data)
        metrics = data.get("public_metrics") if isinstance(data.get("public_metrics"), dict) else {}
        for ours, theirs in _X_USER_FIELDS:
            if ours in data:
                continue
            for key in theirs:
                value = metrics.get(key, data.get(key)) if key in _X_METRICS else data.get(key)
                if value is not None:
                    data[ours] = value
                    break
        image = data.get("profile_image_url") or data.get("profile_image_url_https")
        if "default_profile_image" not in data and isinstance(image, str) and image:
            data["default_profile_image"] = "default_profile_images/" in image
        return data

    @field_validator("created_at", mode="before")
    @classmethod
    def _date_of_timestamp(cls, value: object) -> object:
        # X gives a full timestamp (v2: ISO, v1.1: "Wed Oct 10 20:19:24 +0000 2018"); we keep the day
        if isinstance(value, datetime):
            return _utc(value).date()
        if isinstance(value, str) and len(value) > 10:
            try:
                return _utc(datetime.fromisoformat(value.replace("Z", "+00:00"))).date()
            except ValueError:
                try:
                    return _utc(datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")).date()
                except ValueError:
                    return value
        return value



_X_METRICS = frozenset(("followers_count", "following_count", "tweet_count", "listed_count"))
# ours, then X's names in order of preference (v2 public_metrics, v1.1 user object)
_X_USER_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("handle", ("username", "screen_name")),
    ("followers", ("followers_count",)),
    ("following", ("following_count", "friends_count")),
    ("statuses_count", ("tweet_count",)),
    ("listed_count", ("listed_count",)),
)
_X_USER_KEYS = frozenset(("public_metrics", "username", "screen_name", "followers_count", "friends_count",
                          "following_count", "profile_image_url", "profile_image_url_https"))


class Author(_AuthorFields):
    """Control characters are stripped from every string field (see ``strip_controls``).

    The profile fields after ``verified`` are optional: collectors that know them (X API v2 user
    object and its ``public_metrics``) fill them, and the bot model (``scoring.bots``) uses them
    when present. An X API user object (v2: ``username``, ``public_metrics``; v1.1:
    ``screen_name``, ``friends_count``, …) is accepted as it is and mapped onto these names; a
    field given under our own name wins."""

    @field_validator("id", "handle", "description", "name", "url")
    @classmethod
    def _no_controls(cls, value: str, info) -> str:
        return _stripped(value, info.field_name == "id")


class Engagement(Record):
    likes: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    shares: int = Field(default=0, ge=0)
    views: int = Field(default=0, ge=0)


class _MentionFields(Record):
    """Mention's fields and every rule of Mention but the control-character stripping (its author
    an ``_AuthorFields``): the schema ``mention_without_controls`` validates with."""

    event_id: str = Field(
        default="", max_length=128,
        description="stable id used for de-duplication, always derived from platform and post id "
                    "(event_id_for); a value supplied by the caller is ignored",
    )
    platform: Platform
    post_id: str = Field(min_length=1, max_length=256)
    url: str = Field(default="", max_length=2048)
    author: _AuthorFields
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    lang: str = Field(default="", max_length=16, description="ISO 639-1; detected when empty")
    media_urls: list[str] = Field(default_factory=list, max_length=32)
    hashtags: list[str] = Field(default_factory=list, max_length=128)
    engagement: Engagement = Field(default_factory=Engagement)
    posted_at: datetime
    collected_at: datetime | None = None
    brand: str = Field(default="", max_length=128, description="brand the collector searched for, if any")

    @field_validator("posted_at", "collected_at")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _utc(value)

    @model_validator(mode="after")
    def _fill_ids(self) -> "Mention":
        # never the caller's: an id chosen by a client would overwrite another post's row.
        # Set as BaseModel.__setattr__ sets a plain field (the value, and the field marked set),
        # without its cost.
        d = self.__dict__
        fields_set = self.__pydantic_fields_set__
        d["event_id"] = event_id_for(d["platform"], d["post_id"])
        fields_set.add("event_id")
        if d["collected_at"] is None:
            d["collected_at"] = d["posted_at"]
            fields_set.add("collected_at")
        return self


class Mention(_MentionFields):
    """A raw mention as collected from a platform (topic ``mentions.raw``).

    Control characters (C0 but tab/LF/CR, DEL, C1) are stripped from every
    string field; a ``text``, ``post_id`` or ``author.id`` left empty by that fails validation."""

    author: Author  # the field keeps its place (the order of the JSON)

    @field_validator("post_id", "url", "text", "lang", "brand")
    @classmethod
    def _no_controls(cls, value: str, info) -> str:
        return _stripped(value, info.field_name in ("text", "post_id"))

    @field_validator("media_urls", "hashtags")
    @classmethod
    def _no_controls_in_list(cls, value: list[str]) -> list[str]:
        return [strip_controls(v) for v in value]


# Controls can reach a decoded JSON string only as the escapes \b, \f and \u0000-\u001f,
# \u007f-\u009f, or as raw DEL (0x7f) and C1 (UTF-8 C2 80-C2 9F) bytes: raw bytes below 0x20 are
# not valid JSON inside a string. A record without any of these (false alarms are harmless:
# \u0009, an escaped backslash before "b") holds no control character anywhere.
_MAYBE_CONTROL = re.compile(rb"\\(?:[bf]|u00(?:[01]|7[fF]|[89]))|\x7f|\xc2[\x80-\x9f]")


def may_hold_controls(raw: bytes) -> bool:
    """False only when no string decoded from the JSON ``raw`` can hold a control character."""
    # three byte scans (memchr speed) clear almost every record; the expression decides the rest
    if b"\\" not in raw and b"\x7f" not in raw and b"\xc2" not in raw:
        return False
    return _MAYBE_CONTROL.search(raw) is not None


def mention_without_controls(data: object) -> Mention:
    """``Mention.model_validate(data)`` for data known to hold no control character in any
    string (``may_hold_controls`` of its bytes is False): the same Mention, without the stripping
    validators (identities on such data; a dozen Python calls per record). Invalid data is
    validated again by ``Mention``, so its errors are exactly Mention's."""
    try:
        m = _MentionFields.model_validate(data)
    except ValidationError:
        return Mention.model_validate(data)
    # the same fields, values and layout: the instances become what Mention would have made
    _setattr(m.author, "__class__", Author)
    _setattr(m, "__class__", Mention)
    return m


def event_id_for(platform: str, post_id: str) -> str:
    """The same post collected twice gets the same id, so ClickHouse keeps it once."""
    return hashlib.blake2b(f"{platform}:{post_id}".encode(), digest_size=16).hexdigest()


# K-MHaS's hate-speech categories, in its label order (onnx/hate_categories serves them)
HateCategory = Literal["origin", "physical", "politics", "profanity", "age", "gender", "race", "religion"]
_HATE_CATEGORIES_DOC = ("hate-speech categories the text is read as (K-MHaS: origin, physical, politics, profanity, "
                        "age, gender, race, religion), each over its own threshold (onnx/hate_categories/CARD.md); "
                        "empty = none")


class TextScores(Record):
    """What the text models say about one mention."""

    sentiment: float = Field(ge=-1.0, le=1.0, description="P(positive) - P(negative)")
    sentiment_label: Literal["negative", "neutral", "positive"]
    sentiment_probs: tuple[float, float, float] = Field(description="P(negative), P(neutral), P(positive)")
    toxicity: float = Field(ge=0.0, le=1.0)
    toxic: bool
    intent: str = Field(description="speech act: statement, question, command, request, ...")
    purchase_intent: float = Field(ge=0.0, le=1.0)
    hate_categories: list[HateCategory] = Field(default_factory=list, description=_HATE_CATEGORIES_DOC)


class CredibilityReason(Record):
    """One signed contribution to a mention's credibility, with what was seen. Immutable, so
    scoring can share one instance between the mentions it applies to."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    factor: str = Field(description="bot_likelihood, account_age, follower_ratio, extreme_language, "
                                    "personal_experience, media, hashtags, repetition, coordination, ...")
    points: float = Field(description="signed points added to the base")
    evidence: str = Field(default="", description="what was seen, in a few words")


class ScoredMention(Mention):
    """A mention after validation, normalisation, anonymisation and scoring (topic ``mentions.scored``)."""

    text_normalised: str = ""
    campaigns: list[str] = Field(default_factory=list)
    sentiment: float = 0.0
    sentiment_label: Literal["negative", "neutral", "positive"] = "neutral"
    sentiment_probs: tuple[float, float, float] = (0.0, 1.0, 0.0)
    toxicity: float = 0.0
    toxic: bool = False
    hate_categories: list[HateCategory] = Field(default_factory=list, description=_HATE_CATEGORIES_DOC)
    intent: str = "statement"
    purchase_intent: float = 0.0
    meme_template: str = ""
    meme_score: float = 0.0
    credibility: float = Field(default=50.0, ge=0.0, le=100.0,
                               description="0-100: the rules' base plus the points of credibility_reasons "
                                           "(scoring/credibility.json)")
    credible: bool = Field(default=False, description="credibility > 60")
    bot_likelihood: float = Field(default=0.0, ge=0.0, le=1.0, description="scoring.bots: profile model, 0-1")
    credibility_reasons: list[CredibilityReason] = Field(default_factory=list)
    coordination: str = Field(default="", description="id of the coordinated cluster this mention belongs to; "
                                                       "empty when none")
    slang_terms: list[str] = Field(default_factory=list)
    scored_at: datetime | None = None


for _native in (Author, Engagement, Mention, TextScores, CredibilityReason, ScoredMention):
    _native._native_json = True


class DeadLetter(Record):
    """A record the score agent could not accept (topic ``mentions.deadletter``)."""

    event_id: str = Field(description="blake2b of the raw bytes, so the same bad record is stored once")
    reason: str
    error_type: str
    raw: str = Field(description="the raw record, decoded with replacement characters, cut to 64 KiB")
    raw_size: int
    source_topic: str
    source_partition: int
    source_offset: int
    received_at: datetime


class Campaign(Record):
    """A campaign tracked by keyword / Boolean matching (topic ``campaigns``, compacted by id)."""

    campaign_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    brand: str = Field(min_length=1, max_length=128)
    name: str = Field(default="", max_length=256)
    keywords: list[str] = Field(default_factory=list, description="any of these matches")
    query: str = Field(default="", max_length=4096, description="Boolean query: AND, OR, NOT, quotes, parentheses")
    exclude: list[str] = Field(default_factory=list)
    platforms: list[str] = Field(default_factory=list, description="empty: all platforms")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True
    spike_threshold: float = Field(default=3.0, gt=0, description="z-score over the last hour that raises an alert")
    min_mentions: int = Field(default=20, ge=1, description="a minute with fewer mentions never alerts")
    # the pattern of streams.keystore.TENANT_RE: a tenant names a per-tenant database of views
    tenant: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9_]{0,39}$",
                        description="the tenant that owns the campaign (an API key's tenant)")
    # a deletion is the campaign's last record with this set, not a tombstone: the compacted topic
    # keeps the latest record per id, so a worker that re-reads the topic still sees it deleted
    deleted: bool = Field(default=False, description="deleted: matches nothing, listed nowhere")

    @model_validator(mode="after")
    def _has_matcher(self) -> "Campaign":
        if not self.keywords and not self.query:
            raise ValueError("a campaign needs keywords or a query")
        return self


class WindowDelta(Record):
    """Sums of one batch for one (campaign, platform, minute) and one source partition of
    mentions.scored: what the combiner sends.

    Deltas are applied idempotently: the window bucket keeps, per source partition, the highest
    ``offset_end`` applied, and a delta whose ``offset_end`` is not above it is a duplicate (a
    retried send, a batch read again after a crash). Rebuilt deltas carry no offsets.
    """

    campaign_id: str
    platform: str
    minute: int = Field(description="epoch seconds of the minute's start")
    sums: WindowSums = Field(default_factory=lambda: WindowSums())
    source_partition: int = Field(default=-1, description="partition of mentions.scored; -1 when rebuilt")
    offset_start: int = Field(default=-1, description="first offset of the batch in source_partition")
    offset_end: int = Field(default=-1, description="offset after the last one of the batch (exclusive)")
    rebuild: bool = Field(default=False, description="re-seeded from ClickHouse at start: never raises alerts, "
                                                     "applied unconditionally")

    @model_validator(mode="before")
    @classmethod
    def _flat_sums(cls, data: object) -> object:
        # ClickHouseStore.window_rows (and older producers) pass the sums as flat fields.
        if isinstance(data, dict) and "sums" not in data and any(f in data for f in WINDOW_SUM_FIELDS):
            data = dict(data)
            data["sums"] = {f: data.pop(f) for f in WINDOW_SUM_FIELDS if f in data}
        return data


WINDOW_SUM_FIELDS: tuple[str, ...] = (
    "count", "sentiment_sum", "negative", "positive", "credible", "toxic", "purchase_intent_sum")


class WindowSums(Record):
    """Every sum a window bucket holds, by name: combiner, table, spike detector, views and API."""

    count: int = 0
    sentiment_sum: float = 0.0
    negative: int = 0
    positive: int = 0
    credible: int = 0
    toxic: int = 0
    purchase_intent_sum: float = 0.0

    def __add__(self, other: "WindowSums") -> "WindowSums":
        return WindowSums.model_construct(**{f: getattr(self, f) + getattr(other, f) for f in WINDOW_SUM_FIELDS})

    @classmethod
    def of(cls, value: "WindowSums | dict | list | tuple | None") -> "WindowSums":
        """A WindowSums from itself, its dict, or the old positional 7-list (strict length)."""
        if value is None:
            return cls()
        if isinstance(value, WindowSums):
            return value
        if isinstance(value, dict):
            return cls.model_validate(value)
        if len(value) != len(WINDOW_SUM_FIELDS):
            raise ValueError(f"positional window sums need {len(WINDOW_SUM_FIELDS)} values, got {len(value)}")
        return cls.model_validate(dict(zip(WINDOW_SUM_FIELDS, (round(v) if f in _COUNT_FIELDS else v
                                                              for f, v in zip(WINDOW_SUM_FIELDS, value)))))


_COUNT_FIELDS = frozenset(("count", "negative", "positive", "credible", "toxic"))
assert set(WINDOW_SUM_FIELDS) == set(WindowSums.model_fields)
WindowDelta.model_rebuild()


class AlertExample(Record):
    """One mention that shows what an incident is about (already anonymised, as stored)."""

    event_id: str
    platform: str = ""
    text: str = Field(default="", max_length=400)


class Alert(Record):
    """An incident: a spike in one campaign's mention velocity and/or negative sentiment (topic
    ``alerts.spikes``), with its explanation.

    One incident keeps one ``alert_id``: it is raised once (``status`` "open", ``revision`` 0) and
    then updated (severity escalated, platforms or kinds added: "updated"; back within the band
    for a few minutes: "resolved") as new records with the same id and a higher ``revision``.
    ``platform`` is "*" (the campaign over all platforms); ``platforms`` lists those involved.
    ``minute`` is the incident's first minute (stable); ``count`` the observed mentions in its peak
    minute, ``baseline_mean`` what was expected then, within [``expected_low``, ``expected_high``].
    """

    alert_id: str
    campaign_id: str
    platform: str
    kind: Literal["velocity", "negative_sentiment"]
    minute: datetime
    count: int
    baseline_mean: float
    baseline_std: float
    zscore: float
    sentiment_mean: float
    negative_share: float
    raised_at: datetime
    message: str
    status: Literal["open", "updated", "resolved"] = "open"
    revision: int = Field(default=0, ge=0)
    updated_at: datetime | None = None
    severity: Literal["low", "medium", "high", "critical"] = "low"
    anomaly_score: float = 0.0
    expected_low: float = 0.0
    expected_high: float = 0.0
    peak_minute: datetime | None = None
    last_minute: datetime | None = None
    kinds: list[str] = Field(default_factory=list)
    platforms: list[str] = Field(default_factory=list)
    mentions: int = Field(default=0, description="mentions in the incident's minutes so far")
    baseline_sentiment: float = Field(default=0.0, description="mean sentiment of the hour before")
    sentiment_shift: float = Field(default=0.0, description="sentiment_mean - baseline_sentiment")
    terms: list[str] = Field(default_factory=list, description="new or over-represented vs the hour before")
    examples: list[AlertExample] = Field(default_factory=list)


class PredictionItem(Record):
    """One risk or opportunity behind a prediction, with the evidence an analyst can check.

    A plain string is accepted as ``{"summary": text}`` (predictions written before items had
    structure)."""

    kind: str = Field(default="note", max_length=64,
                      description="what was found, e.g. negative_burst, toxic_language, purchase_signal, "
                                  "positive_momentum, viral_spread, low_credibility, narrow_sources")
    summary: str = Field(default="", max_length=1024, description="one line in plain words")
    platform: str = Field(default="", max_length=64, description="the platform it concerns; empty: all")
    terms: list[str] = Field(default_factory=list, max_length=32, description="the words behind it")
    mention_ids: list[str] = Field(default_factory=list, max_length=16, description="example event ids")
    figures: dict[str, float] = Field(default_factory=dict, description="the numbers behind it, by name")
    severity: float = Field(default=0.0, ge=0.0, le=1.0, description="0-1: how strongly it holds")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: object) -> object:
        return {"summary": data} if isinstance(data, str) else data


class Prediction(Record):
    """How the online reaction is expected to turn into behaviour (topic ``predictions``).

    Computed by ``scoring.predictor.predict`` from a campaign's credible scored mentions; see its
    docstring for every figure, and ``confidence``'s derivation."""

    prediction_id: str
    campaign_id: str
    made_at: datetime
    horizon_hours: int = Field(ge=1)
    purchase_intent: float = Field(ge=0.0, le=1.0, description="weighted share of mentions that intend to buy")
    brand_sentiment: float = Field(ge=-1.0, le=1.0, description="-1 (hostile) .. 1 (enthusiastic)")
    viral_potential: float = Field(ge=0.0, le=1.0, description="velocity, acceleration, engagement and spread")
    confidence: float = Field(ge=0.0, le=1.0, description="how far the figures can be trusted (sample, "
                                                            "agreement, credible share, diversity)")
    risks: list[PredictionItem] = Field(default_factory=list)
    opportunities: list[PredictionItem] = Field(default_factory=list)
    mentions_used: int = 0


class OpsAlert(Record):
    """An alert about TrueVoice itself (topic ``alerts.ops``), from the ops rules
    (``agents.ops``; the same rules for Prometheus in ``streams/ops/prometheus_rules.yml``).

    A rule's series (``kind`` and ``labels``: one per campaign and metric for prediction accuracy,
    one per ``source`` for the error rate) is published when it starts firing and once more when
    it resolves, never on every evaluation; both records carry the same ``alert_id``.
    ``value`` is what was measured over ``window_seconds`` (None: nothing to measure any more).
    """

    kind: Literal["error_rate", "api_latency_p99", "pipeline_lag", "prediction_accuracy"]
    message: str
    threshold: float
    raised_at: datetime = Field(description="when the series started firing")
    alert_id: str = ""
    state: Literal["firing", "resolved"] = "firing"
    value: float | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    campaign_id: str | None = None
    metric: str | None = None
    window_seconds: float = 0.0
    updated_at: datetime | None = Field(default=None, description="when this record was made (resolved: then)")


class Outcome(Record):
    """What actually happened, recorded after the fact, to measure past predictions
    (``truevoice predict actual``; ClickHouse table ``outcomes``; accuracy: ``scoring.accuracy``)."""

    outcome_id: str = Field(default="", max_length=128,
                            description="derived from campaign, metric and time (outcome_id_for); a value "
                                        "supplied by the caller is ignored")
    campaign_id: str = Field(min_length=1, max_length=128)
    metric: Literal["brand_sentiment", "purchase_intent", "viral_potential"]
    value: float = Field(description="brand_sentiment in -1..1; purchase_intent and viral_potential in 0..1")
    observed_at: datetime
    source: str = Field(default="", max_length=256, description="where the figure comes from (survey, sales, ...)")

    @field_validator("observed_at")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        return _utc(value)

    @model_validator(mode="after")
    def _check(self) -> "Outcome":
        lo, hi = (-1.0, 1.0) if self.metric == "brand_sentiment" else (0.0, 1.0)
        if not lo <= self.value <= hi:
            raise ValueError(f"{self.metric} must lie in [{lo:g}, {hi:g}], got {self.value}")
        self.outcome_id = outcome_id_for(self.campaign_id, self.metric, self.observed_at)
        return self


def outcome_id_for(campaign_id: str, metric: str, observed_at: datetime) -> str:
    """Recording the same (campaign, metric, time) twice replaces the value instead of adding one."""
    return hashlib.blake2b(f"{campaign_id}:{metric}:{_utc(observed_at).isoformat()}".encode(),
                           digest_size=16).hexdigest()
