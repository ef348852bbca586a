-- TrueVoice ClickHouse schema, migration 003: one post is one row.
--
-- The bug: 001 keyed mentions by (toStartOfHour(posted_at), platform, event_id) and partitioned
-- them by toYYYYMM(posted_at). A post collected twice with a different posted_at (a platform that
-- re-dates edited posts, a collector that sends its own clock) gives two copies with different
-- sorting keys, possibly in different partitions: ReplacingMergeTree only ever replaces rows with
-- the SAME sorting key in the SAME partition, so neither background merges nor FINAL collapsed
-- them and the post was counted twice everywhere.
--
-- The fix: the key holds only what identifies the post.
--   ORDER BY (platform, event_id)   event_id = blake2b(platform:post_id) (schemas.records), so every
--                                   copy of a post has the same key; platform first keeps
--                                   "WHERE platform = ..." a primary-key range.
--   no PARTITION BY                 the partition must not depend on posted_at either (copies in two
--                                   partitions never merge). A hash partition would split every
--                                   sink insert into one part per partition (too many parts), so
--                                   the table has one partition; retention is a TTL, not DROP PARTITION.
--   INDEX minmax on posted_at       time-range reads (window_rows, the FINAL views, analyst
--                                   queries) still skip parts and granules: a live stream inserts
--                                   in posted_at order, so each part covers a narrow time range.
-- The newest ingested_at still wins, so the last copy's posted_at (and scores) is what remains.
--
-- How it is done (existing data directories migrate in place):
--   1. create the new table (mentions_by_post);
--   2. drop campaign_minute_mv: a materialized view is bound to the table it was created on, and
--      after a RENAME it fires for neither the old nor the new table (chdb/ClickHouse 25, tested
--      in tests/test_clickhouse_store.py), while after a restart it would re-bind by name;
--   3. swap names in ONE atomic RENAME: the 001 table is kept as mentions_by_hour_002 (a backup
--      with every row as it was; drop it once satisfied), and from here on every writer (a
--      running sink included) writes into the new table by name;
--   4. copy every old row across (INSERT ... SELECT; copies collapse under FINAL and merges);
--   5. re-create campaign_minute_mv on the new table, with the definition of 002.
-- The plain views of 002 (campaign_minute_stats, campaign_day_stats) name mentions and are
-- resolved at query time, so they read the new table without change; campaign_day_mv reads
-- campaign_minute_agg and is untouched. The aggregate tables keep what they held: inserts made
-- while step 4 runs reach the table but not the aggregates, so run this with the sinks stopped
-- (`truevoice up` and `worker` migrate before they consume). A post that was stored under two
-- posted_at minutes before this migration stays counted in both minutes of the *_mv views (the
-- insert-time caveat of 002); the FINAL views and window_rows count it once.

CREATE TABLE IF NOT EXISTS {{db}}.mentions_by_post
(
    event_id           String,
    platform           LowCardinality(String),
    post_id            String,
    url                String                               CODEC(ZSTD(1)),
    author_id          String,
    author_handle      String,
    author_created_at  Nullable(Date32),
    author_followers   UInt64,
    author_following   UInt64,
    author_verified    Bool,
    text               String                               CODEC(ZSTD(3)),
    text_normalised    String                               CODEC(ZSTD(3)),
    lang               LowCardinality(String),
    media_urls         Array(String)                        CODEC(ZSTD(1)),
    hashtags           Array(String),
    likes              UInt64,
    comments           UInt64,
    shares             UInt64,
    views              UInt64,
    posted_at          DateTime64(3, 'UTC'),
    collected_at       DateTime64(3, 'UTC'),
    brand              LowCardinality(String),
    campaigns          Array(LowCardinality(String)),
    sentiment          Float32,
    sentiment_label    LowCardinality(String),
    sentiment_negative Float32,
    sentiment_neutral  Float32,
    sentiment_positive Float32,
    toxicity           Float32,
    toxic              Bool,
    intent             LowCardinality(String),
    purchase_intent    Float32,
    meme_template      LowCardinality(String),
    meme_score         Float32,
    credibility        Float32,
    credible           Bool,
    slang_terms        Array(LowCardinality(String)),
    scored_at          Nullable(DateTime64(3, 'UTC')),
    ingested_at        DateTime64(6, 'UTC')                 DEFAULT now64(6),
    INDEX idx_posted_at posted_at TYPE minmax GRANULARITY 1,
    INDEX idx_campaigns campaigns TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_brand brand TYPE set(256) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (platform, event_id);

DROP VIEW IF EXISTS {{db}}.campaign_minute_mv;

RENAME TABLE {{db}}.mentions TO {{db}}.mentions_by_hour_002,
             {{db}}.mentions_by_post TO {{db}}.mentions;

INSERT INTO {{db}}.mentions SELECT * FROM {{db}}.mentions_by_hour_002;

-- the definition of 002_views.sql, now bound to the new table
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
