-- TrueVoice ClickHouse schema, migration 001: base tables.
--
-- Applied in file-name order by streams.clickhouse_store.ClickHouseStore.migrate(), which replaces
-- {{db}} with the configured database (default `truevoice`) and records every applied file in
-- {{db}}.schema_migrations. Every statement is CREATE ... IF NOT EXISTS, so re-running is harmless.
--
-- De-duplication rules (replays of Kafka topics must never double-count):
--   * event tables are ReplacingMergeTree; the sorting key is built only from fields of the event
--     itself (the id plus the event time), so every copy of one event has the same key, and the
--     partition key is toYYYYMM(<event time>), so every copy lands in the same partition and a
--     background merge collapses them.
--   * merges happen only eventually: exact reads use FINAL or count DISTINCT ids (see 002_views.sql).
--   * all times are stored in UTC (DateTime64(3, 'UTC')).

CREATE DATABASE IF NOT EXISTS {{db}};

-- Brands (dimension table, tiny). There is no Brand record in schemas/records.py yet; this
-- table is written by whoever manages brands. Not partitioned: versions of one brand must
-- always collapse, so the partition cannot depend on updated_at.
CREATE TABLE IF NOT EXISTS {{db}}.brands
(
    brand        LowCardinality(String),
    name         String                          DEFAULT '',
    aliases      Array(String)                   DEFAULT [],
    active       Bool                            DEFAULT true,
    created_at   DateTime64(3, 'UTC')            DEFAULT now64(3),
    updated_at   DateTime64(6, 'UTC')            DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY brand;

-- Campaigns (schemas.records.Campaign). The latest updated_at wins: read with FINAL.
CREATE TABLE IF NOT EXISTS {{db}}.campaigns
(
    campaign_id      String,
    brand            LowCardinality(String),
    name             String,
    keywords         Array(String),
    query            String,
    exclude          Array(String),
    platforms        Array(LowCardinality(String)),
    starts_at        Nullable(DateTime64(3, 'UTC')),
    ends_at          Nullable(DateTime64(3, 'UTC')),
    active           Bool,
    spike_threshold  Float64,
    min_mentions     UInt32,
    updated_at       DateTime64(6, 'UTC')        DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY campaign_id;

-- Every scored mention (schemas.records.ScoredMention), author and engagement flattened.
-- Duplicates of one event_id share (hour of posted_at, platform, event_id) and the month of
-- posted_at, so they collapse; the newest ingested_at wins (a re-scored replay replaces the
-- old scores).
CREATE TABLE IF NOT EXISTS {{db}}.mentions
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
    INDEX idx_campaigns campaigns TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_brand brand TYPE set(256) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(posted_at)
ORDER BY (toStartOfHour(posted_at), platform, event_id);

-- Records the score agent could not accept (schemas.records.DeadLetter). event_id is the
-- blake2b of the raw bytes, so the same bad record is kept once. Partitioned by received_at:
-- producers should set received_at from the Kafka message timestamp (stable under replay);
-- if it is wall-clock time, copies of one record may sit in two partitions and only FINAL
-- (which merges across partitions) collapses them.
CREATE TABLE IF NOT EXISTS {{db}}.deadletter
(
    event_id          String,
    reason            String,
    error_type        LowCardinality(String),
    raw               String                     CODEC(ZSTD(3)),
    raw_size          UInt32,
    source_topic      LowCardinality(String),
    source_partition  Int32,
    source_offset     Int64,
    received_at       DateTime64(3, 'UTC'),
    ingested_at       DateTime64(6, 'UTC')       DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY event_id;

-- Spike alerts (schemas.records.Alert), keyed by alert_id and the alert's own minute.
CREATE TABLE IF NOT EXISTS {{db}}.alerts
(
    alert_id        String,
    campaign_id     LowCardinality(String),
    platform        LowCardinality(String),
    kind            LowCardinality(String),
    minute          DateTime64(3, 'UTC'),
    count           UInt64,
    baseline_mean   Float64,
    baseline_std    Float64,
    zscore          Float64,
    sentiment_mean  Float64,
    negative_share  Float64,
    raised_at       DateTime64(3, 'UTC'),
    message         String,
    ingested_at     DateTime64(6, 'UTC')       DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(minute)
ORDER BY (campaign_id, minute, alert_id);

-- Predictions (schemas.records.Prediction) plus the actual outcome, posted back later by
-- re-inserting the row with the actual_* columns filled and a newer updated_at.
CREATE TABLE IF NOT EXISTS {{db}}.predictions
(
    prediction_id            String,
    campaign_id              LowCardinality(String),
    made_at                  DateTime64(3, 'UTC'),
    horizon_hours            UInt32,
    purchase_intent          Float64,
    brand_sentiment          Float64,
    viral_potential          Float64,
    confidence               Float64,
    risks                    Array(String),
    opportunities            Array(String),
    mentions_used            UInt64,
    actual_purchase_intent   Nullable(Float64),
    actual_brand_sentiment   Nullable(Float64),
    actual_viral_potential   Nullable(Float64),
    actual_observed_at       Nullable(DateTime64(3, 'UTC')),
    actual_source            String                      DEFAULT '',
    updated_at               DateTime64(6, 'UTC')        DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toYYYYMM(made_at)
ORDER BY (campaign_id, made_at, prediction_id);

-- Meme / image analysis of a mention's media: one row per (event, image). posted_at is the
-- mention's posted_at so copies share the partition; the newest analysed_at wins.
CREATE TABLE IF NOT EXISTS {{db}}.meme_analysis
(
    event_id      String,
    posted_at     DateTime64(3, 'UTC'),
    platform      LowCardinality(String),
    image_url     String,
    template      LowCardinality(String),
    score         Float32,
    caption       String,
    ocr_text      String,
    labels        Array(LowCardinality(String)),
    model         LowCardinality(String),
    analysed_at   DateTime64(6, 'UTC')        DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(analysed_at)
PARTITION BY toYYYYMM(posted_at)
ORDER BY (toStartOfHour(posted_at), event_id, image_url);
