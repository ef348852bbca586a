-- TrueVoice ClickHouse schema, migration 004: credibility 0-100 with its reasons, bot likelihood,
-- coordination, author profile fields (schemas.records.ScoredMention / Author, scoring/credibility.py).
--
-- mentions gains
--   author_statuses_count, author_listed_count   Nullable(UInt64)  NULL = the collector did not say
--   author_default_profile_image                 Nullable(Bool)    NULL = unknown
--   author_name                                  String  the pseudonym of the display name (name_<hex>)
--   author_description, author_url               String  the profile text and link, personal data
--                                                        replaced as in texts (scoring/privacy.py)
--   bot_likelihood                               Float32 0-1, scoring/bots.py
--   credibility_reasons                          Array(Tuple(factor, points, evidence)): why the
--                                                credibility is what it is. Read a factor's column
--                                                as an array: credibility_reasons.factor,
--                                                credibility_reasons.points, e.g.
--         SELECT event_id, credibility FROM mentions FINAL WHERE has(credibility_reasons.factor, 'coordination')
--         SELECT r.factor, count(), avg(r.points) FROM mentions FINAL ARRAY JOIN credibility_reasons AS r GROUP BY r.factor
--   coordination                                 String  the coordinated cluster's id ('' = none), with a
--                                                bloom-filter skip index for "every mention of cluster X"
--
-- credibility stays Float32 but now holds 0-100 (it held a 0-1 rule score). Existing rows are
-- scaled by 100 with a synchronous mutation, so their figures read on the new scale at once;
-- their `credible` flag is left as it was computed then (what the windows and the *_mv
-- aggregates counted). `truevoice up` and `worker` migrate before they consume, so every row
-- this mutation sees is an old one. The 003 backup table (mentions_by_hour_002) is untouched.
--
-- The plain views gain credible_share (credible / mentions) and credibility_avg, the MV-backed
-- views credible_share; they are re-created in place (CREATE OR REPLACE), with the definitions
-- of 002 otherwise unchanged. campaign_minute_mv reads columns by name and is not affected by
-- the new columns.

ALTER TABLE {{db}}.mentions
    ADD COLUMN IF NOT EXISTS author_statuses_count Nullable(UInt64) AFTER author_verified,
    ADD COLUMN IF NOT EXISTS author_listed_count Nullable(UInt64) AFTER author_statuses_count,
    ADD COLUMN IF NOT EXISTS author_description String DEFAULT '' CODEC(ZSTD(3)) AFTER author_listed_count,
    ADD COLUMN IF NOT EXISTS author_name String DEFAULT '' AFTER author_description,
    ADD COLUMN IF NOT EXISTS author_url String DEFAULT '' CODEC(ZSTD(1)) AFTER author_name,
    ADD COLUMN IF NOT EXISTS author_default_profile_image Nullable(Bool) AFTER author_url,
    ADD COLUMN IF NOT EXISTS bot_likelihood Float32 DEFAULT 0 AFTER credible,
    ADD COLUMN IF NOT EXISTS credibility_reasons
        Array(Tuple(factor LowCardinality(String), points Float32, evidence String)) DEFAULT [] AFTER bot_likelihood,
    ADD COLUMN IF NOT EXISTS coordination String DEFAULT '' AFTER credibility_reasons;

ALTER TABLE {{db}}.mentions ADD INDEX IF NOT EXISTS idx_coordination coordination TYPE bloom_filter(0.01) GRANULARITY 4;

ALTER TABLE {{db}}.mentions UPDATE credibility = credibility * 100 WHERE credibility <= 1
SETTINGS mutations_sync = 2;

-- ---------------------------------------------------------------- exact views (FINAL)
CREATE OR REPLACE VIEW {{db}}.campaign_minute_stats AS
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
    sum(likes + comments + shares)                   AS engagement,
    credible / mention_count                         AS credible_share,
    avg(credibility)                                 AS credibility_avg
FROM {{db}}.mentions FINAL
ARRAY JOIN arrayDistinct(arrayConcat(['*'], CAST(campaigns, 'Array(String)'))) AS campaign_id
GROUP BY campaign_id, platform, minute;

CREATE OR REPLACE VIEW {{db}}.campaign_day_stats AS
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
    sum(likes + comments + shares)                   AS engagement,
    credible / mention_count                         AS credible_share,
    avg(credibility)                                 AS credibility_avg
FROM {{db}}.mentions FINAL
ARRAY JOIN arrayDistinct(arrayConcat(['*'], CAST(campaigns, 'Array(String)'))) AS campaign_id
GROUP BY campaign_id, platform, day;

-- ---------------------------------------------------------------- readable MV views
CREATE OR REPLACE VIEW {{db}}.campaign_minute_stats_mv AS
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
    sum(rows_inserted)                   AS rows_inserted,
    credible / mention_count             AS credible_share
FROM {{db}}.campaign_minute_agg
GROUP BY campaign_id, platform, minute;

CREATE OR REPLACE VIEW {{db}}.campaign_day_stats_mv AS
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
    sum(rows_inserted)                   AS rows_inserted,
    credible / mention_count             AS credible_share
FROM {{db}}.campaign_day_agg
GROUP BY campaign_id, platform, day;
