-- TrueVoice ClickHouse schema, migration 009: the hate-speech categories of each mention.
--
-- mentions gains
--   hate_categories   Array(LowCardinality(String))  the K-MHaS categories the text is read as
--                     (origin, physical, politics, profanity, age, gender, race, religion), each
--                     over its own threshold (onnx/hate_categories/CARD.md); [] = none. Brand
--                     safety asks "which mentions carry hate of kind X", e.g.
--         SELECT event_id, text FROM mentions FINAL WHERE has(hate_categories, 'gender')
--         SELECT c, count() FROM mentions FINAL ARRAY JOIN hate_categories AS c GROUP BY c
--
-- Rows stored before this migration read [] (not scored for categories then). The landing table
-- (006) gains the field, and its view is re-created with the one new column: a materialised
-- view's query cannot be altered in place. Workers migrate before they consume, so no insert
-- into mentions_in happens between the DROP and the CREATE.

ALTER TABLE {{db}}.mentions
    ADD COLUMN IF NOT EXISTS hate_categories Array(LowCardinality(String)) DEFAULT [] AFTER toxic;

ALTER TABLE {{db}}.mentions_in
    ADD COLUMN IF NOT EXISTS hate_categories Array(String) AFTER toxic;

DROP TABLE IF EXISTS {{db}}.mentions_in_mv;

CREATE MATERIALIZED VIEW {{db}}.mentions_in_mv TO {{db}}.mentions AS
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
    toxicity, toxic, hate_categories, intent, purchase_intent, meme_template, meme_score,
    credibility, credible, bot_likelihood, credibility_reasons, coordination, slang_terms, scored_at,
    now64(6) AS ingested_at
FROM {{db}}.mentions_in;
