-- TrueVoice ClickHouse schema, migration 006: scored mentions arrive as the JSON mentions.scored
-- carries, and ClickHouse turns them into rows.
--
-- The sink inserts each batch of mentions.scored values unchanged (INSERT ... FORMAT
-- JSONEachRow) into mentions_in, a Null table shaped like schemas.records.ScoredMention
-- (author and engagement as named tuples). It keeps nothing: the materialised view
-- mentions_in_mv maps each row onto the columns of mentions, whose own views
-- (campaign_minute_mv, campaign_day_mv) fire as before. Parsing the JSON in ClickHouse costs
-- about half of what building the columns in Python did (bench/clickhouse_insert.py), on the
-- worker's busiest core. tests/test_clickhouse_columns.py checks that every field of
-- ScoredMention has a column here and that the view writes every column of mentions.
--
-- Nothing is stored in mentions_in, so analysts see it empty; read mentions.

CREATE TABLE IF NOT EXISTS {{db}}.mentions_in
(
    event_id            String,
    platform            String,
    post_id             String,
    url                 String,
    author              Tuple(id String, handle String, created_at Nullable(Date32), followers UInt64,
                              following UInt64, verified Bool, statuses_count Nullable(UInt64),
                              listed_count Nullable(UInt64), description String, name String, url String,
                              default_profile_image Nullable(Bool)),
    text                String,
    text_normalised     String,
    lang                String,
    media_urls          Array(String),
    hashtags            Array(String),
    engagement          Tuple(likes UInt64, comments UInt64, shares UInt64, views UInt64),
    posted_at           DateTime64(3, 'UTC'),
    collected_at        Nullable(DateTime64(3, 'UTC')),
    brand               String,
    campaigns           Array(String),
    sentiment           Float32,
    sentiment_label     String,
    sentiment_probs     Array(Float32),
    toxicity            Float32,
    toxic               Bool,
    intent              String,
    purchase_intent     Float32,
    meme_template       String,
    meme_score          Float32,
    credibility         Float32,
    credible            Bool,
    bot_likelihood      Float32,
    credibility_reasons Array(Tuple(factor String, points Float32, evidence String)),
    coordination        String,
    slang_terms         Array(String),
    scored_at           Nullable(DateTime64(3, 'UTC'))
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.mentions_in_mv TO {{db}}.mentions AS
SELECT
    event_id, platform, post_id, url,
    author.id AS author_id, author.handle AS author_handle, author.created_at AS author_created_at,
    author.followers AS author_followers, author.following AS author_following,
    author.verified AS author_verified, author.statuses_count AS author_statuses_count,
    author.listed_count AS author_listed_count, author.description AS author_description,
    author.name AS author_name, author.url AS author_url,
    author.default_profile_image AS author_default_profile_image,
    text, text_normalised, lang, media_urls, hashtags,
    engagement.likes AS likes, engagement.comments AS comments, engagement.shares AS shares,
    engagement.views AS views,
    posted_at,
    coalesce(collected_at, posted_at) AS collected_at,
    brand, campaigns, sentiment, sentiment_label,
    sentiment_probs[1] AS sentiment_negative, sentiment_probs[2] AS sentiment_neutral,
    sentiment_probs[3] AS sentiment_positive,
    toxicity, toxic, intent, purchase_intent, meme_template, meme_score,
    credibility, credible, bot_likelihood, credibility_reasons, coordination, slang_terms, scored_at,
    now64(6) AS ingested_at
FROM {{db}}.mentions_in;
