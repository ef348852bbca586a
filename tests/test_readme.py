"""Every `truevoice sql` example in the README runs as pasted (on an empty, migrated store)."""

from __future__ import annotations

import re

import pytest

from tables.clickhouse.store import ClickHouseStore
from tests.conftest import REPO

EXAMPLES = re.findall(r'truevoice sql (?:--data-dir \S+ )?"([^"]+)"', (REPO / "README.md").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with ClickHouseStore(f"chdb://{tmp_path_factory.mktemp('readme_chdb')}") as s:
        s.migrate()
        yield s


def test_the_readme_has_sql_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("query", EXAMPLES)
def test_readme_sql_example_runs(store, query):
    # passes the guard and ClickHouse knows every table, view and column it names
    assert store.query(query).rows == []  # the store is empty
