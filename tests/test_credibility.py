"""Credibility 0-100 with reasons: the rules file, the enricher (real ONNX text models) and the
ClickHouse migration of an existing data directory (real chdb)."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import orjson
import pytest

from agents.enrich import MentionEnricher
from schemas import Mention, ScoredMention
from schemas.errors import ConfigurationError
from schemas.records import CredibilityReason
from scoring.credibility import CREDIBLE_ABOVE, RULES_PATH, CredibilityRules, combine, mention_reasons
from scoring.privacy import Anonymiser
from scoring.text import TextScorer
from tables.clickhouse.migrations import migrations_dir
from tables.clickhouse.store import ClickHouseStore

A = Anonymiser(salt=b"credibility-test-salt-0123456789")
RULES = CredibilityRules.load()


class NoCampaigns:
    def match(self, text, platform, posted_at):
        return []


@pytest.fixture(scope="module")
def enricher() -> MentionEnricher:
    return MentionEnricher(TextScorer.load(providers=["CPUExecutionProvider"], intra_op_threads=1), NoCampaigns(), A)


def mention(**overrides) -> Mention:
    data = {"platform": "instagram", "post_id": "p1", "author": {"id": "u1"}, "text": "라면 먹음",
            "posted_at": "2026-03-01T12:00:00Z"}
    data.update(overrides)
    return Mention.model_validate(data)


def by_factor(s: ScoredMention) -> dict[str, CredibilityReason]:
    return {r.factor: r for r in s.credibility_reasons}


def test_an_old_account_describing_its_own_purchase_with_a_photo_is_credible(enricher):
    m = mention(author={"id": "17841400000000001", "handle": "yuna.log", "created_at": "2023-02-10",
                        "followers": 240, "following": 310, "statuses_count": 1_800, "listed_count": 2,
                        "description": "먹는 거 기록", "default_profile_image": False},
                text="내돈내산 노바 S9, 3주째 쓰는 중인데 배터리 이틀은 가요. 카메라도 만족",
                media_urls=["https://scontent.cdninstagram.com/v/t51/1.jpg"], hashtags=["내돈내산", "노바"])
    [s] = enricher.enrich([m])
    assert s.credible and s.credibility > CREDIBLE_ABOVE
    reasons = by_factor(s)
    assert set(reasons) == {"bot_likelihood", "account_age", "personal_experience", "media"}
    assert reasons["account_age"].points == 10 and "2023-02-10" in reasons["account_age"].evidence
    assert "3.1 years before the post" in reasons["account_age"].evidence
    assert reasons["personal_experience"].points == 30 and "내돈내산" in reasons["personal_experience"].evidence
    assert reasons["media"].points == 15 and "1 photo" in reasons["media"].evidence
    assert s.bot_likelihood < 0.1 and reasons["bot_likelihood"].points == pytest.approx(-50 * s.bot_likelihood, abs=0.01)
    assert f"{s.bot_likelihood:.2f}" in reasons["bot_likelihood"].evidence
    assert s.credibility == combine(s.credibility_reasons, RULES) == pytest.approx(
        min(100.0, 50 + 10 + 30 + 15 - 50 * s.bot_likelihood), abs=0.02)
    assert s.coordination == ""
    # the record travels: mentions.scored round trip keeps the reasons
    back = ScoredMention.loads(s.dumps())
    assert back.credibility_reasons == s.credibility_reasons and back.bot_likelihood == s.bot_likelihood


def test_a_day_old_account_with_thirty_hashtags_and_a_toxic_text_scores_low(enricher):
    tags = [f"노바{i}" for i in range(30)]
    m = mention(platform="twitter", author={"id": "9", "handle": "nova48201937", "created_at": "2026-02-28",
                                            "followers": 1, "following": 800, "statuses_count": 2_000,
                                            "listed_count": 0, "default_profile_image": True},
                text="이 회사 제품 쓰는 놈들 다 병신 새끼들임 씨발 존나 역겹다 " + " ".join("#" + t for t in tags),
                hashtags=tags)
    [s] = enricher.enrich([m])
    assert not s.credible and s.credibility < 10
    reasons = by_factor(s)
    assert {"bot_likelihood", "follower_ratio", "extreme_language", "hashtags"} <= set(reasons)
    assert "account_age" not in reasons and "personal_experience" not in reasons
    assert s.bot_likelihood > 0.9
    assert "posts/day" in reasons["bot_likelihood"].evidence
    assert reasons["hashtags"].evidence == "30 hashtags (> 10)" and reasons["hashtags"].points == -15
    assert s.toxicity >= 0.7 and reasons["extreme_language"].points == -20
    assert reasons["extreme_language"].evidence == f"toxicity {s.toxicity:.2f} >= 0.7"
    assert reasons["follower_ratio"].evidence.startswith("1 followers / 800 following = 0.001")
    # nothing personal in the reasons: the handle is neither in them nor in the stored author
    assert "nova48201937" not in s.dumps().decode()


def test_a_plain_post_from_an_ordinary_account_sits_just_under_the_threshold(enricher):
    m = mention(platform="twitter", author={"id": "5", "handle": "minji_lee", "created_at": "2020-03-01",
                                            "followers": 310, "following": 280, "statuses_count": 5_400,
                                            "listed_count": 4, "description": "서울 사는 직장인"},
                text="노바 S9 나왔네 디자인 괜찮다")
    [s] = enricher.enrich([m])
    assert 50 <= s.credibility <= CREDIBLE_ABOVE and not s.credible
    # an author we know nothing about (community boards)
    [anon] = enricher.enrich([mention(platform="dcinside", author={"id": "ㅇㅇ(1.2)"}, text="노바 S9 나왔네")])
    assert 40 <= anon.credibility < 50


@pytest.mark.parametrize("text, found", [
    ("직접 써보니 생각보다 괜찮네요", "직접 써"),
    ("직접써보니 생각보다 괜찮네요", "직접 써"),
    ("쿠팡에서 구매했는데 배송 빠름", "구매했는데"),
    ("두 달째 사용 중인데 고장 없음", "두 달째 사용"),
    ("2개월 사용 중 만족", "2개월 사용"),
    ("I bought the S9 last week and love it", "i bought"),
    ("Been using it for a month now", "been using it for"),
    ("After two weeks of use the battery is fine", "after two weeks of use"),
    ("I’ve been using the new model", "i've been using"),
    ("살까 말까 고민중", None),
    ("이거 사고 싶다 얼마임?", None),
    ("hi bought nothing", None),
    ("Should I buy it?", None),
])
def test_experience_phrases(text, found):
    reasons = {r.factor: r for r in mention_reasons(mention(text=text), 0.0, 0.0, RULES)}
    if found is None:
        assert "personal_experience" not in reasons
    else:
        assert reasons["personal_experience"].evidence == f"matched '{found}'"


def test_weights_come_from_the_rules_file(tmp_path):
    m = mention(text="내돈내산 후기", media_urls=["https://x/1.jpg"])
    before = combine(mention_reasons(m, 0.1, 0.1, RULES), RULES)
    raw = orjson.loads(RULES_PATH.read_bytes())
    raw["base"] = 40
    raw["factors"]["media"]["points"] = 5
    raw["factors"]["personal_experience"]["points"] = 20
    (tmp_path / "rules.json").write_bytes(orjson.dumps(raw))
    mine = CredibilityRules.load(tmp_path / "rules.json")  # the phrases file is found in scoring/
    assert (mine.base, mine.weights["media"], mine.weights["personal_experience"]) == (40, 5, 20)
    after = combine(mention_reasons(m, 0.1, 0.1, mine), mine)
    assert after == pytest.approx(before - 10 - 10 - 10)
    # a phrases file of one's own, next to the rules
    (tmp_path / "mine.tsv").write_text("phrase\t먹어봄\n", encoding="utf-8")
    raw["factors"]["personal_experience"]["phrases"] = "mine.tsv"
    (tmp_path / "rules2.json").write_bytes(orjson.dumps(raw))
    own = CredibilityRules.load(tmp_path / "rules2.json")
    assert "personal_experience" not in {r.factor for r in mention_reasons(m, 0.0, 0.0, own)}
    assert "personal_experience" in {r.factor for r in mention_reasons(mention(text="어제 먹어 봄"), 0.0, 0.0, own)}


def test_a_broken_rules_file_says_what_is_wrong(tmp_path):
    raw = orjson.loads(RULES_PATH.read_bytes())
    del raw["factors"]["coordination"]
    (tmp_path / "r.json").write_bytes(orjson.dumps(raw))
    with pytest.raises(ConfigurationError, match="coordination"):
        CredibilityRules.load(tmp_path / "r.json")
    raw = orjson.loads(RULES_PATH.read_bytes())
    raw["factors"]["media"]["points"] = "lots"
    (tmp_path / "r2.json").write_bytes(orjson.dumps(raw))
    with pytest.raises(ConfigurationError, match="media.points"):
        CredibilityRules.load(tmp_path / "r2.json")


def test_combine_is_pure_and_clipped_so_the_tracker_can_add_reasons():
    reasons = mention_reasons(mention(text="내돈내산", media_urls=["m"]), 0.0, 0.0, RULES)
    first = combine(reasons, RULES)
    assert first == 50 + 30 + 15
    more = [*reasons, CredibilityReason(factor="repetition", points=RULES.weights["repetition"], evidence="4 near-"
                                        "duplicates by this author in 10 minutes"),
            CredibilityReason(factor="coordination", points=RULES.weights["coordination"], evidence="cluster c-1")]
    assert combine(more, RULES) == first - 30 - 25
    assert combine(reasons, RULES) == first  # unchanged input, same answer
    assert combine([CredibilityReason(factor="x", points=-500)], RULES) == 0.0
    assert combine([CredibilityReason(factor="x", points=500)], RULES) == 100.0


# ---------------------------------------------------------------- ClickHouse


def test_a_data_directory_of_the_previous_version_migrates_and_keeps_its_rows(tmp_path, enricher):
    old = tmp_path / "old_sql"
    old.mkdir()
    for name in ("001_tables.sql", "002_views.sql", "003_mentions_one_row_per_post.sql"):
        shutil.copy(migrations_dir() / name, old / name)
    db = "tv_cred"
    store = ClickHouseStore(f"chdb://{tmp_path / 'chdb'}", db)
    try:
        store.migrate(directory=old)
        # rows as the previous version wrote them: credibility in [0, 1]
        store.conn.command(
            f"INSERT INTO {db}.mentions (event_id, platform, post_id, url, author_id, author_handle, "
            "author_created_at, author_followers, author_following, author_verified, text, text_normalised, lang, "
            "media_urls, hashtags, likes, comments, shares, views, posted_at, collected_at, brand, campaigns, "
            "sentiment, sentiment_label, sentiment_negative, sentiment_neutral, sentiment_positive, toxicity, toxic, "
            "intent, purchase_intent, meme_template, meme_score, credibility, credible, slang_terms, scored_at) VALUES "
            "('e1', 'twitter', 'p1', '', 'a1', 'h1', '2020-01-01', 10, 20, false, '좋아요', '좋아요', 'ko', [], [], "
            "1, 0, 0, 0, '2026-03-01 12:00:00', '2026-03-01 12:00:00', 'nova', ['c1'], 0.8, 'positive', 0.1, 0.1, "
            "0.8, 0.0, false, 'statement', 0.2, '', 0, 0.75, true, [], NULL), "
            "('e2', 'dcinside', 'p2', '', 'a2', '', NULL, 0, 0, false, '별로', '별로', 'ko', [], [], "
            "0, 0, 0, 0, '2026-03-01 12:00:30', '2026-03-01 12:00:30', 'nova', ['c1'], -0.6, 'negative', 0.7, 0.2, "
            "0.1, 0.1, false, 'statement', 0.0, '', 0, 0.3, false, [], NULL)")
        applied = store.migrate()
        assert "004_credibility.sql" in applied
        rows = store.select(f"SELECT event_id, credibility, credible, bot_likelihood, credibility_reasons, "
                            f"coordination, author_statuses_count FROM {db}.mentions FINAL ORDER BY event_id").rows
        assert [(r[0], round(r[1], 3), r[2], r[3], r[4], r[5], r[6]) for r in rows] == [
            ("e1", 75.0, True, 0.0, [], "", None), ("e2", 30.0, False, 0.0, [], "", None)]
        assert store.migrate() == []  # applied once: never scaled twice
        # new rows through the sink's path, one of them marked by the tracker as coordinated
        fresh = enricher.enrich([mention(post_id="n1", text="내돈내산 3주째 쓰는 중", media_urls=["m"],
                                         campaigns=["c1"], author={"id": "u9", "created_at": "2021-01-01"}),
                                 mention(post_id="n2", text="노바 최고 지금 사세요", author={"id": "u8"})])
        fresh[0].campaigns = ["c1"]
        fresh[1].campaigns = ["c1"]
        tracked = [*fresh[1].credibility_reasons,
                   CredibilityReason(factor="coordination", points=RULES.weights["coordination"],
                                     evidence="same text from 20 accounts in 3 minutes")]
        fresh[1] = fresh[1].model_copy(update={"credibility_reasons": tracked, "coordination": "coord-7",
                                               "credibility": combine(tracked, RULES)})
        assert store.insert_mentions(fresh) == 2
        hit = store.select(f"SELECT post_id, coordination, credibility FROM {db}.mentions FINAL "
                           "WHERE has(credibility_reasons.factor, 'coordination')").rows
        assert [(h[0], h[1]) for h in hit] == [("n2", "coord-7")] and hit[0][2] == pytest.approx(fresh[1].credibility)
        assert store.select(f"SELECT count() FROM {db}.mentions WHERE coordination = 'coord-7'").rows[0][0] == 1
        per_factor = dict(store.select(f"SELECT r.factor, count() FROM {db}.mentions FINAL "
                                       "ARRAY JOIN credibility_reasons AS r GROUP BY r.factor").rows)
        assert per_factor["personal_experience"] == 1 and per_factor["coordination"] == 1
        assert per_factor["bot_likelihood"] == 2
        # the views gain the credible share, the exact and the MV-backed ones alike
        want = {"c1": (4, sum([True, False, *(f.credible for f in fresh)]))}
        for view in ("campaign_day_stats", "campaign_day_stats_mv"):
            [(n, credible, share)] = store.select(
                f"SELECT sum(mention_count), sum(credible), sum(credible) / sum(mention_count) FROM {db}.{view} "
                "WHERE campaign_id = 'c1'").rows
            assert (n, credible) == want["c1"], view
            shares = store.select(f"SELECT credible_share, credible / mention_count FROM {db}.{view}").rows
            assert shares and all(a == pytest.approx(b) for a, b in shares), view
        minute = store.select(f"SELECT credible_share, credibility_avg FROM {db}.campaign_minute_stats "
                              "WHERE campaign_id = '*' AND platform = 'twitter'").rows
        assert minute == [(1.0, pytest.approx(75.0))]
        assert store.select(f"SELECT count() FROM {db}.campaign_minute_stats_mv WHERE credible_share > 0").rows[0][0]
    finally:
        store.close()
