-- TrueVoice ClickHouse schema, migration 002: campaign × platform statistics.
--
-- Every mention is counted under each of its campaigns AND under the pseudo-campaign '*'
-- (brand-wide velocity), via ARRAY JOIN arrayDistinct(arrayConcat(['*'], campaigns)).
--
-- Two ways to read the same figures:
--
--   campaign_minute_stats / campaign_day_stats  (plain views over mentions FINAL)
--       exact at once, for every column, even before background merges and under any number
--       of replays; they read the raw mentions, so they cost a scan of the time range read.
--
--   campaign_minute_stats_mv / campaign_day_stats_mv  (views over AggregatingMergeTree
--   tables fed by materialized views at insert time)
--       cheap to read. A materialized view sees every inserted block, replays included, so:
--         EXACT under replays: mention_count, negatives, positives, neutrals, credible, toxic
--             (uniqExact / uniqExactIf of event_id: a replayed event is counted once)
--         NOT exact under replays: sentiment_avg, purchase_intent_avg, toxicity_avg (avgState:
--             a replayed event weighs twice), engagement (sumState), rows_inserted (counts
--             every inserted copy on purpose: rows_inserted - mention_count = replayed copies).
--       Caveat: if a replay carries a *different* label for the same event (re-scored with a
--       new model), uniqExactIf counts it under both labels; the FINAL views keep the newest.
--       Deleting or TTL-ing mentions does not shrink these tables.

