"""File replay: JSONL (+gz) and CSV, raw bytes for bad lines, counts that match, clear errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from schemas.records import Mention
from streams.replay.files import ReplayFileError, count_records, iter_records

GOOD = {"platform": "twitter", "post_id": "1", "author": {"id": "a1"}, "text": "불꽃라면 존맛",
        "posted_at": "2025-03-14T09:00:00Z"}


def _jsonl_bytes() -> bytes:
    return b"\n".join([
        orjson.dumps(GOOD),
        b"",
        b"   ",
        b'{"platform": "twitter", "post_id": "2", broken',
        b"[1, 2, 3]",
        orjson.dumps({**GOOD, "post_id": "3"}) + b"\r",
        b"\xff\xfe not utf8",
    ]) + b"\n"


@pytest.mark.parametrize("name", ["m.jsonl", "m.ndjson", "m.jsonl.gz", "m.JSONL.GZ"])
def test_jsonl_dicts_and_raw_bytes(tmp_path: Path, name: str):
    p = tmp_path / name
    data = _jsonl_bytes()
    p.write_bytes(gzip.compress(data) if name.lower().endswith(".gz") else data)
    items = list(iter_records(p))
    assert count_records(p) == len(items) == 5
    assert items[0] == GOOD and items[3]["post_id"] == "3"
    assert items[1] == b'{"platform": "twitter", "post_id": "2", broken'
    assert items[2] == b"[1, 2, 3]"
    assert items[4] == b"\xff\xfe not utf8"
    assert Mention.model_validate(items[0]).event_id


CSV = (
    "\ufeffplatform,post_id,url,text,posted_at,author_id,author_handle,author_created_at,author_followers,"
    "author_following,likes,comments,shares,views,hashtags,media_urls,brand,extra\n"
    'twitter,11,https://twitter.com/x/status/11,"노바 S9, 카메라 미쳤다 ""진짜""",2025-03-14T10:00:00Z,tw1,x,2020-01-02,'
    '"1,234",5,10,2,0,,#노바S9 #언박싱,https://pbs.twimg.com/a.jpg https://pbs.twimg.com/b.jpg,nova,keep\n'
    "\n"
    "dcinside,22,,\"멀티라인\n텍스트\",2025-03-14T10:01:00Z,dc1,,,,,,,,,\"a, b,c\",,,\n"
    "twitter,33,too,few\n"
    "youtube,44,,bad numbers,2025-03-14T10:02:00Z,yt1,h,,lots,,x,,,,,,,\n"
)


@pytest.mark.parametrize("gz", [False, True])
def test_csv_rows_become_mentions(tmp_path: Path, gz: bool):
    p = tmp_path / ("m.csv.gz" if gz else "m.csv")
    p.write_bytes(gzip.compress(CSV.encode()) if gz else CSV.encode())
    items = list(iter_records(p))
    assert count_records(p) == len(items) == 4
    first = items[0]
    assert first["author"] == {"id": "tw1", "handle": "x", "created_at": "2020-01-02", "followers": 1234, "following": 5}
    assert first["engagement"] == {"likes": 10, "comments": 2, "shares": 0}
    assert first["hashtags"] == ["노바S9", "언박싱"]
    assert first["media_urls"] == ["https://pbs.twimg.com/a.jpg", "https://pbs.twimg.com/b.jpg"]
    assert first["text"] == '노바 S9, 카메라 미쳤다 "진짜"' and first["extra"] == "keep"
    assert "views" not in first["engagement"] or first["engagement"]["views"] == 0
    m = Mention.model_validate(first)
    assert m.author.followers == 1234 and m.engagement.likes == 10
    second = items[1]
    assert second["text"] == "멀티라인\n텍스트" and second["hashtags"] == ["a", "b", "c"] and "url" not in second
    assert Mention.model_validate(second).author.id == "dc1"
    assert items[2] == b"twitter,33,too,few"  # wrong cell count: raw bytes for the dead-letter topic
    bad = items[3]  # passed through unvalidated; validation rejects it later
    assert bad["author"]["followers"] == "lots" and bad["engagement"]["likes"] == "x"
    with pytest.raises(ValueError):
        Mention.model_validate(bad)


def test_empty_files(tmp_path: Path):
    for name in ("e.jsonl", "e.csv"):
        p = tmp_path / name
        p.write_bytes(b"")
        assert list(iter_records(p)) == [] and count_records(p) == 0
    p = tmp_path / "h.csv"
    p.write_text("platform,post_id\n")
    assert list(iter_records(p)) == [] and count_records(p) == 0


def test_errors(tmp_path: Path):
    with pytest.raises(ReplayFileError, match="no such file"):
        iter_records(tmp_path / "missing.jsonl")
    with pytest.raises(ReplayFileError, match="no such file"):
        count_records(tmp_path / "missing.csv")
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    with pytest.raises(ReplayFileError, match="unknown replay format"):
        iter_records(tmp_path / "x.parquet")
    (tmp_path / "d.jsonl").mkdir()
    with pytest.raises(ReplayFileError, match="not a regular file"):
        iter_records(tmp_path / "d.jsonl")
    trunc = tmp_path / "t.jsonl.gz"
    trunc.write_bytes(gzip.compress(b"".join(orjson.dumps({**GOOD, "post_id": str(i)}) + b"\n" for i in range(2000)))[:-40])
    it = iter_records(trunc)
    with pytest.raises(ReplayFileError, match="corrupt or truncated"):
        for _ in it:
            pass
    with pytest.raises(ReplayFileError, match="corrupt or truncated"):
        count_records(trunc)


def test_bundled_sample_replays(tmp_path: Path):
    from streams.sample import MENTIONS_PATH
    items = list(iter_records(MENTIONS_PATH))
    assert len(items) == count_records(MENTIONS_PATH) and all(isinstance(i, dict) for i in items)
