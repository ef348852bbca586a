"""Request and response bodies of /api/v1: validated with these models, and the OpenAPI document's
schemas are generated from them (streams.web.openapi), so what is checked is what is documented.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from schemas.records import Alert, Campaign, Mention, Outcome, Platform, Prediction
from streams.web.realtime import RealtimeNumbers  # noqa: F401 - the live API's answer, described with the others

CAMPAIGN_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
TENANT_PATTERN = r"^[a-z0-9][a-z0-9_]{0,39}$"
SentimentLabel = Literal["negative", "neutral", "positive"]
Metric = Literal["brand_sentiment", "purchase_intent", "viral_potential"]


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: what is wrong, in words. Some add details (``errors``: per item)."""

    model_config = ConfigDict(extra="allow")
    error: str


class _Body(BaseModel):
    # an unknown field is a mistake the client should hear about (a typo of "keywords" would
    # otherwise make a campaign that matches nothing)
    model_config = ConfigDict(extra="forbid")


class CampaignCreate(_Body):
    """A new campaign. ``campaign_id`` is generated when not given; ``tenant`` defaults to the
    key's tenant (only an admin key may name another)."""

    campaign_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=CAMPAIGN_ID_PATTERN)
    brand: str = Field(min_length=1, max_length=128)
    name: str = Field(default="", max_length=256)
    keywords: list[str] = Field(default_factory=list, max_length=1000, description="any of these matches")
    query: str = Field(default="", max_length=4096, description="Boolean query: AND, OR, NOT, quotes, parentheses")
    exclude: list[str] = Field(default_factory=list, max_length=1000)
    platforms: list[Platform] = Field(default_factory=list, description="empty: all platforms")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True
    spike_threshold: float = Field(default=3.0, gt=0, le=1000)
    min_mentions: int = Field(default=20, ge=1, le=1_000_000)
    tenant: str | None = Field(default=None, pattern=TENANT_PATTERN)


class CampaignPatch(_Body):
    """Fields to change; the merged campaign is validated as a whole (422 with the reason)."""

    brand: str | None = Field(default=None, min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=256)
    keywords: list[str] | None = Field(default=None, max_length=1000)
    query: str | None = Field(default=None, max_length=4096)
    exclude: list[str] | None = Field(default=None, max_length=1000)
    platforms: list[Platform] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool | None = None
    spike_threshold: float | None = Field(default=None, gt=0, le=1000)
    min_mentions: int | None = Field(default=None, ge=1, le=1_000_000)


class CampaignList(BaseModel):
    campaigns: list[Campaign]


class DeletedCampaign(BaseModel):
    campaign_id: str
    deleted: Literal[True] = True


class MentionRow(BaseModel):
    """One stored mention as the API lists it (author fields are left out)."""

    event_id: str
    platform: str
    post_id: str
    url: str
    posted_at: datetime
    lang: str
    text: str
    brand: str
    campaigns: list[str]
    sentiment: float = Field(description="P(positive) - P(negative), -1..1")
    sentiment_label: str
    toxicity: float
    toxic: bool
    intent: str
    purchase_intent: float
    credibility: float = Field(description="author credibility, 0-100")
    credible: bool
    likes: int
    comments: int
    shares: int
    views: int


class MentionPage(BaseModel):
    mentions: list[MentionRow]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: this was the last")


class ItemError(BaseModel):
    index: int = Field(description="position in the posted list, from 0")
    error: str


class IngestBatch(RootModel[list[Mention] | Mention]):
    """A list of 1 to 10000 mentions, or one; each is checked on its own (partial acceptance)."""


class IngestResult(BaseModel):
    accepted: int
    rejected: int
    event_ids: list[str] = Field(description="event ids of the accepted mentions, in order")
    errors: list[ItemError] = Field(description="the rejected ones (the first 100), with the reason")


class IngestRejected(IngestResult):
    """422: every item was invalid; nothing was accepted."""

    error: str


class SqlRequest(_Body):
    sql: str = Field(min_length=1, max_length=100_000, description="one read-only SELECT, without FORMAT")


class SqlResult(BaseModel):
    columns: list[str]
    rows: list[list[Any]]


class AlertList(BaseModel):
    alerts: list[Alert]


class StoredPrediction(Prediction):
    """A prediction as stored, with the outcome posted back for it (null until then)."""

    actual_purchase_intent: float | None = None
    actual_brand_sentiment: float | None = None
    actual_viral_potential: float | None = None
    actual_observed_at: datetime | None = None
    actual_source: str | None = None


class Text(BaseModel):
    ko: str
    en: str


class Insight(BaseModel):
    kind: str = Field(description="the evidence it is written from: a risk's or opportunity's kind, or a figure")
    severity: float = Field(ge=0.0, le=1.0)
    text: Text
    mention_ids: list[str] = Field(default_factory=list, description="example mentions behind it")


class PredictionReport(BaseModel):
    campaign_id: str
    latest: StoredPrediction
    history: list[StoredPrediction] = Field(description="newest first, the latest included")
    insights: list[Insight]
    recommendations: list[Text]


class ActualRequest(_Body):
    metric: Metric
    value: float = Field(description="brand_sentiment in -1..1; purchase_intent and viral_potential in 0..1")
    observed_at: datetime | None = Field(default=None, description="default: now")
    source: str = Field(default="", max_length=256)


class AccuracyRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    campaign_id: str
    metric: str


class ActualResult(BaseModel):
    prediction_id: str
    outcome: Outcome
    accuracy: list[AccuracyRow] = Field(description="rolling accuracy of the campaign's predictions of this metric")


class MemeRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    image_url: str | None = None
    text: str | None = None




class _Query(BaseModel):
    # query strings carry text: "true", "12.5", ISO times are read by pydantic's lax mode
    model_config = ConfigDict(extra="ignore")


class MentionFilters(_Query):
    platform: Platform | None = Field(default=None, description="one platform")
    sentiment: SentimentLabel | None = Field(default=None, description="the sentiment label")
    credible: bool | None = Field(default=None, description="true: only credible authors; false: only the others")
    min_credibility: float | None = Field(default=None, ge=0, le=100, description="author credibility at least (0-100)")
    since: datetime | None = Field(default=None, description="posted at or after (ISO 8601; no offset: UTC)")
    until: datetime | None = Field(default=None, description="posted before (ISO 8601; no offset: UTC)")
    q: str | None = Field(default=None, min_length=1, max_length=200,
                          description="text search: case-insensitive substring of the text")
    cursor: str | None = Field(default=None, max_length=400, description="next_cursor of the previous page")
    limit: int = Field(default=50, ge=1, le=500, description="rows per page")


class AlertFilters(_Query):
    campaign_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=CAMPAIGN_ID_PATTERN)
    status: Literal["open", "updated", "resolved"] | None = None
    limit: int = Field(default=100, ge=1, le=1000)
