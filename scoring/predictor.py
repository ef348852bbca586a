"""The reaction predictor: a campaign's scored mentions -> one ``Prediction`` (pure computation).

Input: scored mentions (``ScoredMention`` or their dicts): ``sentiment`` (P(pos) - P(neg)),
``sentiment_probs``, ``purchase_intent``, ``toxicity``/``toxic``, ``credible``/``credibility``
(0-1, or 0-100 when above 1), ``platform``, ``engagement``, ``posted_at``, ``author``,
``event_id``, ``text_normalised``/``slang_terms``; optionally ``rating`` (the 1-10 rating
regressor's prediction for the text, ``scoring.rating``) and ``segment`` (a demographic segment).
Tunables: ``scoring/predictor.json`` (``PredictorConfig``). Nothing here reads the environment,
the clock (``now`` is the newest mention unless given) or any file but that JSON.

What comes out (every weight below is ``platform family weight x demographic weight``, divided by
the author's number of mentions in the group: one voice per author):

* ``brand_sentiment`` (-1..1): weighted mean of the per-mention score, which blends the rating
  regressor's prediction mapped onto -1..1 with the sentiment model's P(pos) - P(neg).
* ``purchase_intent`` (0-1): weighted mean of the purchase-intent model's probability.
* ``viral_potential`` (0-1): velocity (mentions in the last hour), acceleration (that minus the
  hour before), engagement per mention and the spread over platform families, squashed to 0-1.
* ``confidence`` (0-1): how precisely ``brand_sentiment`` is known: ``exp(-se / se_scale)``
  where ``se`` is its standard error (weighted variance shrunk towards a prior, over the Kish
  effective sample size), times a source-diversity factor (distinct authors, platform entropy),
  times a penalty when no mention was credible and all had to be used.
* ``risks`` / ``opportunities``: ``PredictionItem``s with the platform, the terms, example mention
  ids and the figures behind each.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from schemas.records import PLATFORMS, Prediction, PredictionItem
from scoring.accuracy import ACCURACY_ALERT_BELOW, rolling_accuracy  # noqa: F401 - re-exported for the timer agent

CONFIG_PATH = Path(__file__).resolve().parent / "predictor.json"
FAMILIES = ("news_comments", "microblog", "visual_social", "communities", "review_sites")


@dataclass(frozen=True)
class PredictorConfig:
    values: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path | str | None = None, overrides: Mapping[str, Any] | None = None) -> "PredictorConfig":
        """The shipped ``predictor.json``, then ``path`` (a partial file) and ``overrides`` on top."""
        base = json.loads(CONFIG_PATH.read_text(encoding="utf-8"))
        if path is not None and Path(path).resolve() != CONFIG_PATH:
            base = _merge(base, json.loads(Path(path).read_text(encoding="utf-8")))
        if overrides:
            base = _merge(base, dict(overrides))
        cfg = cls({k: v for k, v in base.items() if not k.startswith("_")})
        cfg.check()
        return cfg

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def check(self) -> None:
        fam = self.values["platform_families"]
        mapping = self.values["platform_family"]
        unknown = {f for f in list(mapping.values()) + [self.values["default_family"]] if f not in fam}
        if unknown:
            raise ValueError(f"predictor config: platform families without a weight: {sorted(unknown)}")
        missing = [p for p in PLATFORMS if p not in mapping]
        if missing:
            raise ValueError(f"predictor config: platforms without a family: {missing}")
        if not 0.0 <= float(self.values["rating_blend"]) <= 1.0:
            raise ValueError("predictor config: rating_blend must lie in [0, 1]")

    def platform_weight(self, platform: str) -> float:
        family = self.values["platform_family"].get(platform, self.values["default_family"])
        return float(self.values["platform_families"][family])

    def family(self, platform: str) -> str:
        return self.values["platform_family"].get(platform, self.values["default_family"])

    def demographic_weight(self, segment: str) -> float:
        return float(self.values["demographic_weights"].get(segment, self.values["default_demographic_weight"]))


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


_DEFAULT: PredictorConfig | None = None


def default_config() -> PredictorConfig:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = PredictorConfig.load()
    return _DEFAULT


# ------------------------------------------------------------------------------ one mention

@dataclass
class _M:
    event_id: str
    platform: str
    author: str
    posted_at: datetime | None
    sentiment: float
    negative: bool
    purchase_intent: float
    toxicity: float
    toxic: bool
    credible: bool
    engagement: float
    tokens: list[str]
    rating: float | None = None
    segment: str = ""
    score: float = 0.0
    weight: float = 1.0


def _get(m: Any, key: str, default: Any = None) -> Any:
    if isinstance(m, Mapping):
        return m.get(key, default)
    return getattr(m, key, default)


def _time(v: Any) -> datetime | None:
    if v is None or v == "":
        return None
    if isinstance(v, str):
        v = datetime.fromisoformat(v.replace("Z", "+00:00"))
    if isinstance(v, (int, float)):
        return datetime.fromtimestamp(v, timezone.utc)
    return v if v.tzinfo else v.replace(tzinfo=timezone.utc)


_WORD = re.compile(r"[\w가-힣]+", re.UNICODE)
_STOP = frozenset("그리고 그냥 진짜 정말 너무 이거 이건 그거 근데 하고 있는 없는 있다 없다 같은 같아요 the and for with this that".split())


def _tokens(m: Any) -> list[str]:
    terms = [str(t) for t in (_get(m, "slang_terms") or [])]
    text = _get(m, "text_normalised") or _get(m, "text") or ""
    words = [w for w in _WORD.findall(str(text).lower()) if len(w) >= 2 and not w.isdigit() and w not in _STOP]
    return list(dict.fromkeys(terms + words))


def is_credible(m: Any, threshold: float) -> bool:
    flag = _get(m, "credible")
    if isinstance(flag, bool):
        return flag
    cred = _get(m, "credibility")
    if cred is None:
        return True
    cred = float(cred)
    return (cred / 100.0 if cred > 1.0 else cred) >= threshold


def _mention(m: Any, cfg: PredictorConfig) -> _M:
    probs = _get(m, "sentiment_probs")
    sent = _get(m, "sentiment")
    if sent is None and probs is not None:
        sent = float(probs[2]) - float(probs[0])
    sent = float(sent or 0.0)
    label = _get(m, "sentiment_label")
    negative = label == "negative" if label else sent <= -0.3
    author = _get(m, "author") or {}
    author_id = str(_get(author, "id", "") or "") if not isinstance(author, str) else author
    eng = _get(m, "engagement") or {}
    engagement = (float(_get(eng, "likes", 0) or 0) + 2 * float(_get(eng, "comments", 0) or 0)
                  + 3 * float(_get(eng, "shares", 0) or 0))
    tox = float(_get(m, "toxicity", 0.0) or 0.0)
    toxic = _get(m, "toxic")
    rating = _get(m, "rating")
    segment = _get(m, "segment") or _get(m, "demographic") or ""
    return _M(event_id=str(_get(m, "event_id", "") or _get(m, "post_id", "") or ""),
              platform=str(_get(m, "platform", "other") or "other"), author=author_id,
              posted_at=_time(_get(m, "posted_at")), sentiment=max(-1.0, min(1.0, sent)), negative=bool(negative),
              purchase_intent=float(_get(m, "purchase_intent", 0.0) or 0.0), toxicity=tox,
              toxic=bool(toxic) if toxic is not None else tox >= 0.5,
              credible=is_credible(m, float(cfg["credible_threshold"])), engagement=engagement,
              tokens=_tokens(m), rating=None if rating is None else float(rating), segment=str(segment))


# ------------------------------------------------------------------------------ statistics

def weighted_mean(values: Iterable[float], weights: Iterable[float]) -> float:
    num = den = 0.0
    for v, w in zip(values, weights):
        num += v * w
        den += w
    return num / den if den > 0 else 0.0


def effective_n(weights: list[float]) -> float:
    """Kish effective sample size: (sum w)^2 / sum w^2."""
    s2 = sum(w * w for w in weights)
    return (sum(weights) ** 2) / s2 if s2 > 0 else 0.0


def entropy(counts: Iterable[float]) -> float:
    c = [x for x in counts if x > 0]
    tot = sum(c)
    return -sum(x / tot * math.log(x / tot) for x in c) if tot > 0 else 0.0


@dataclass
class Signals:
    """Intermediate figures of one prediction (printed by ``truevoice predict`` as ``signals``)."""

    mentions: int = 0
    credible: int = 0
    used_all_mentions: bool = False
    effective_n: float = 0.0
    sentiment_sd: float = 0.0
    standard_error: float = 0.0
    velocity_per_hour: float = 0.0
    acceleration: float = 0.0
    engagement_per_mention: float = 0.0
    distinct_authors: int = 0
    platform_entropy: float = 0.0
    diversity: float = 0.0
    mean_rating: float | None = None
    by_platform: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        for k, v in d.items():
            if isinstance(v, float):
                d[k] = round(v, 4)
        return d


def mention_score(m: _M, cfg: PredictorConfig) -> float:
    """The per-mention brand-sentiment score (-1..1)."""
    if m.rating is None:
        return m.sentiment
    r = (m.rating - float(cfg["rating_center"])) / float(cfg["rating_half_range"])
    a = float(cfg["rating_blend"])
    return max(-1.0, min(1.0, a * max(-1.0, min(1.0, r)) + (1 - a) * m.sentiment))


def _velocity(ms: list[_M], now: datetime | None) -> tuple[float, float]:
    times = [m.posted_at for m in ms if m.posted_at is not None]
    if not times:
        return 0.0, 0.0
    ref = now or max(times)
    hour = timedelta(hours=1)
    last = sum(1 for t in times if ref - hour < t <= ref)
    prev = sum(1 for t in times if ref - 2 * hour < t <= ref - hour)
    return float(last), float(last - prev)


def _top_terms(subset: list[_M], rest: list[_M], k: int) -> list[str]:
    """Terms found in at least two mentions of ``subset`` (one when none recurs), ranked by how much
    more often they occur there than in ``rest``."""
    df = Counter(t for m in subset for t in m.tokens)
    df_rest = Counter(t for m in rest for t in m.tokens)
    need = 2 if len(subset) >= 3 and any(c >= 2 for c in df.values()) else 1
    n, nr = max(len(subset), 1), max(len(rest), 1)
    scored = [((df[t] / n) / ((df_rest[t] + 0.5) / nr) * df[t], t) for t in df if df[t] >= need]
    return [t for _, t in sorted(scored, key=lambda x: (-x[0], x[1]))[:k]]


def _examples(subset: list[_M], k: int) -> list[str]:
    return [m.event_id for m in sorted(subset, key=lambda m: -m.engagement)[:k] if m.event_id]


def _squash(x: float) -> float:
    return 1.0 - math.exp(-max(0.0, x))


# ------------------------------------------------------------------------------ the prediction

def prediction_id(campaign_id: str, made_at: datetime) -> str:
    return hashlib.blake2b(f"{campaign_id}:{made_at.isoformat()}".encode(), digest_size=16).hexdigest()


def predict(mentions: Iterable[Any], campaign_id: str, *, config: PredictorConfig | None = None,
            now: datetime | None = None, made_at: datetime | None = None, horizon_hours: int = 24) -> Prediction:
    return predict_with_signals(mentions, campaign_id, config=config, now=now, made_at=made_at,
                                horizon_hours=horizon_hours)[0]


def predict_with_signals(mentions: Iterable[Any], campaign_id: str, *, config: PredictorConfig | None = None,
                         now: datetime | None = None, made_at: datetime | None = None,
                         horizon_hours: int = 24) -> tuple[Prediction, Signals]:
    cfg = config or default_config()
    allm = [_mention(m, cfg) for m in mentions]
    sig = Signals(mentions=len(allm), credible=sum(m.credible for m in allm))
    used = [m for m in allm if m.credible]
    if not used:
        used, sig.used_all_mentions = allm, bool(allm)
    times = [m.posted_at for m in used if m.posted_at is not None]
    made = made_at or now or (max(times) if times else datetime.now(timezone.utc))
    if not used:
        return Prediction(prediction_id=prediction_id(campaign_id, made), campaign_id=campaign_id, made_at=made,
                          horizon_hours=horizon_hours, purchase_intent=0.0, brand_sentiment=0.0,
                          viral_potential=0.0, confidence=0.0, mentions_used=0), sig

    per_author = Counter(m.author for m in used)
    for m in used:
        m.weight = cfg.platform_weight(m.platform) * cfg.demographic_weight(m.segment)
        if cfg["one_voice_per_author"] and m.author:
            m.weight /= per_author[m.author]
        m.score = mention_score(m, cfg)
    w = [m.weight for m in used]
    brand = weighted_mean((m.score for m in used), w)
    purchase = weighted_mean((m.purchase_intent for m in used), w)
    ratings = [m.rating for m in used if m.rating is not None]
    sig.mean_rating = weighted_mean((m.rating for m in used if m.rating is not None),
                                    (m.weight for m in used if m.rating is not None)) if ratings else None

    # confidence: standard error of brand_sentiment, diversity, credibility
    # effective sample size over voices: an author's mentions are one unit (their summed weight)
    voice: dict[str, float] = defaultdict(float)
    for i, m in enumerate(used):
        voice[m.author or f"\x00{i}"] += m.weight
    n_eff = effective_n(list(voice.values()))
    var = weighted_mean(((m.score - brand) ** 2 for m in used), w)
    k, sd0 = float(cfg["prior_strength"]), float(cfg["prior_sd"])
    var_shrunk = (n_eff * var + k * sd0 * sd0) / (n_eff + k)
    se = math.sqrt(var_shrunk / max(n_eff, 1e-9))
    fam_counts = Counter(cfg.family(m.platform) for m in used)
    ent = entropy(fam_counts.values())
    ent_norm = ent / math.log(len(FAMILIES))
    sig.distinct_authors = len([a for a in per_author if a]) or len(used)
    author_share = min(1.0, sig.distinct_authors / len(used))
    platform_div = 0.5 if len(fam_counts) == 1 else 0.5 + 0.5 * ent_norm
    diversity = (author_share + platform_div) / 2
    floor = float(cfg["diversity_floor"])
    confidence = math.exp(-se / float(cfg["se_scale"])) * (floor + (1 - floor) * diversity)
    if sig.used_all_mentions:
        confidence *= float(cfg["fallback_confidence_factor"])

    # viral potential
    ref = now or (max(times) if times else None)  # one reference time for the group and its platforms
    velocity, accel = _velocity(used, ref)
    eng = sum(m.engagement for m in used) / len(used)
    vref, eref = float(cfg["velocity_ref"]), float(cfg["engagement_ref"])
    viral = _squash(float(cfg["w_velocity"]) * math.log1p(velocity / vref)
                    + float(cfg["w_acceleration"]) * max(0.0, accel) / vref
                    + float(cfg["w_engagement"]) * math.log1p(eng / eref)
                    + float(cfg["w_spread"]) * ent)

    sig.effective_n, sig.sentiment_sd, sig.standard_error = n_eff, math.sqrt(var), se
    sig.velocity_per_hour, sig.acceleration, sig.engagement_per_mention = velocity, accel, eng
    sig.platform_entropy, sig.diversity = ent, diversity

    risks, opps = _items(used, allm, cfg, sig, brand, purchase, viral, ref)
    pred = Prediction(prediction_id=prediction_id(campaign_id, made), campaign_id=campaign_id, made_at=made,
                      horizon_hours=horizon_hours, purchase_intent=_clip01(purchase),
                      brand_sentiment=max(-1.0, min(1.0, brand)), viral_potential=_clip01(viral),
                      confidence=_clip01(confidence), risks=risks, opportunities=opps, mentions_used=len(used))
    return pred, sig


def _clip01(x: float) -> float:
    return max(0.0, min(1.0, float(x)))


def _items(used: list[_M], allm: list[_M], cfg: PredictorConfig, sig: Signals, brand: float, purchase: float,
           viral: float, ref: datetime | None) -> tuple[list[PredictionItem], list[PredictionItem]]:
    risks: list[PredictionItem] = []
    opps: list[PredictionItem] = []
    kt, ke, nmin = int(cfg["max_terms"]), int(cfg["max_examples"]), int(cfg["min_mentions_item"])
    by_platform: dict[str, list[_M]] = defaultdict(list)
    for m in used:
        by_platform[m.platform].append(m)
    for platform, ms in sorted(by_platform.items()):
        w = [m.weight for m in ms]
        neg_share = weighted_mean((1.0 if m.negative else 0.0 for m in ms), w)
        tox_share = weighted_mean((1.0 if m.toxic else 0.0 for m in ms), w)
        p_sent = weighted_mean((m.score for m in ms), w)
        p_pur = weighted_mean((m.purchase_intent for m in ms), w)
        velocity, accel = _velocity(ms, ref)
        sig.by_platform[platform] = {"mentions": len(ms), "brand_sentiment": round(p_sent, 4),
                                     "negative_share": round(neg_share, 4), "toxic_share": round(tox_share, 4),
                                     "purchase_intent": round(p_pur, 4)}
        if len(ms) < nmin:
            continue
        rest = [m for m in used if m.platform != platform]
        figures = {"mentions": float(len(ms)), "negative_share": round(neg_share, 4),
                   "toxic_share": round(tox_share, 4), "brand_sentiment": round(p_sent, 4),
                   "velocity_per_hour": velocity, "acceleration": accel}
        if neg_share >= float(cfg["negative_share_risk"]):
            bad = [m for m in ms if m.negative]
            risks.append(PredictionItem(
                kind="negative_burst", platform=platform, severity=_clip01(neg_share),
                summary=f"{len(bad)} of {len(ms)} credible mentions on {platform} are negative "
                        f"({neg_share:.0%}){', many toxic' if tox_share >= float(cfg['toxic_share_risk']) else ''}",
                terms=_top_terms(bad, [m for m in used if not m.negative], kt), mention_ids=_examples(bad, ke),
                figures=figures))
        if tox_share >= float(cfg["toxic_share_risk"]):
            tox = [m for m in ms if m.toxic]
            risks.append(PredictionItem(
                kind="toxic_language", platform=platform, severity=_clip01(tox_share),
                summary=f"toxic language in {len(tox)} of {len(ms)} mentions on {platform} ({tox_share:.0%})",
                terms=_top_terms(tox, [m for m in used if not m.toxic], kt), mention_ids=_examples(tox, ke),
                figures=figures))
        if p_pur >= float(cfg["purchase_intent_opportunity"]) and p_sent >= 0:
            buyers = [m for m in ms if m.purchase_intent >= 0.5] or ms
            opps.append(PredictionItem(
                kind="purchase_signal", platform=platform, severity=_clip01(p_pur),
                summary=f"purchase intent {p_pur:.2f} on {platform} with positive sentiment ({p_sent:+.2f})",
                terms=_top_terms(buyers, rest + [m for m in ms if m not in buyers], kt),
                mention_ids=_examples(buyers, ke), figures={**figures, "purchase_intent": round(p_pur, 4)}))
    figures = {"mentions": float(len(used)), "brand_sentiment": round(brand, 4), "purchase_intent": round(purchase, 4),
               "viral_potential": round(viral, 4), "velocity_per_hour": sig.velocity_per_hour,
               "acceleration": sig.acceleration, "engagement_per_mention": round(sig.engagement_per_mention, 2)}
    if brand >= float(cfg["positive_sentiment_opportunity"]) and sig.acceleration >= 0 and len(used) >= nmin:
        pos = [m for m in used if m.score > 0.3]
        opps.append(PredictionItem(
            kind="positive_momentum", severity=_clip01(brand),
            summary=f"brand sentiment {brand:+.2f} over {len(used)} credible mentions, not slowing down",
            terms=_top_terms(pos, [m for m in used if m.score <= 0.3], kt), mention_ids=_examples(pos, ke),
            figures=figures))
    if viral >= float(cfg["viral_item"]) and len(used) >= nmin:
        top = sorted(used, key=lambda m: -m.engagement)[:max(ke, 10)]
        item = dict(platform="", severity=_clip01(viral), terms=_top_terms(top, used, kt), mention_ids=_examples(top, ke),
                    figures=figures)
        if brand < 0:
            risks.append(PredictionItem(kind="viral_negative", summary=f"negative reaction spreading fast "
                                        f"({sig.velocity_per_hour:.0f}/h, sentiment {brand:+.2f})", **item))
        else:
            opps.append(PredictionItem(kind="viral_spread", summary=f"reaction spreading fast "
                                       f"({sig.velocity_per_hour:.0f}/h, sentiment {brand:+.2f})", **item))
    share = sig.credible / sig.mentions if sig.mentions else 0.0
    if allm and share < float(cfg["low_credible_share"]):
        low = [m for m in allm if not m.credible]
        risks.append(PredictionItem(
            kind="low_credibility", severity=_clip01(1 - share),
            summary=(f"only {sig.credible} of {sig.mentions} mentions are credible" +
                     ("; all were used, with lower confidence" if sig.used_all_mentions else "")),
            terms=[], mention_ids=_examples(low, ke),
            figures={"mentions": float(sig.mentions), "credible": float(sig.credible), "credible_share": round(share, 4)}))
    risks.sort(key=lambda i: -i.severity)
    opps.sort(key=lambda i: -i.severity)
    return risks, opps
