"""`truevoice score FILE`: real models, the score agent's code, the tracker over the file in order."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import orjson

from tests.conftest import REPO
from tests.mentions import CAMPAIGN, ORDINARY

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)


def mention(post_id: str, author: dict, text: str, at: datetime, **extra) -> dict:
    return {"platform": "twitter", "post_id": post_id, "author": author, "text": text,
            "posted_at": at.isoformat(), **extra}


def old_account(i: int) -> dict:
    return {"id": f"real{i}", "handle": f"real_person_{i}", "created_at": "2019-02-01", "followers": 300 + i,
            "following": 200}


def fresh_account(i: int) -> dict:  # created this week, follows many, followed by nobody
    return {"id": f"fresh{i}", "handle": f"user{48213 + i}", "created_at": (NOW.date() - timedelta(days=i % 5)).isoformat(),
            "followers": 1, "following": 150}


def score(path, *args: str) -> tuple[list[dict], str]:
    out = subprocess.run([sys.executable, "-m", "streams.cli", "score", str(path), "--no-progress", *args],
                         cwd=REPO, capture_output=True, timeout=240)
    assert out.returncode == 0, out.stderr.decode()
    return [orjson.loads(line) for line in out.stdout.splitlines()], out.stderr.decode()


def write(path, records) -> None:
    path.write_bytes(b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in records))


def test_copy_paste_campaign_from_twenty_fresh_accounts_scores_low_and_shares_one_id(tmp_path):
    records = [mention(f"o{i}", old_account(i), t, NOW - timedelta(minutes=30 - i)) for i, t in enumerate(ORDINARY)]
    records += [mention(f"c{i}", fresh_account(i), f"{CAMPAIGN} https://bit.ly/x{i} #신라면골드 #{i}",
                        NOW + timedelta(seconds=25 * i)) for i in range(20)]
    records.append(b"{not json")
    path = tmp_path / "campaign.jsonl"
    write(path, records)
    out, err = score(path)
    assert len(out) == len(records)
    ordinary, campaign, bad = out[:len(ORDINARY)], out[len(ORDINARY):-1], out[-1]

    ids = {m["coordination"] for m in campaign}
    assert len(ids) == 1 and ids != {""}  # all twenty, the first ones too (retroactive over the file)
    for m in campaign:
        factors = {r["factor"]: r for r in m["credibility_reasons"]}
        assert "coordination" in factors and factors["coordination"]["points"] < 0
        assert "20 accounts" in factors["coordination"]["evidence"]
        assert m["credibility"] < 40 and m["credible"] is False
        assert m["author"] == fresh_account(int(m["post_id"][1:]))  # the author as given
    for m in ordinary:
        assert m["coordination"] == ""
        assert not {"coordination", "repetition"} & {r["factor"] for r in m["credibility_reasons"]}
    assert max(m["credibility"] for m in campaign) < min(m["credibility"] for m in ordinary)
    # everything the topic carries
    for key in ("sentiment", "toxicity", "purchase_intent", "campaigns", "bot_likelihood", "text_normalised"):
        assert key in out[0]
    assert bad["error_type"] == "not_json" and bad["line"] == len(records) and "error" in bad
    assert "1 invalid" in err and "20 in 1 coordinated cluster" in err


def test_one_author_posting_the_same_text_ten_times_gets_repetition(tmp_path):
    author = old_account(1)
    records = [mention(f"r{i}", author, CAMPAIGN + f" {i + 1}번째", NOW + timedelta(minutes=7 * i)) for i in range(10)]
    records += [mention(f"d{i}", old_account(2), t, NOW + timedelta(minutes=3 * i)) for i, t in enumerate(ORDINARY)]
    path = tmp_path / "repeat.jsonl"
    write(path, records)
    out, _ = score(path)
    repeated, distinct = out[:10], out[10:]
    assert "repetition" not in {r["factor"] for r in repeated[0]["credibility_reasons"]}
    for n, m in enumerate(repeated[1:], start=1):
        (rep,) = [r for r in m["credibility_reasons"] if r["factor"] == "repetition"]
        assert rep["points"] == -30 and f"near-duplicate of {n} other post" in rep["evidence"]
        assert m["coordination"] == ""  # one account is not a campaign
        without = sum(r["points"] for r in m["credibility_reasons"] if r["factor"] != "repetition")
        assert m["credibility"] == max(0.0, min(100.0, round(50 + without - 30, 2)))
    for m in distinct:  # ordinary distinct posts by one author get no cross-mention reason
        assert not {"repetition", "coordination"} & {r["factor"] for r in m["credibility_reasons"]}


def test_score_reads_csv_and_matches_campaigns(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("platform,post_id,author_id,author_created_at,text,posted_at\n"
                    f"dcinside,1,a1,2018-01-01,{ORDINARY[0]},{NOW.isoformat()}\n", encoding="utf-8")
    camp = tmp_path / "campaigns.json"
    camp.write_bytes(orjson.dumps([{"campaign_id": "shin-gold", "brand": "농심", "keywords": ["신라면 골드"]}]))
    (m,), _ = score(path, "--campaigns", str(camp))
    assert m["campaigns"] == ["shin-gold"] and m["author"]["id"] == "a1"


def test_score_has_help_and_refuses_a_missing_file(tmp_path):
    out = subprocess.run([sys.executable, "-m", "streams.cli", "score", "--help"], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "usage: truevoice score" in out.stdout and "--campaigns" in out.stdout
    out = subprocess.run([sys.executable, "-m", "streams.cli", "score", str(tmp_path / "nope.jsonl")], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "error:" in out.stderr
