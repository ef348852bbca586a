"""Campaign matching: keywords, exclusions, platforms, time bounds, Boolean queries, speed."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone

import pytest

from schemas.records import Campaign
from scoring.campaigns import And, CampaignMatcher, CampaignQueryError, Not, Or, Term, parse_query

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=timezone.utc)


def C(cid: str, **kw) -> Campaign:
    return Campaign(campaign_id=cid, brand=kw.pop("brand", "b"), **kw)


def test_keywords_any_of_case_insensitive_korean_substring():
    m = CampaignMatcher([C("nova", keywords=["노바", "Nova Mobile"])])
    assert m.match("노바폰 샀다", "twitter", NOW) == ["nova"]
    assert m.match("노바는 최고", "twitter", NOW) == ["nova"]
    assert m.match("NOVA   mobile rocks", "twitter", NOW) == ["nova"]  # case and whitespace
    assert m.match("갤럭시 샀다", "twitter", NOW) == []


def test_ascii_terms_respect_word_edges():
    m = CampaignMatcher([C("nova", keywords=["nova"])])
    for yes in ["Nova S9", "#nova", "nova폰", "노바nova", "(nova)", "nova!", "#nova_s9"]:  # _ separates
        assert m.match(yes, "twitter", NOW) == ["nova"], yes
    for no in ["casanova", "novak", "supernova2", "nova2"]:
        assert m.match(no, "twitter", NOW) == [], no
    assert m.match("casanova and nova", "twitter", NOW) == ["nova"]  # a second occurrence counts


def test_exclude_vetoes():
    m = CampaignMatcher([C("nova", keywords=["노바"], exclude=["카사노바", "보사노바"])])
    assert m.match("카사노바 영화", "twitter", NOW) == []
    assert m.match("노바 S9 좋다 보사노바 들으면서", "twitter", NOW) == []
    assert m.match("노바 S9 좋다", "twitter", NOW) == ["nova"]


def test_platforms_time_bounds_and_inactive():
    start, end = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    m = CampaignMatcher([
        C("insta", keywords=["하루온"], platforms=["instagram", "youtube"]),
        C("timed", keywords=["하루온"], starts_at=start, ends_at=end),
        C("off", keywords=["하루온"], active=False),
    ])
    assert m.match("하루온 크림", "instagram", NOW) == ["insta", "timed"]
    assert m.match("하루온 크림", "dcinside", NOW) == ["timed"]
    assert m.match("하루온 크림", "dcinside", start) == ["timed"]  # start inclusive
    assert m.match("하루온 크림", "dcinside", end) == []  # end exclusive
    assert m.match("하루온 크림", "instagram", start - timedelta(seconds=1)) == ["insta"]
    assert m.match("하루온 크림", "dcinside", datetime(2025, 3, 14, 12, 0)) == ["timed"]  # naive = UTC
    assert len(m) == 2


def test_query_parse_shapes():
    assert parse_query("a b") == And((Term("a", 0), Term("b", 2)))
    assert parse_query("a OR b c") == Or((Term("a", 0), And((Term("b", 5), Term("c", 7)))))
    assert parse_query('NOT "x  Y"') == Not(Term("x y", 4))
    assert parse_query("(a OR b) AND NOT c") == And((Or((Term("a", 1), Term("b", 6))), Not(Term("c", 17))))
    assert parse_query("and or") == And((Term("and", 0), Term("or", 4)))  # lower case: plain terms


def test_query_semantics():
    m = CampaignMatcher([
        C("game", query='("에테르 크로니클" OR 에테르크로니클 OR pixelforge) NOT (채용 OR 공채)'),
        C("straw", query="(모닝빈 OR morningbean) AND (딸기 OR strawberry)"),
        C("neg", query="NOT 라면"),
    ])
    assert m.match("에테르  크로니클 확률 조작", "dcinside", NOW) == ["game", "neg"]
    assert m.match("에테르크로니클 채용 공고", "dcinside", NOW) == ["neg"]
    assert m.match("PixelForge 공채", "news", NOW) == ["neg"]
    assert m.match("모닝빈 딸기라떼", "twitter", NOW) == ["straw", "neg"]
    assert m.match("Morningbean strawberry latte", "twitter", NOW) == ["straw", "neg"]
    assert m.match("모닝빈 아아", "twitter", NOW) == ["neg"]
    assert m.match("라면 먹고 싶다", "twitter", NOW) == []
    assert m.match("아무말", "twitter", NOW) == ["neg"]


def test_keywords_or_query_and_exclude_over_both():
    m = CampaignMatcher([C("x", keywords=["alpha"], query="beta gamma", exclude=["spam"])])
    assert m.match("alpha", "web", NOW) == ["x"]
    assert m.match("beta and gamma", "web", NOW) == ["x"]
    assert m.match("beta only", "web", NOW) == []
    assert m.match("alpha spam", "web", NOW) == []


@pytest.mark.parametrize("query, position, words", [
    ("a AND", 5, "ended"),
    ("(a OR b", 0, "missing ')'"),
    ("a ) b", 2, "unmatched ')'"),
    ('x "abc', 2, "unclosed quote"),
    ("NOT", 3, "ended"),
    ("()", 1, "empty parentheses"),
    ("OR a", 0, "cannot start"),
    ("a AND OR b", 6, "after 'AND'"),
    ('a ""', 2, "empty phrase"),
    ("   ", 0, "empty query"),
])
def test_bad_queries_name_the_position(query, position, words):
    with pytest.raises(CampaignQueryError) as err:
        parse_query(query)
    assert err.value.position == position
    assert words in str(err.value) and f"position {position}" in str(err.value)


def test_bad_query_in_matcher_names_the_campaign():
    with pytest.raises(CampaignQueryError, match=r"campaign 'bad'.*position 2") as err:
        CampaignMatcher([C("ok", keywords=["a"]), C("bad", query="a (b")])
    assert err.value.campaign_id == "bad" and err.value.position == 2


def test_empty_matcher():
    assert CampaignMatcher([]).match("anything", "web", NOW) == []


def test_sample_campaigns_load_and_match():
    from streams.sample import load_campaigns
    m = CampaignMatcher(load_campaigns())
    assert m.match("불꽃라면 블랙 존맛", "twitter", datetime(2025, 3, 14, 10, tzinfo=timezone.utc)) == ["haedam-bulkkot"]
    assert m.match("카사노바 노바", "twitter", NOW) == []


def test_speed_50_campaigns():
    rng = random.Random(2)
    cs = []
    for i in range(50):
        if i % 5 == 0:
            cs.append(C(f"c{i}", query=f'("브랜드{i} 신제품" OR brand{i}) AND (맛 OR 가격 OR price) NOT 광고',
                        platforms=["twitter", "dcinside"] if i % 10 == 0 else []))
        else:
            cs.append(C(f"c{i}", keywords=[f"브랜드{i}", f"brand{i}", f"제품{i}x", f"product {i}"], exclude=["광고", "채용"]))
    m = CampaignMatcher(cs)
    base = ["진짜 존맛 ㅋㅋㅋ 내돈내산 후기 가격은 좀 비쌈", "this is so good lol price is ok", "오늘 날씨 좋다 ㅎㅎ 산책 가야지",
            "확률 조작 실화냐 ㅠㅠ 환불해줘"]
    texts = [(f"브랜드{rng.randrange(50)} " if rng.random() < 0.7 else "") + rng.choice(base) for _ in range(50_000)]
    t0 = time.perf_counter()
    hits = sum(len(m.match(t, "twitter", NOW)) for t in texts)
    rate = len(texts) / (time.perf_counter() - t0)
    print(f"CampaignMatcher, 50 campaigns: {rate:,.0f} texts/s")
    assert hits > 10_000
    assert rate > 25_000  # ~100k/s measured on the 2-core dev box
