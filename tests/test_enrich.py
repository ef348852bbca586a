"""MentionEnricher: personal data is replaced before anything leaves it (the real text models)."""

from __future__ import annotations

import re

import pytest

from agents.enrich import MentionEnricher
from schemas import Mention, ScoredMention
from scoring.privacy import TOKEN_HEX, Anonymiser
from scoring.text import TextScorer

A = Anonymiser(salt=b"enrich-test-salt-0123456789abcdef")
HEX = "[0-9a-f]{%d}" % TOKEN_HEX


class NoCampaigns:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def match(self, text, platform, posted_at):
        self.seen.append(text)
        return []


@pytest.fixture(scope="module")
def scorer() -> TextScorer:
    return TextScorer.load(providers=["CPUExecutionProvider"], intra_op_threads=1)


def mention(**overrides) -> Mention:
    data = {"platform": "instagram", "post_id": "p1", "author": {"id": "17841400000000001", "handle": "@Jimin_0312",
                                                                 "followers": 120},
            "text": "@jimin_0312 님 추천 김민수씨 010-1234-5678 jane@example.com 존맛 ㅋㅋ",
            "posted_at": "2026-03-01T12:00:00Z"}
    data.update(overrides)
    return Mention.model_validate(data)


def test_author_and_text_are_pseudonymised(scorer):
    matcher = NoCampaigns()
    enricher = MentionEnricher(scorer, matcher, A)
    m = mention()
    [s] = enricher.enrich([m])
    assert s.author.id == A.author_id("17841400000000001") and re.fullmatch("author_" + HEX, s.author.id)
    assert s.author.handle == A.handle("Jimin_0312") and re.fullmatch("user_" + HEX, s.author.handle)
    assert s.author.followers == 120  # the rest of the author is kept
    assert s.text.startswith("@" + s.author.handle)  # the author's token is the one in texts
    for secret in ("17841400000000001", "jimin", "김민수", "010-1234", "jane@"):
        assert secret not in s.dumps().decode().lower()
        assert all(secret not in t.lower() for t in matcher.seen)
    # the raw mention is untouched (the raw topic keeps originals)
    assert m.author.id == "17841400000000001" and m.author.handle == "@Jimin_0312"
    # round trip through mentions.scored: same id, same pseudonyms
    back = ScoredMention.loads(s.dumps())
    assert back.event_id == m.event_id and back.author == s.author and back.text == s.text


def test_same_author_same_pseudonym_other_salt_other_pseudonym(scorer):
    a, b = MentionEnricher(scorer, NoCampaigns(), A).enrich([mention(), mention(post_id="p2", text="또 왔어요")])
    assert a.author.id == b.author.id and a.author.handle == b.author.handle
    other = MentionEnricher(scorer, NoCampaigns(), Anonymiser(salt=b"another-salt-0123456789abcdef")).enrich([mention()])[0]
    assert other.author.id != a.author.id and other.author.handle != a.author.handle


def test_empty_handle_stays_empty_and_brand_handles_are_kept(scorer):
    brand = Anonymiser(salt=b"enrich-test-salt-0123456789abcdef", keep_handles=["NovaMobile"])
    e = MentionEnricher(scorer, NoCampaigns(), brand)
    s1, s2 = e.enrich([mention(author={"id": "u1"}), mention(post_id="p2", author={"id": "u2", "handle": "NovaMobile"})])
    assert s1.author.handle == "" and re.fullmatch("author_" + HEX, s1.author.id)
    assert s2.author.handle == "NovaMobile" and re.fullmatch("author_" + HEX, s2.author.id)


def test_nul_and_control_characters_do_not_break_the_batch(scorer):
    texts = ["좋아요\x00\x00 최고", "\x01\x02별로", "평범한 글", "a\x7fb\x9fc"]
    ms = [mention(post_id=f"p{i}", text=t) for i, t in enumerate(texts)]
    enricher = MentionEnricher(scorer, NoCampaigns(), A)
    batch = enricher.enrich(ms)
    assert [s.text for s in batch] == ["좋아요 최고", "별로", "평범한 글", "abc"]
    for m, s in zip(ms, batch):
        alone = enricher.enrich([m])[0]
        assert s.sentiment == pytest.approx(alone.sentiment, abs=1e-5)


