-- TrueVoice ClickHouse schema, migration 007: alerts are incidents, with their explanation.
--
-- One incident keeps one alert_id and its first minute (the sorting key), so every update of it
-- (a record with the same id and a higher revision on alerts.spikes) replaces the row:
-- `alerts FINAL` holds each incident's latest state. Readers that must not depend on merge
-- order take the highest revision: ORDER BY revision DESC LIMIT 1 BY alert_id.
-- The explanation: the top terms that are new or over-represented against the hour before
-- (log-odds), example mentions (ids, platforms, anonymised texts) and the sentiment shift.

ALTER TABLE {{db}}.alerts
    ADD COLUMN IF NOT EXISTS status             LowCardinality(String)    DEFAULT 'open' AFTER message,
    ADD COLUMN IF NOT EXISTS revision           UInt32                    DEFAULT 0 AFTER status,
    ADD COLUMN IF NOT EXISTS updated_at         Nullable(DateTime64(3, 'UTC')) AFTER revision,
    ADD COLUMN IF NOT EXISTS severity           LowCardinality(String)    DEFAULT 'low' AFTER updated_at,
    ADD COLUMN IF NOT EXISTS anomaly_score      Float64                   DEFAULT 0 AFTER severity,
    ADD COLUMN IF NOT EXISTS expected_low       Float64                   DEFAULT 0 AFTER anomaly_score,
    ADD COLUMN IF NOT EXISTS expected_high      Float64                   DEFAULT 0 AFTER expected_low,
    ADD COLUMN IF NOT EXISTS peak_minute        Nullable(DateTime64(3, 'UTC')) AFTER expected_high,
    ADD COLUMN IF NOT EXISTS last_minute        Nullable(DateTime64(3, 'UTC')) AFTER peak_minute,
    ADD COLUMN IF NOT EXISTS kinds              Array(LowCardinality(String)) AFTER last_minute,
    ADD COLUMN IF NOT EXISTS platforms          Array(LowCardinality(String)) AFTER kinds,
    ADD COLUMN IF NOT EXISTS mentions           UInt64                    DEFAULT 0 AFTER platforms,
    ADD COLUMN IF NOT EXISTS baseline_sentiment Float64                   DEFAULT 0 AFTER mentions,
    ADD COLUMN IF NOT EXISTS sentiment_shift    Float64                   DEFAULT 0 AFTER baseline_sentiment,
    ADD COLUMN IF NOT EXISTS terms              Array(String)             AFTER sentiment_shift,
    ADD COLUMN IF NOT EXISTS example_ids        Array(String)             AFTER terms,
    ADD COLUMN IF NOT EXISTS example_platforms  Array(LowCardinality(String)) AFTER example_ids,
    ADD COLUMN IF NOT EXISTS example_texts      Array(String)             AFTER example_platforms;
