"""ClickHouse state: connection, migrations, record→column maps, writes and reads, analyst SQL
and its guard. Import what you need from the submodules (``tables.clickhouse.store`` …)."""
