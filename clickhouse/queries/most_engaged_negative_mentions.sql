-- The most engaged negative mentions of the last 24 hours (likes + comments + shares, then views):
-- what to answer first. Exact under replays (mentions FINAL). Text cut to 120 characters.
SELECT
    posted_at,
    platform,
    campaigns,
    likes + comments + shares                            AS engagement,
    views,
    round(sentiment, 2)                                  AS sentiment,
    round(toxicity, 2)                                   AS toxicity,
    credible,
    author_followers,
    substringUTF8(text, 1, 120)                          AS text,
    url
FROM mentions FINAL
WHERE sentiment_label = 'negative'
  AND posted_at >= now64(3, 'UTC') - INTERVAL 24 HOUR
ORDER BY engagement DESC, views DESC
LIMIT 25