def test_score_records_pseudonymises_scored_and_dead_lettered(scorer):
    import orjson

    from agents.score import score_records

    good = mention().model_dump_json().encode()
    bad = orjson.dumps({**orjson.loads(good), "platform": "myspace"})
    scored, letters = score_records(MentionEnricher(scorer, NoCampaigns(), A), [good, bad, None],
                                    [("mentions.raw", 0, i, 1_700_000_000_000) for i in range(3)])
    assert len(scored) == 1 and len(letters) == 2
    for _, value in scored + letters:
        text = value.decode().lower()
        assert "17841400000000001" not in text and "jimin" not in text and "010-1234" not in text
    assert orjson.loads(scored[0][1])["author"]["id"] == A.author_id("17841400000000001")


def test_profile_fields_are_anonymised_and_every_mention_carries_its_credibility(scorer):
    m = mention(author={"id": "17841400000000001", "handle": "@Jimin_0312", "name": "박지민",
                        "description": "문의 010-1234-5678 / jimin@example.com", "url": "https://jimin.example/@jimin_0312",
                        "statuses_count": 800, "listed_count": 1, "default_profile_image": False,
                        "created_at": "2021-05-01"},
                text="내돈내산 3주째 쓰는 중", media_urls=["https://m/1.jpg"])
    [s] = MentionEnricher(scorer, NoCampaigns(), A).enrich([m])
    assert re.fullmatch("name_" + HEX, s.author.name)
    assert "010-1234" not in s.author.description and "jimin@" not in s.author.description
    assert "jimin_0312" not in s.author.url.lower()
    assert (s.author.statuses_count, s.author.listed_count, s.author.default_profile_image) == (800, 1, False)
    assert 0 <= s.credibility <= 100 and s.credible == (s.credibility > 60) and 0 <= s.bot_likelihood <= 1
    assert {r.factor for r in s.credibility_reasons} >= {"bot_likelihood", "account_age", "personal_experience",
                                                         "media"}
    text = s.dumps().decode().lower()
    for secret in ("박지민", "jimin_0312", "010-1234", "jimin@"):
        assert secret not in text


def test_detect_langs_of_a_batch():
    from agents.enrich import detect_langs

    texts = ["신라면 맛있다", "Galaxy is great", "신라면 good good good good", "ㅋㅋ lol", "", "123 !!", "é ñ", "Ａ가"]
    # Hangul at least a third as often as ASCII letters: ko; ASCII letters: en; neither: und
    assert detect_langs(texts) == ["ko", "en", "en", "ko", "und", "und", "und", "ko"]
    assert detect_langs([]) == []


@pytest.mark.parametrize("url", [
    "https://twitter.com/Jimin_0312/status/1900000000000006021",
    "https://www.tiktok.com/@jimin_0312/video/7480000000000209458",
    "https://blog.naver.com/PostView.naver?blogId=jimin_0312&logNo=223",
    "https://blog.naver.com/JIMIN_0312/223",
])
def test_the_post_url_loses_the_authors_handle(scorer, url):
    """Platforms put the author's handle in a post's URL; it is stored (ClickHouse mentions.url)."""
    [s] = MentionEnricher(scorer, NoCampaigns(), A).enrich([mention(url=url, text="존맛 ㅋㅋ")])
    assert "jimin" not in s.dumps().decode().lower()
    assert s.author.handle in s.url  # the token of the author_handle column, where the handle was
    assert s.url.split("/")[2] == url.split("/")[2]  # still a link to the same site


def test_a_url_without_the_handle_is_kept(scorer):
    url = "https://gall.dcinside.com/board/view/?id=ramen&no=123"
    [s] = MentionEnricher(scorer, NoCampaigns(), A).enrich([mention(url=url, text="존맛 ㅋㅋ")])
    assert s.url == url
