-- Dead letters of the last 7 days by error type and reason: distinct bad records (a record
-- re-sent or replayed counts once), their last sighting and one example of the raw input.
SELECT
    error_type,
    reason,
    uniqExact(event_id)                                  AS records,
    max(received_at)                                     AS last_seen,
    groupUniqArray(3)(source_topic)                      AS topics,
    substringUTF8(any(raw), 1, 100)                      AS example_raw
FROM deadletter
WHERE received_at >= now64(3, 'UTC') - INTERVAL 7 DAY
GROUP BY error_type, reason
ORDER BY records DESC
LIMIT 50
