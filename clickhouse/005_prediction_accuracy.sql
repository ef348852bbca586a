-- TrueVoice ClickHouse schema, migration 005: structured risks/opportunities, actual outcomes and
-- the accuracy of past predictions.
--
-- 1. predictions gain risk_items / opportunity_items: one JSON object per schemas.PredictionItem
--    ({"kind", "summary", "platform", "terms", "mention_ids", "figures", "severity"}), next to the
--    existing risks / opportunities columns, which keep each item's one-line summary (so rows and
--    queries written before this migration read the same). Query them with e.g.
--    arrayMap(x -> JSONExtractString(x, 'platform'), risk_items).
-- 2. outcomes: what actually happened, recorded after the fact (`truevoice predict actual`,
--    ClickHouseStore.record_actual): one value of one metric (brand_sentiment in -1..1,
--    purchase_intent or viral_potential in 0..1) for one campaign at one time. Recording the same
--    (campaign, metric, time) again replaces the value (the newest recorded_at wins).
-- 3. outcome_accuracy: for each outcome, the LATEST prediction made at or before the outcome's
--    time for the same campaign (ASOF JOIN), the predicted value of that metric, and
--        accuracy = greatest(0, 1 - |predicted - actual| / range)
--    with range = 2 for brand_sentiment and 1 for purchase_intent and viral_potential (the width
--    of each metric's scale: 1 = exact, 0 = as wrong as the scale allows). Outcomes with no earlier
--    prediction do not appear.
-- 4. prediction_accuracy_rolling: per (campaign, metric) the mean accuracy of the LAST 20 outcomes
--    (by outcome time), their count, the newest outcome time and below_alert = rolling accuracy
--    under 0.70 (scoring.accuracy.ACCURACY_ALERT_BELOW, the design's rule). scoring.accuracy.
--    rolling_accuracy computes the same in Python for any window.
-- The 002 view prediction_accuracy (MAE of the actual_* columns set by record_outcome) is unchanged.

ALTER TABLE {{db}}.predictions ADD COLUMN IF NOT EXISTS risk_items Array(String) DEFAULT [] AFTER opportunities;

ALTER TABLE {{db}}.predictions ADD COLUMN IF NOT EXISTS opportunity_items Array(String) DEFAULT [] AFTER risk_items;

CREATE TABLE IF NOT EXISTS {{db}}.outcomes
(
    outcome_id   String,
    campaign_id  LowCardinality(String),
    metric       LowCardinality(String),
    value        Float64,
    observed_at  DateTime64(3, 'UTC'),
    source       String                  DEFAULT '',
    recorded_at  DateTime64(6, 'UTC')    DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (campaign_id, metric, observed_at, outcome_id);

CREATE VIEW IF NOT EXISTS {{db}}.outcome_accuracy AS
SELECT
    o.campaign_id                                                      AS campaign_id,
    o.metric                                                           AS metric,
    o.observed_at                                                      AS observed_at,
    o.value                                                            AS actual,
    p.prediction_id                                                    AS prediction_id,
    p.made_at                                                          AS made_at,
    multiIf(o.metric = 'brand_sentiment', p.brand_sentiment,
            o.metric = 'purchase_intent', p.purchase_intent,
            p.viral_potential)                                         AS predicted,
    if(o.metric = 'brand_sentiment', 2.0, 1.0)                         AS value_range,
    greatest(0.0, 1.0 - abs(predicted - actual) / value_range)         AS accuracy,
    p.confidence                                                       AS confidence
FROM (SELECT campaign_id, metric, observed_at, value FROM {{db}}.outcomes FINAL) AS o
ASOF INNER JOIN
     (SELECT campaign_id, made_at, prediction_id, brand_sentiment, purchase_intent, viral_potential, confidence
      FROM {{db}}.predictions FINAL) AS p
ON o.campaign_id = p.campaign_id AND o.observed_at >= p.made_at;

CREATE VIEW IF NOT EXISTS {{db}}.prediction_accuracy_rolling AS
SELECT
    campaign_id,
    metric,
    count()                        AS outcomes,
    avg(accuracy)                  AS rolling_accuracy,
    max(observed_at)               AS last_outcome_at,
    avg(accuracy) < 0.70           AS below_alert
FROM
(
    SELECT campaign_id, metric, observed_at, accuracy,
           row_number() OVER (PARTITION BY campaign_id, metric ORDER BY observed_at DESC) AS rn
    FROM {{db}}.outcome_accuracy
)
WHERE rn <= 20
GROUP BY campaign_id, metric;
