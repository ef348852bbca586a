"""Schema migrations: the numbered ``*.sql`` files, applied once each, in name order.

The files are our own, trusted SQL; ``{{db}}`` in them is replaced by the database name.
"""

from __future__ import annotations

import hashlib
import logging
from importlib import resources
from pathlib import Path

from tables.clickhouse.connection import Connection

log = logging.getLogger(__name__)


def migrations_dir() -> Path:
    """The SQL folder: installed as package data (``tables/clickhouse/sql``) or the checkout's ``clickhouse/``."""
    packaged = Path(str(resources.files("tables.clickhouse"))) / "sql"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "clickhouse"


def split_statements(sql: str) -> list[str]:
    """Split one of OUR migration files on top-level ``;`` (quotes and comments respected).

    Not a security boundary: user SQL never comes here (see ``guard.py``).
    """
    out: list[str] = []
    buf: list[str] = []
    has_code = False
    i, n = 0, len(sql)
    while i < n:
        ch, nxt = sql[i], sql[i + 1] if i + 1 < n else ""
        if ch == "-" and nxt == "-":
            j = sql.find("\n", i)
            j = n if j < 0 else j
        elif ch == "/" and nxt == "*":
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif ch in ("'", '"', "`"):
            j = i + 1
            while j < n and sql[j] != ch:
                j += 2 if sql[j] == "\\" else 1
            j = min(j + 1, n)
            has_code = True
        elif ch == ";":
            if has_code:
                out.append("".join(buf).strip())
            buf, has_code = [], False
            i += 1
            continue
        else:
            has_code = has_code or not ch.isspace()
            j = i + 1
        buf.append(sql[i:j])
        i = j
    if has_code:
        out.append("".join(buf).strip())
    return out


def migrate(conn: Connection, database: str, directory: Path | None = None) -> list[str]:
    """Apply the not yet applied ``*.sql`` files in name order; return the names applied now."""
    directory = directory or migrations_dir()
    conn.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    conn.command(
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations (name String, checksum String, "
        f"applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree(applied_at) ORDER BY name"
    )
    applied = dict(conn.select(
        f"SELECT name, argMax(checksum, applied_at) FROM {database}.schema_migrations GROUP BY name").rows)
    done: list[str] = []
    for path in sorted(directory.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        checksum = hashlib.sha256(text.encode()).hexdigest()
        if path.name in applied:
            if applied[path.name] != checksum:
                log.warning("migration %s changed after it was applied; not re-applied", path.name)
            continue
        for statement in split_statements(text.replace("{{db}}", database)):
            conn.command(statement)
        conn.insert(f"{database}.schema_migrations", [[path.name], [checksum]], ("name", "checksum"))
        done.append(path.name)
        log.info("applied ClickHouse migration %s", path.name)
    return done


def applied_migrations(conn: Connection, database: str) -> list[str]:
    return [r[0] for r in conn.select(f"SELECT DISTINCT name FROM {database}.schema_migrations ORDER BY name").rows]
