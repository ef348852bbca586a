"""Mentions made up for the tests, with what a test needs to compute expectations independently."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone

PLATFORMS = ["twitter", "instagram", "dcinside", "naver_blog", "youtube", "clien"]
TEXTS = [
    "신라면 진짜 존맛 ㅋㅋㅋㅋ 내돈내산 인정",
    "신라면 너무 짜다 다시는 안 삼 ㅠㅠ",
    "Galaxy phone battery died after one day, terrible",
    "갤럭시 새로 나온거 어디서 사요? 가격 얼마임",
    "오늘 날씨 좋다 산책 가야지",
    "I love my new Galaxy, the camera is amazing",
    "스타벅스 신메뉴 개이득 ㄹㅇ 맛있음",
    "스타벅스 라떼 맛이 이상해졌네 실망",
]

# one copy-paste campaign text, and ordinary posts on the same topic (the voice tracker's tests)
CAMPAIGN = "이번에 나온 신라면 골드 진짜 인생라면입니다 다들 꼭 드셔보세요 강추합니다"
ORDINARY = [
    "신라면 골드 먹어봤는데 국물이 좀 짜긴 하네요 그래도 면은 괜찮음",
    "편의점에서 신라면 골드 샀는데 가격이 너무 올랐다 예전 가격이 그립다",
    "오늘 점심 라면 끓여 먹었는데 계란 넣으니까 훨씬 맛있더라",
    "Tried the new Shin Ramyun Gold today, the broth is richer than the classic one",
    "라면 물 조절 실패해서 너무 싱거움 다음엔 550ml 꼭 지킨다",
    "신라면 골드 광고 모델 누구냐 처음 보는 사람인데 잘 어울린다",
]


def make_mentions(n: int, *, seed: int = 7, now: datetime | None = None, prefix: str = "t") -> list[dict]:
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    out = []
    for i in range(n):
        posted = now - timedelta(seconds=rng.randint(0, 20 * 60))
        out.append({
            "platform": rng.choice(PLATFORMS),
            "post_id": f"{prefix}-{i}",
            "url": f"https://example.com/p/{prefix}-{i}",
            "author": {"id": f"u{rng.randint(1, 500)}", "handle": f"user{i % 97}", "created_at": "2020-03-01",
                       "followers": rng.randint(0, 5000), "following": rng.randint(0, 800)},
            "text": rng.choice(TEXTS) + f" #{i % 13}",
            "hashtags": ["brand"],
            "engagement": {"likes": rng.randint(0, 100), "comments": rng.randint(0, 10)},
            "posted_at": posted.isoformat(),
        })
    return out


def minute_counts(mentions: list[dict]) -> Counter:
    """(platform, minute epoch) → mentions, computed straight from the input."""
    counts: Counter = Counter()
    for m in mentions:
        ts = datetime.fromisoformat(m["posted_at"]).timestamp()
        counts[(m["platform"], int(ts) // 60 * 60)] += 1
    return counts
