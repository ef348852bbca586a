"""Author state of `up` survives a restart: on disk (voices/), and rebuilt from ClickHouse when lost."""

from __future__ import annotations

import shutil
import signal
from datetime import datetime, timedelta, timezone

from tests.conftest import wait_until

TEXT = "이번에 나온 신라면 골드 진짜 인생라면입니다 다들 꼭 드셔보세요 강추합니다"


def mention(post_id: str, text: str, minutes_ago: float) -> dict:
    at = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    return {"platform": "twitter", "post_id": post_id, "text": text, "posted_at": at.isoformat(),
            "author": {"id": "same-author-1", "handle": "same_author", "created_at": "2020-01-01",
                       "followers": 120, "following": 80}}


def factors(worker, post_id: str) -> list[str] | None:
    rows = worker.sql(f"SELECT credibility_reasons.factor, coordination FROM mentions FINAL "
                      f"WHERE post_id = '{post_id}'")
    return list(rows[0][0]) if rows else None


def post_and_wait(worker, m: dict) -> list[str]:
    status, body = worker.post("/api/mentions", m)
    assert status == 202, body
    return wait_until(lambda: factors(worker, m["post_id"]), 60, f"{m['post_id']} in ClickHouse")


def test_author_state_survives_a_restart_of_up_and_is_rebuilt_when_lost(worker_factory):
    up = worker_factory(None, command="up", extra=["--no-sample"]).start()
    first = post_and_wait(up, mention("v1", TEXT, 30))
    other = post_and_wait(up, mention("v2", "편의점에서 신라면 골드 샀는데 가격이 너무 올랐다 예전 가격이 그립다", 20))
    assert "repetition" not in first and "repetition" not in other
    assert up.stop(signal.SIGTERM) == 0
    assert (up.data_dir / "voices").is_dir()

    # same data directory: the author's earlier post is remembered (RocksDB under voices/)
    again = worker_factory(None, command="up", extra=["--no-sample"], data_dir=up.data_dir).start()
    assert "repetition" in post_and_wait(again, mention("v3", TEXT + " !!", 10))
    (points, evidence), = again.sql("SELECT r.points, r.evidence FROM mentions FINAL ARRAY JOIN credibility_reasons "
                                     "AS r WHERE post_id = 'v3' AND r.factor = 'repetition'")
    assert points == -30 and "near-duplicate of 1 other post" in evidence
    assert again.stop(signal.SIGTERM) == 0

    # voices/ lost: up rebuilds the author state from ClickHouse (the last TTL of mentions)
    shutil.rmtree(up.data_dir / "voices")
    third = worker_factory(None, command="up", extra=["--no-sample"], data_dir=up.data_dir).start()
    assert "repetition" in post_and_wait(third, mention("v4", TEXT, 1))
    assert "near-duplicate of 2 other posts" in third.scalar(
        "SELECT r.evidence FROM mentions FINAL ARRAY JOIN credibility_reasons AS r "
        "WHERE post_id = 'v4' AND r.factor = 'repetition'")
    assert "repetition" not in factors(third, "v1")  # the first post was not changed afterwards
    assert third.stop(signal.SIGTERM) == 0
