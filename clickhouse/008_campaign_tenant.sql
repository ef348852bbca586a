-- TrueVoice ClickHouse schema, migration 008: who owns a campaign, and deleted campaigns.
--
-- campaigns gains
--   tenant    LowCardinality(String)  the tenant of the API key that made it (schemas.records.Campaign);
--             campaigns stored before this migration belong to 'default' (tables/clickhouse/tenants.py
--             scopes a tenant's analyst SQL by this column)
--   deleted   Bool                    DELETE /api/v1/campaigns/{id} publishes the campaign once more with
--             deleted = true; the latest version wins (FINAL), so a deleted campaign stays deleted here
--             as it does on the compacted campaigns topic. Its mentions, alerts and predictions are kept.

ALTER TABLE {{db}}.campaigns
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default' AFTER min_mentions;

ALTER TABLE {{db}}.campaigns
    ADD COLUMN IF NOT EXISTS deleted Bool DEFAULT false AFTER tenant;
