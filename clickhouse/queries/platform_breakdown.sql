-- Platform breakdown for the last 24 hours: volume, sentiment, toxicity, credibility, engagement.
-- Exact under replays (mentions FINAL).
SELECT
    platform,
    count()                                              AS mentions,
    round(count() / sum(count()) OVER (), 3)             AS share,
    round(avg(sentiment), 3)                             AS sentiment_avg,
    round(countIf(sentiment_label = 'negative') / count(), 3) AS negative_share,
    round(countIf(toxic) / count(), 3)                   AS toxic_share,
    round(countIf(credible) / count(), 3)                AS credible_share,
    sum(likes + comments + shares)                       AS engagement,
    uniqExact(author_id)                                 AS authors
FROM mentions FINAL
WHERE posted_at >= now64(3, 'UTC') - INTERVAL 24 HOUR
GROUP BY platform
ORDER BY mentions DESC