-- ---------------------------------------------------------------- per minute
CREATE TABLE IF NOT EXISTS {{db}}.campaign_minute_agg
(
    campaign_id          LowCardinality(String),
    platform             LowCardinality(String),
    minute               DateTime('UTC'),
    mention_count        AggregateFunction(uniqExact, String),
    negatives            AggregateFunction(uniqExactIf, String, UInt8),
    positives            AggregateFunction(uniqExactIf, String, UInt8),
    neutrals             AggregateFunction(uniqExactIf, String, UInt8),
    credible             AggregateFunction(uniqExactIf, String, UInt8),
    toxic                AggregateFunction(uniqExactIf, String, UInt8),
    sentiment_avg        AggregateFunction(avg, Float32),
    purchase_intent_avg  AggregateFunction(avg, Float32),
    toxicity_avg         AggregateFunction(avg, Float32),
    engagement           AggregateFunction(sum, UInt64),
    rows_inserted        SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (campaign_id, platform, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.campaign_minute_mv
TO {{db}}.campaign_minute_agg
AS
SELECT
    campaign_id,
    platform,
    toStartOfMinute(toDateTime(posted_at, 'UTC'))                      AS minute,
    uniqExactState(event_id)                                            AS mention_count,
    uniqExactIfState(event_id, toUInt8(sentiment_label = 'negative'))   AS negatives,
    uniqExactIfState(event_id, toUInt8(sentiment_label = 'positive'))   AS positives,
    uniqExactIfState(event_id, toUInt8(sentiment_label = 'neutral'))    AS neutrals,
    uniqExactIfState(event_id, toUInt8(credible))                       AS credible,
    uniqExactIfState(event_id, toUInt8(toxic))                          AS toxic,
    avgState(sentiment)                                                 AS sentiment_avg,
    avgState(purchase_intent)                                           AS purchase_intent_avg,
    avgState(toxicity)                                                  AS toxicity_avg,
    sumState(toUInt64(likes + comments + shares))                       AS engagement,
    toUInt64(count())                                                   AS rows_inserted
FROM {{db}}.mentions
ARRAY JOIN arrayDistinct(arrayConcat(['*'], CAST(campaigns, 'Array(String)'))) AS campaign_id
GROUP BY campaign_id, platform, minute;

-- ---------------------------------------------------------------- per day
CREATE TABLE IF NOT EXISTS {{db}}.campaign_day_agg
(
    campaign_id          LowCardinality(String),
    platform             LowCardinality(String),
    day                  Date,
    mention_count        AggregateFunction(uniqExact, String),
    negatives            AggregateFunction(uniqExactIf, String, UInt8),
    positives            AggregateFunction(uniqExactIf, String, UInt8),
    neutrals             AggregateFunction(uniqExactIf, String, UInt8),
    credible             AggregateFunction(uniqExactIf, String, UInt8),
    toxic                AggregateFunction(uniqExactIf, String, UInt8),
    sentiment_avg        AggregateFunction(avg, Float32),
    purchase_intent_avg  AggregateFunction(avg, Float32),
    toxicity_avg         AggregateFunction(avg, Float32),
    engagement           AggregateFunction(sum, UInt64),
    rows_inserted        SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (campaign_id, platform, day);

-- Fed from the per-minute aggregates (a cascading MV: it fires on every block the minute MV
-- writes), so the raw mentions are ARRAY JOINed and hashed once, not twice. Merging the
-- uniqExact states keeps the distinct counts exact.
CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.campaign_day_mv
TO {{db}}.campaign_day_agg
AS
SELECT
    campaign_id,
    platform,
    toDate(minute)                                  AS day,
    uniqExactMergeState(mention_count)              AS mention_count,
    uniqExactIfMergeState(negatives)                AS negatives,
    uniqExactIfMergeState(positives)                AS positives,
    uniqExactIfMergeState(neutrals)                 AS neutrals,
    uniqExactIfMergeState(credible)                 AS credible,
    uniqExactIfMergeState(toxic)                    AS toxic,
    avgMergeState(sentiment_avg)                    AS sentiment_avg,
    avgMergeState(purchase_intent_avg)              AS purchase_intent_avg,
    avgMergeState(toxicity_avg)                     AS toxicity_avg,
    sumMergeState(engagement)                       AS engagement,
    sum(rows_inserted)                              AS rows_inserted
FROM {{db}}.campaign_minute_agg
GROUP BY campaign_id, platform, day;

-- ---------------------------------------------------------------- readable MV views
CREATE VIEW IF NOT EXISTS {{db}}.campaign_minute_stats_mv AS
SELECT
    campaign_id,
    platform,
    minute,
    uniqExactMerge(mention_count)        AS mention_count,
    uniqExactIfMerge(negatives)          AS negatives,
    uniqExactIfMerge(positives)          AS positives,
    uniqExactIfMerge(neutrals)           AS neutrals,
    uniqExactIfMerge(credible)           AS credible,
    uniqExactIfMerge(toxic)              AS toxic,
    avgMerge(sentiment_avg)              AS sentiment_avg,
    avgMerge(purchase_intent_avg)        AS purchase_intent_avg,
    avgMerge(toxicity_avg)               AS toxicity_avg,
    sumMerge(engagement)                 AS engagement,
    sum(rows_inserted)                   AS rows_inserted
FROM {{db}}.campaign_minute_agg
GROUP BY campaign_id, platform, minute;

CREATE VIEW IF NOT EXISTS {{db}}.campaign_day_stats_mv AS
SELECT
    campaign_id,
    platform,
    day,
    uniqExactMerge(mention_count)        AS mention_count,
    uniqExactIfMerge(negatives)          AS negatives,
    uniqExactIfMerge(positives)          AS positives,
    uniqExactIfMerge(neutrals)           AS neutrals,
    uniqExactIfMerge(credible)           AS credible,
    uniqExactIfMerge(toxic)              AS toxic,
    avgMerge(sentiment_avg)              AS sentiment_avg,
    avgMerge(purchase_intent_avg)        AS purchase_intent_avg,
    avgMerge(toxicity_avg)               AS toxicity_avg,
    sumMerge(engagement)                 AS engagement,
    sum(rows_inserted)                   AS rows_inserted
FROM {{db}}.campaign_day_agg
GROUP BY campaign_id, platform, day;

-- ---------------------------------------------------------------- exact views (FINAL)
CREATE VIEW IF NOT EXISTS {{db}}.campaign_minute_stats AS
SELECT
    campaign_id,
    platform,
    toStartOfMinute(toDateTime(posted_at, 'UTC'))   AS minute,
    count()                                          AS mention_count,
    countIf(sentiment_label = 'negative')            AS negatives,
    countIf(sentiment_label = 'positive')            AS positives,
    countIf(sentiment_label = 'neutral')             AS neutrals,
    countIf(credible)                                AS credible,
    countIf(toxic)                                   AS toxic,
    avg(sentiment)                                   AS sentiment_avg,
    sum(toFloat64(sentiment))                        AS sentiment_sum,
    avg(purchase_intent)                             AS purchase_intent_avg,
    sum(toFloat64(purchase_intent))                  AS purchase_intent_sum,
    avg(toxicity)                                    AS toxicity_avg,
    sum(likes + comments + shares)                   AS engagement
FROM {{db}}.mentions FINAL
ARRAY JOIN arrayDistinct(arrayConcat(['*'], CAST(campaigns, 'Array(String)'))) AS campaign_id
GROUP BY campaign_id, platform, minute;

CREATE VIEW IF NOT EXISTS {{db}}.campaign_day_stats AS
SELECT
    campaign_id,
    platform,
    toDate(posted_at, 'UTC')                         AS day,
    count()                                          AS mention_count,
    countIf(sentiment_label = 'negative')            AS negatives,
    countIf(sentiment_label = 'positive')            AS positives,
    countIf(sentiment_label = 'neutral')             AS neutrals,
    countIf(credible)                                AS credible,
    countIf(toxic)                                   AS toxic,
    avg(sentiment)                                   AS sentiment_avg,
    sum(toFloat64(sentiment))                        AS sentiment_sum,
    avg(purchase_intent)                             AS purchase_intent_avg,
    sum(toFloat64(purchase_intent))                  AS purchase_intent_sum,
    avg(toxicity)                                    AS toxicity_avg,
    sum(likes + comments + shares)                   AS engagement
FROM {{db}}.mentions FINAL
ARRAY JOIN arrayDistinct(arrayConcat(['*'], CAST(campaigns, 'Array(String)'))) AS campaign_id
GROUP BY campaign_id, platform, day;

-- ---------------------------------------------------------------- prediction accuracy
CREATE VIEW IF NOT EXISTS {{db}}.prediction_accuracy AS
SELECT
    campaign_id,
    count()                                                                         AS predictions,
    countIf(actual_observed_at IS NOT NULL)                                         AS with_outcome,
    avgIf(abs(purchase_intent - actual_purchase_intent), actual_purchase_intent IS NOT NULL) AS mae_purchase_intent,
    avgIf(abs(brand_sentiment - actual_brand_sentiment), actual_brand_sentiment IS NOT NULL) AS mae_brand_sentiment,
    avgIf(abs(viral_potential - actual_viral_potential), actual_viral_potential IS NOT NULL) AS mae_viral_potential,
    avgIf(confidence, actual_observed_at IS NOT NULL)                               AS mean_confidence
FROM {{db}}.predictions FINAL
GROUP BY campaign_id;
