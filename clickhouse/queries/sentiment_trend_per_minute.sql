-- Sentiment trend per minute over the last 3 hours, all campaigns and platforms together
-- (the '*' pseudo-campaign). Exact: reads campaign_minute_stats (mentions FINAL).
-- Swap '*' for a campaign id to follow one campaign.
SELECT
    minute,
    sum(mention_count)                                   AS mentions_n,
    round(sum(sentiment_sum) / mentions_n, 3)            AS sentiment_avg_n,
    sum(negatives)                                       AS negatives_n,
    sum(positives)                                       AS positives_n,
    round(negatives_n / mentions_n, 3)                   AS negative_share
FROM campaign_minute_stats
WHERE campaign_id = '*'
  AND minute >= toStartOfMinute(now('UTC') - INTERVAL 3 HOUR)
GROUP BY minute
ORDER BY minute
