-- Spike alerts of the last 24 hours, newest first (alerts FINAL: a replayed alert shows once).
-- count_at_alert is what the window agent saw; compare with campaign_minute_stats for the
-- exact count of that minute.
SELECT
    a.raised_at,
    a.campaign_id,
    a.platform,
    a.kind,
    a.minute,
    a.count                                              AS count_at_alert,
    round(a.zscore, 1)                                   AS zscore,
    round(a.negative_share, 3)                           AS negative_share,
    a.message
FROM alerts AS a FINAL
WHERE a.raised_at >= now64(3, 'UTC') - INTERVAL 24 HOUR
ORDER BY a.raised_at DESC
LIMIT 50
