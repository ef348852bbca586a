-- Top campaigns by mentions in the last hour (exact: distinct event ids, replays collapse).
-- Reads the materialized per-minute aggregates (cheap). '*' is the brand-wide pseudo-campaign.
-- Columns: campaign_id, mentions, negatives, negative_share, positive_share, credible_share, sentiment_avg
-- (sentiment_avg is approximate under replays; use campaign_minute_stats for an exact figure).
SELECT
    campaign_id,
    uniqExactMerge(mention_count)                                              AS mentions,
    uniqExactIfMerge(negatives)                                                AS negatives,
    round(negatives / mentions, 3)                                             AS negative_share,
    round(uniqExactIfMerge(positives) / mentions, 3)                           AS positive_share,
    round(uniqExactIfMerge(credible) / mentions, 3)                            AS credible_share,
    round(avgMerge(sentiment_avg), 3)                                          AS sentiment_avg
FROM campaign_minute_agg
WHERE minute >= toStartOfMinute(now('UTC') - INTERVAL 1 HOUR)
  AND campaign_id != '*'
GROUP BY campaign_id
ORDER BY mentions DESC
LIMIT 20
