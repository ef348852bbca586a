"""Generate the bundled sample: ``mentions.jsonl.gz`` and ``campaigns.json`` (deterministic).

    python -m streams.sample.generate            # rewrites the two files next to this one

Six hours (fixed times, 2025-03-14 09:00-15:00 UTC; ``load_sample(shift_to=...)`` re-bases them)
of mentions of five fictional brands, mostly Korean community language, some English, with
three bursts:

* ``haedam-foreign-object`` (~+80 min): a viral complaint about a bug found in a cup of 불꽃라면,
  negative, naver_cafe / theqoo / blind / dcinside / twitter / news;
* ``aether-gacha-scandal`` (~+150 min): gacha probability manipulation uproar, negative,
  dcinside / fmkorea / ruliweb / twitter / youtube / news;
* ``nova-launch`` (~+255 min): the 노바 S9 reveal, mostly positive and purchase intent, with
  bot accounts (0 followers, created this week) spamming pre-order links.

About 3 % of mentions carry personal data (phones, e-mails, IPs, names with 님/씨, @handles).
``generate()`` also returns per-mention metadata (the intended sentiment, burst, PII flag) that
the tests use; it is not part of the records.
"""

from __future__ import annotations

import gzip
import random
import string
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
MENTIONS_FILE = HERE / "mentions.jsonl.gz"
CAMPAIGNS_FILE = HERE / "campaigns.json"

SEED = 20250314
START = datetime(2025, 3, 14, 9, 0, 0, tzinfo=timezone.utc)  # 18:00 KST
DURATION = timedelta(hours=6)
BASELINE = 2750

BURSTS = {
    # name: (brand, minutes after START, mentions, decay minutes, sentiment weights neg/neu/pos)
    "haedam-foreign-object": ("haedam", 80, 260, 14.0),
    "aether-gacha-scandal": ("aether", 150, 620, 18.0),
    "nova-launch": ("nova", 255, 520, 20.0),
}

BRANDS: dict[str, dict] = {
    "haedam": {
        "name": "해담식품", "en": "Haedam Foods",
        "products": ["불꽃라면", "불꽃라면 블랙", "컵불꽃", "해담 짜파링", "불꽃라면 치즈"],
        "en_products": ["Bulkkot Ramyeon", "Bulkkot Black", "Haedam ramyeon"],
        "tags": ["불꽃라면", "라면", "먹스타그램", "내돈내산", "야식", "편의점"],
        "price": ["1,350원", "4,980원", "5봉 5,900원", "6,480원"],
        "pos": ["{p} 국물 ㄹㅇ 존맛 야식으로 딱임", "{p} 매운데 자꾸 땡김 중독됨", "{p} 계란 넣고 끓이면 개꿀맛",
                "편의점에서 {p} 1+1 하길래 쟁임 개이득", "{p} 면발 쫄깃해서 좋음 요즘 이것만 먹음",
                "{p} 치즈 올려먹으니까 미쳤다", "{b} 신상 {p} 생각보다 훨씬 맛있음", "비오는 날엔 {p}지"],
        "neg": ["{p} 너무 짜서 못먹겠음", "{p} 가격 또 올림? 양은 줄고 ㅡㅡ", "{p} 예전 맛이 아님 리뉴얼 왜함",
                "{p} 스프 뜯다가 손에 다 묻음 포장 개별로", "{p} 맵기만 하고 맛은 없음 실망"],
        "neu": ["{p} 오늘 편의점에 새로 들어옴", "{b} {p} 출시 기념 행사 한다네", "{p} 칼로리 몇이더라",
                "마트 라면 코너 {p} 자리 늘었더라"],
        "q": ["{p} 맵기 신라면이랑 비교하면 어느정도임?", "{p} 어디서 제일 싸게 팜?", "{p} 비건 버전도 나옴?",
              "{p} 물 몇 ml 넣어야 됨?"],
        "buy": ["{p} 박스로 살까 고민중", "{p} 쿠팡에 {price} 뜨길래 바로 주문함", "{p} 사러 편의점 간다",
                "담주에 {p} 한 박스 살 예정"],
        "burst": ["{p}에서 벌레 나왔다는 글 봤음? 진짜 충격", "컵불꽃 뚜껑 열었는데 이물질 나옴 ㅠㅠ 사진 첨부",
                  "{b} 이물질 사건 해명 언제함?", "{p} 이물질 논란 커지는 중이네 ㄷㄷ", "{b} 고객센터 전화 안받음 ㅡㅡ 환불해줘",
                  "이물질 나온 {p} 제조일자 같은 거 있는지 확인하세요", "{p} 당분간 안먹는다 진짜 역겨움",
                  "{b} 식약처 신고 들어갔다더라", "애들 먹이는 건데 {p} 이물질이라니 화난다"],
        "en_pos": ["{p} is the best instant noodle I've had in Korea 🔥", "tried {p} with cheese, 10/10"],
        "en_neg": ["{p} is way too salty for me", "saw the bug-in-the-cup story about {p}... yikes"],
    },
    "haruon": {
        "name": "하루온", "en": "HARUON",
        "products": ["하루온 수분크림", "하루온 톤업 선크림", "하루온 글로우 쿠션", "하루온 시카 토너"],
        "en_products": ["HARUON moisture cream", "HARUON tone-up sunscreen", "HARUON glow cushion"],
        "tags": ["하루온", "선크림", "수분크림", "데일리메이크업", "올리브영", "내돈내산", "kbeauty"],
        "price": ["23,000원", "18,900원", "1+1 29,800원"],
        "pos": ["{p} 진짜 인생템 건성인데 하루종일 촉촉", "{p} 백탁 없고 톤업 자연스러움 👍", "{p} 쓰고 피부결 달라짐 ㄹㅇ",
                "올영 세일때 {p} 쟁였음 개이득", "{p} 향 은은하고 흡수 빨라서 좋아요", "{p} 재구매 3번째 내돈내산"],
        "neg": ["{p} 쓰고 트러블 올라옴 ㅠㅠ", "{p} 용량 대비 너무 비쌈", "{p} 다크닝 심하다 오후되면 회색됨",
                "{p} 펌프 고장남 품질 뭐임"],
        "neu": ["{p} 리뉴얼 패키지 나왔네", "{b} 팝업스토어 성수에서 한대", "{p} 성분표 올려봄"],
        "q": ["{p} 지성한테도 괜찮음?", "{p} 민감성 피부 써본사람?", "{p} 올영에 재고 있나요?"],
        "buy": ["{p} 올영 세일하면 살 예정", "{p} 장바구니 담아둠 ㅋㅋ", "{p} 선물용으로 2개 주문함"],
        "en_pos": ["{p} is my holy grail, no white cast at all", "obsessed with the {p} ✨"],
        "en_neg": ["{p} broke me out, so disappointed"],
    },
    "nova": {
        "name": "노바모바일", "en": "Nova Mobile",
        "products": ["노바 S9", "노바 폴드2", "노바 버즈", "노바 S8"],
        "en_products": ["Nova S9", "Nova Fold 2", "Nova Buds"],
        "tags": ["노바S9", "노바", "스마트폰", "언박싱", "사전예약", "NovaS9"],
        "price": ["1,398,000원", "1,155,000원", "2,090,000원"],
        "pos": ["{p} 카메라 미쳤다 야간모드 ㄷㄷ", "{p} 배터리 이틀 감 ㄹㅇ", "{p} 디자인 역대급 이쁨", "{p} 발열 잡았네 게임 잘 돌아감",
                "{p} 화면 밝기 대박 야외에서도 잘보임", "{p} 손에 쥐는 느낌 좋다"],
        "neg": ["{p} 가격 실화냐 너무 비쌈", "{p} 업데이트 후 배터리 광탈", "{p} 카메라 튀어나온거 극혐", "{p} 충전기 빼고 팔면서 가격 올림 ㅋㅋ",
                "{p} 액정 또 깨짐 내구성 뭐냐"],
        "neu": ["{p} 출고가 공개됨", "{b} 언팩 행사 오늘 밤이래", "{p} 스펙 정리해봄", "{p} 색상 4가지로 나온다네"],
        "q": ["{p} 자급제로 사는게 나음?", "{p} 사전예약 혜택 뭐 있음?", "{p} 256이면 충분함?", "{p} 케이스 뭐 씀?"],
        "buy": ["{p} 사전예약 바로 질렀다", "{p} 자급제로 살 예정", "폰 바꿀때 됐는데 {p} 사야겠다", "{p} 할부 원금 얼마임 살까 말까"],
        "burst": ["{p} 공개됐다!! 카메라 스펙 미쳤음", "{b} 언팩 보는 중 {p} 역대급이다", "{p} 가격 {price} 실화? 그래도 산다",
                  "{p} 사전예약 시작 서버 터짐 ㅋㅋㅋ", "{p} 색상 실물 영접하고 옴 이쁘다", "{p} AI 기능 생각보다 쓸만하네",
                  "{p} 사전예약 완료 🔥", "{p} 전작이랑 별 차이 없는듯"],
        "en_pos": ["The {p} camera is insane, night mode is wild", "pre-ordered the {p} 🔥"],
        "en_neg": ["{p} at that price? hard pass", "battery on my {p} drains fast after the update"],
    },
    "morningbean": {
        "name": "모닝빈", "en": "Morningbean",
        "products": ["모닝빈 흑당라떼", "모닝빈 딸기라떼", "모닝빈 아아", "모닝빈 콜드브루", "모닝빈 딸기 케이크"],
        "en_products": ["Morningbean strawberry latte", "Morningbean cold brew"],
        "tags": ["모닝빈", "카페", "딸기라떼", "카페스타그램", "신메뉴"],
        "price": ["6,300원", "5,800원", "4,500원"],
        "pos": ["{p} 진짜 맛있다 딸기 씹힘 ㅠㅠ", "출근길엔 {p}가 국룰", "{p} 시즌 메뉴 중 최고", "{p} 달달해서 당충전 완료",
                "{p} 기프티콘 받음 개이득"],
        "neg": ["{p} {price}는 너무하지 않냐", "{p} 얼음만 가득 ㅡㅡ", "{p} 매장 직원 불친절함", "{p} 주문 30분 걸림 앱 오류"],
        "neu": ["{p} 봄 시즌 한정 출시", "{b} 앱 리뉴얼 했네", "{p} 칼로리 생각보다 높네"],
        "q": ["{p} 디카페인 되나요?", "{p} 언제까지 팜?", "{b} 기프티콘 다른 지점에서도 됨?"],
        "buy": ["내일 {p} 먹으러 간다", "{p} 사이렌오더로 주문함", "{p} 쿠폰 쓰려고 저장함"],
        "en_pos": ["{p} tastes like spring 🍓", "{p} is my daily fuel"],
        "en_neg": ["{p} for {price}?? no thanks"],
    },
    "aether": {
        "name": "에테르 크로니클", "en": "Aether Chronicle",
        "products": ["에테르 크로니클", "에테르크로니클", "에크", "픽셀포지"],
        "en_products": ["Aether Chronicle", "PixelForge"],
        "tags": ["에테르크로니클", "에크", "모바일게임", "가챠", "AetherChronicle"],
        "price": ["월정액 5,900원", "패키지 99,000원"],
        "pos": ["{p} 이번 업데이트 스토리 미쳤다", "{p} 신캐 일러 개이쁨 ㅋㅋㅋ", "{p} 10연차에 픽업 떴다 개이득", "{p} 레이드 재밌음 ㄹㅇ",
                "{p} 운영 요즘 잘하네"],
        "neg": ["{p} 점검 또 연장 ㅡㅡ", "{p} 과금 유도 너무 심함", "{p} 서버 렉 미쳤음", "{p} 밸패 망함 접는다"],
        "neu": ["{p} 3.2 업데이트 패치노트 나옴", "{p} 오늘 점검 2시간", "{p} 쿠폰 코드 공유함"],
        "q": ["{p} 지금 시작해도 됨?", "{p} 리세마라 누구 뽑음?", "{p} 월정액 효율 좋음?"],
        "buy": ["{p} {price} 질렀다", "{p} 신규 패키지 살까 고민"],
        "burst": ["{p} 확률 조작 실화냐 ㅋㅋㅋ 환불해줘", "{p} 표기 확률이랑 실제 다르다는 거 증거 나옴", "{p} 트럭 시위 모금 시작함",
                  "{p} 공지 사과문 이게 사과냐", "{p} 오늘부로 접는다 ㅂㅂ", "{p} 공정위 신고 링크 공유함", "{p} 확률 논란 해명 언제함 ㅡㅡ",
                  "{p} 운영진 진짜 선 넘었다", "{p} 환불 대란 ㄷㄷ 나도 신청함", "{p} 천장 돌았는데 픽업 안나옴 조작 맞네"],
        "en_pos": ["{p} new banner art is gorgeous"],
        "en_neg": ["{p} rigged gacha rates?? refund now", "uninstalling {p} after the rate scandal"],
    },
}

NEWS = {
    "pos": ["{b}, {p} 판매 호조… 출시 한 달 만에 누적 판매 100만 돌파", "{b} {p} 흥행에 실적 기대감↑", "[리뷰] {p} 써보니… 완성도 높였다"],
    "neg": ["{b} {p} 가격 인상… 소비자 불만 커져", "{p} 품질 논란에 {b} \"개선하겠다\"", "{b}, {p} 관련 소비자 민원 잇따라"],
    "neu": ["{b}, {p} 공개… 다음 달 출시", "{b} {p} 마케팅 강화한다", "{b}, 1분기 실적 발표 예정"],
    "haedam-foreign-object": ["[단독] {b} {p}서 이물질 나왔다… 회사 측 \"원인 조사 중\"", "{b} 컵라면 이물질 논란 확산… 식약처 조사 착수",
                              "{b} \"{p} 이물질 경위 조사 중, 불편 드려 죄송\""],
    "aether-gacha-scandal": ["{p} 확률 조작 의혹… 이용자들 트럭 시위 예고", "픽셀포지, {p} 확률 논란에 사과문 게재", "공정위, {p} 확률형 아이템 조사 검토"],
    "nova-launch": ["노바모바일, {p} 공개… 카메라·AI 기능 대폭 강화", "{p} 사전예약 첫날 신기록", "[현장] {p} 언팩 행사… 가격은 동결"],
}
NEWS_BRANDS = {"aether": "픽셀포지"}
# Intended labels follow the dev set's label rules (onnx/sentiment/DEV_SET.md): a purchase plan or
# a plain purchase report is neutral, one made with evident eagerness positive; a report of a
# launch event and its price is neutral; praise of a film is positive even off-brand.
EAGER_PURCHASES = frozenset({"{p} 쿠팡에 {price} 뜨길래 바로 주문함", "{p} 사전예약 바로 질렀다"})
NEUTRAL_NEWS = frozenset({"[현장] {p} 언팩 행사… 가격은 동결"})
POSITIVE_NOISE = frozenset({"카사노바 영화 재밌더라"})

NOISE = ["오늘 날씨 좋다 산책 가야지 ㅎㅎ", "퇴근하고 싶다 ㅠㅠ", "주말에 뭐하지", "카사노바 영화 재밌더라",
         "보사노바 플레이리스트 추천좀", "카사노바 같은 남자 만나지 마라", "해물라면 끓여먹음", "just finished work, so tired"]

PREFIX = ["", "", "", "", "와 ", "솔직히 ", "ㄹㅇ ", "헐 ", "아니 ", "진짜 ", "와씨 ", "근데 ", "ㅋㅋㅋ "]
SUFFIX = ["", "", "", " ㅋㅋ", " ㅋㅋㅋ", " ㅋㅋㅋㅋㅋ", " ㅠㅠ", " ㄹㅇ", " ㅎㅎ", " 👍", " 🔥", " 😭", " ㄷㄷ", "...", "!!", " 🤣", " 💯"]
SURNAMES = "김이박최정강조윤장임한오서신권황안송"
GIVEN = ["민수", "지훈", "서연", "하은", "도윤", "예린", "현우", "수빈", "지민", "유진", "준호", "다은"]

PLATFORM_WEIGHTS = {
    "twitter": 18, "instagram": 9, "youtube": 9, "naver_blog": 8, "naver_cafe": 8, "dcinside": 9, "fmkorea": 7,
    "clien": 4, "ruliweb": 4, "theqoo": 6, "instiz": 3, "blind": 3, "news": 4, "naver_news": 3, "tiktok": 3, "reddit": 2,
}
BURST_PLATFORMS = {
    "haedam-foreign-object": {"naver_cafe": 5, "theqoo": 5, "blind": 2, "dcinside": 4, "twitter": 6, "news": 2, "naver_news": 2},
    "aether-gacha-scandal": {"dcinside": 8, "fmkorea": 6, "ruliweb": 5, "twitter": 5, "youtube": 3, "news": 1, "naver_news": 1},
    "nova-launch": {"youtube": 6, "twitter": 7, "clien": 4, "news": 2, "naver_news": 2, "naver_blog": 2, "instagram": 3, "fmkorea": 2},
}
EN_PLATFORMS = ("twitter", "youtube", "reddit", "instagram", "tiktok")
SOCIAL = ("twitter", "instagram", "youtube", "tiktok", "reddit")


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _rand_id(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits + "-_") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


class _Authors:
    """A pool of authors per platform; repeat posters are common, bots are new and unfollowed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pool: dict[str, list[dict]] = {}
        self.bots: list[dict] = []

    def _handle(self, platform: str) -> str:
        rng = self.rng
        if platform in SOCIAL:
            stem = rng.choice(["ramen", "coffee", "beauty", "gamer", "tech", "daily", "mukbang", "jimin", "seoul", "kpop",
                               "hana", "minsu", "yuna", "noodle", "glow"])
            tail = rng.choice(["_lover", "_holic", ".log", "_kr", "", "_daily", "__", "_official"])
            return f"{stem}{tail}{rng.randint(1, 9999)}"
        if platform == "dcinside" and rng.random() < 0.5:
            return f"ㅇㅇ({rng.randint(1, 223)}.{rng.randint(1, 254)})"
        if platform == "blind":
            return rng.choice(["해담식품", "노바모바일", "삼성전자", "네이버", "카카오", "쿠팡", "픽셀포지"]) + " · " + _rand_id(rng, 5, string.ascii_letters)
        return rng.choice(["라면왕", "익명", "지나가는사람", "직장인", "커피중독", "폰덕후", "겜돌이", "화장품러버", "눈팅족", "야식킬러",
                           "고양이집사", "퇴근러"]) + str(rng.randint(1, 999))

    def new(self, platform: str, bot: bool = False) -> dict:
        rng = self.rng
        n = sum(len(v) for v in self.pool.values()) + len(self.bots) + 1
        if bot:
            created = date(2025, 3, 14) - timedelta(days=rng.randint(0, 5))
            followers, following = 0, rng.choice([0, 0, 1, 3, rng.randint(500, 4999)])
            handle = rng.choice(["user", "deal", "event", "free"]) + str(rng.randint(10_000_000, 99_999_999))
            verified = False
        else:
            created = date(2009, 1, 1) + timedelta(days=rng.randint(0, 5900))
            followers = min(int(rng.lognormvariate(4.0, 1.9)), 3_000_000)
            following = min(int(rng.lognormvariate(5.0, 1.0)), 7500)
            handle = self._handle(platform)
            verified = followers > 200_000 and rng.random() < 0.5
        if platform in ("news", "naver_news") and not bot:
            handle = rng.choice(["연합뉴스", "한국경제", "머니투데이", "디지털데일리", "게임메카", "뉴시스", "Korea Herald"]) + " " + \
                rng.choice(SURNAMES) + rng.choice(GIVEN) + " 기자"
            followers, verified = rng.randint(1000, 900_000), True
        author = {"id": f"{platform}:{n:06d}{_rand_id(rng, 4, string.ascii_lowercase)}", "handle": handle,
                  "created_at": created.isoformat(), "followers": followers, "following": following, "verified": verified}
        (self.bots if bot else self.pool.setdefault(platform, [])).append(author)
        return author

    def pick(self, platform: str) -> dict:
        pool = self.pool.get(platform, [])
        if pool and self.rng.random() < 0.35:
            return self.rng.choice(pool)
        return self.new(platform)


def _url_and_post(rng: random.Random, platform: str, author: dict, seq: int) -> tuple[str, str]:
    h = author["handle"]
    if platform == "twitter":
        pid = str(1_900_000_000_000_000_000 + seq * 7919 + rng.randint(0, 7000))
        return f"https://twitter.com/{h}/status/{pid}", pid
    if platform == "instagram":
        pid = _rand_id(rng, 11)
        return f"https://www.instagram.com/p/{pid}/", pid
    if platform == "youtube":
        vid, lc = _rand_id(rng, 11), "Ugx" + _rand_id(rng, 23)
        return f"https://www.youtube.com/watch?v={vid}&lc={lc}", f"{vid}:{lc}"
    if platform == "tiktok":
        pid = str(7_480_000_000_000_000_000 + seq * 104729)
        return f"https://www.tiktok.com/@{h}/video/{pid}", pid
    if platform == "reddit":
        pid = _rand_id(rng, 7, string.ascii_lowercase + string.digits)
        return f"https://www.reddit.com/r/korea/comments/{pid}/", pid
    if platform == "naver_blog":
        blog = "blog" + _rand_id(rng, 6, string.ascii_lowercase + string.digits)
        pid = str(223_700_000_000 + seq * 31)
        return f"https://blog.naver.com/{blog}/{pid}", f"{blog}/{pid}"
    if platform == "naver_cafe":
        cafe = rng.choice(["ramenlovers", "cosmania", "novausers", "coffeeholic", "aethercafe", "momsholic"])
        pid = str(1_200_000 + seq)
        return f"https://cafe.naver.com/{cafe}/{pid}", f"{cafe}/{pid}"
    if platform == "naver_news":
        oid, aid = rng.choice(["001", "015", "008", "138", "003"]), str(14_000_000 + seq)
        return f"https://n.news.naver.com/mnews/article/{oid}/{aid:0>10}", f"{oid}/{aid}"
    if platform == "news":
        outlet = rng.choice(["www.hankyung.com", "www.mt.co.kr", "www.ddaily.co.kr", "www.gamemeca.com", "www.koreaherald.com"])
        pid = str(900_000 + seq)
        return f"https://{outlet}/news/articleView.html?idxno={pid}", f"{outlet}/{pid}"
    if platform == "dcinside":
        gall = rng.choice(["ramen", "aetherchronicle", "smartphone", "coffee", "cosmetic", "hit"])
        pid = str(3_500_000 + seq)
        return f"https://gall.dcinside.com/mgallery/board/view/?id={gall}&no={pid}", f"{gall}/{pid}"
    if platform == "fmkorea":
        pid = str(7_800_000_000 + seq * 3)
        return f"https://www.fmkorea.com/{pid}", pid
    if platform == "clien":
        pid = str(18_900_000 + seq)
        return f"https://www.clien.net/service/board/park/{pid}", pid
    if platform == "ruliweb":
        pid = str(69_000_000 + seq)
        return f"https://bbs.ruliweb.com/community/board/300143/read/{pid}", pid
    if platform == "theqoo":
        pid = str(3_600_000_000 + seq)
        return f"https://theqoo.net/square/{pid}", pid
    if platform == "instiz":
        pid = str(8_100_000 + seq)
        return f"https://www.instiz.net/pt/{pid}", pid
    if platform == "blind":
        pid = _rand_id(rng, 8, string.ascii_letters + string.digits)
        return f"https://www.teamblind.com/kr/post/{pid}", pid
    pid = str(seq)  # pragma: no cover
    return f"https://example.com/{pid}", pid


def _media(rng: random.Random, platform: str) -> list[str]:
    if platform == "instagram":
        return [f"https://scontent.cdninstagram.com/v/t51.2885-15/{rng.randint(10**17, 10**18)}_n.jpg" for _ in range(rng.randint(1, 4))]
    if platform == "twitter" and rng.random() < 0.3:
        return [f"https://pbs.twimg.com/media/{_rand_id(rng, 15)}.jpg"]
    if platform == "tiktok":
        return [f"https://p16-sign.tiktokcdn.com/obj/{_rand_id(rng, 20, string.ascii_lowercase + string.digits)}.jpeg"]
    if platform == "naver_blog" and rng.random() < 0.7:
        return [f"https://postfiles.pstatic.net/MjAyNTAz/{_rand_id(rng, 16)}.jpg" for _ in range(rng.randint(1, 3))]
    if platform in ("dcinside", "theqoo", "fmkorea") and rng.random() < 0.2:
        return [f"https://dcimg1.dcinside.co.kr/viewimage.php?id={_rand_id(rng, 8)}&no={_rand_id(rng, 24)}"]
    return []


def _engagement(rng: random.Random, platform: str, boost: float) -> dict:
    base = rng.paretovariate(1.3) * boost
    likes = int(base * rng.uniform(1, 8)) - 1
    views = 0
    if platform in ("youtube", "news", "naver_news", "dcinside", "fmkorea", "clien", "ruliweb", "theqoo", "instiz", "naver_cafe",
                    "naver_blog", "tiktok", "blind"):
        views = int(base * rng.uniform(40, 300))
    return {"likes": max(likes, 0), "comments": max(int(base * rng.uniform(0, 2)) - 1, 0),
            "shares": max(int(base * rng.uniform(0, 1.5)) - 1, 0) if platform in SOCIAL else 0, "views": views}


def _phone(rng: random.Random) -> str:
    return f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"


def _pii_text(rng: random.Random, b: dict, p: str, friend: str) -> tuple[str, str]:
    """(a post that carries personal data, its intended sentiment)."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    email = rng.choice(["minsu", "jh.park", "yuna_k", "haeun", "coffee.love"]) + str(rng.randint(1, 99)) + "@" + \
        rng.choice(["gmail.com", "naver.com", "daum.net", "kakao.com"])
    ip = f"{rng.choice([211, 175, 118, 121, 223])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return rng.choice([
        (f"{b['name']} 고객센터 답이 없어서 여기 남김 제 번호 {_phone(rng)} 연락 부탁드립니다", "negative"),
        (f"{p} 교환 문의 메일 보냈어요 {email} 으로 회신주세요", "neutral"),
        (f"{p} 배송 온 날 기사 {name}님 너무 친절하셨음", "positive"),
        (f"{p} 환불 신청서 이름: {name} 연락처: {_phone(rng)}", "negative"),
        (f"{p} 계정 해킹당함 로그인 기록에 IP {ip} 찍혀있음 ㅠㅠ", "negative"),
        (f"@{friend} {p} 이거 봐봐 ㅋㅋㅋ", "neutral"),
        (f"{name}씨가 추천해줘서 {p} 써봄", "neutral"),
        (f"call me about the {p} order +82 10-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}", "neutral"),
        (f"{p} 당첨자 발표 {name} 고객님 {_phone(rng).replace('-', '')} 확인 부탁", "neutral"),
        (f"{p} 이벤트 문의 {email} / 010 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}", "neutral"),
    ])


def _text(rng: random.Random, brand: str, kind: str, lang: str) -> tuple[str, str]:
    """(text, the template it was written from)."""
    b = BRANDS[brand]
    if lang == "en":
        p = rng.choice(b["en_products"])
        pool = b["en_neg"] if kind in ("neg", "burst_neg") else b["en_pos"]
        template = rng.choice(pool)
        t = template.format(p=p, b=b["en"], price=rng.choice(b["price"]))
        return t + rng.choice(["", "", " lol", " ngl", "!!", " 😂", " tbh"]), template
    p = rng.choice(b["products"])
    key = "burst" if kind.startswith("burst") else kind
    template = rng.choice(b[key])
    core = template.format(p=p, b=b["name"], price=rng.choice(b["price"]))
    return rng.choice(PREFIX) + core + rng.choice(SUFFIX), template


def _time(rng: random.Random, minute: float) -> datetime:
    return START + timedelta(seconds=round(minute * 60, 3))


def generate(seed: int = SEED) -> tuple[list[dict], list[dict]]:
    """(mentions sorted by posted_at, metadata in the same order)."""
    rng = random.Random(seed)
    authors = _Authors(rng)
    plan: list[tuple[float, str, str | None, str]] = []  # (minute, brand|"noise", burst, kind)
    total_min = DURATION.total_seconds() / 60
    brand_w = {"haedam": 22, "haruon": 18, "nova": 20, "morningbean": 20, "aether": 15, "noise": 5}
    kind_w = {"pos": 40, "neu": 20, "neg": 20, "q": 10, "buy": 10}
    for _ in range(BASELINE):
        # a mild evening ramp: density grows ~1.6x over the six hours
        m = total_min * (rng.random() ** 0.8)
        brand = _weighted(rng, brand_w)
        plan.append((m, brand, None, "noise" if brand == "noise" else _weighted(rng, kind_w)))
    for name, (brand, at, n, decay) in BURSTS.items():
        for _ in range(n):
            m = at + rng.uniform(0, 4) + rng.expovariate(1 / decay)
            if m >= total_min:
                m = total_min - rng.uniform(0, 5)
            if name == "nova-launch":
                kind = _weighted(rng, {"burst_pos": 55, "buy": 20, "q": 10, "neg": 10, "bot": 12})
            else:
                kind = _weighted(rng, {"burst_neg": 80, "neg": 10, "q": 6, "neu": 4})
            plan.append((m, brand, name, kind))
    plan.sort(key=lambda x: x[0])

    mentions: list[dict] = []
    meta: list[dict] = []
    for seq, (minute, brand, burst, kind) in enumerate(plan):
        if brand == "noise":
            platform = _weighted(rng, PLATFORM_WEIGHTS)
        elif burst is not None:
            platform = _weighted(rng, BURST_PLATFORMS[burst])
        else:
            platform = _weighted(rng, PLATFORM_WEIGHTS)
            if brand == "haruon" and rng.random() < 0.5:
                platform = rng.choice(["instagram", "youtube", "naver_blog", "theqoo", "instiz"])
        bot = kind == "bot"
        if bot:
            platform = rng.choice(["twitter", "twitter", "instagram", "youtube"])
        if bot:
            author = authors.new(platform, bot=True) if not authors.bots or rng.random() < 0.6 else rng.choice(authors.bots)
        else:
            author = authors.pick(platform)
        lang = "en" if platform in EN_PLATFORMS and brand != "noise" and not bot and rng.random() < 0.28 else "ko"
        if platform == "reddit" and brand != "noise" and not bot:
            lang = "en"
        pii = False
        b = BRANDS.get(brand)
        if brand == "noise":
            template = rng.choice(NOISE)
            text = template + rng.choice(SUFFIX)
            sentiment = "positive" if template in POSITIVE_NOISE else "neutral"
        elif bot:
            p = rng.choice(b["products"])
            text = rng.choice([f"{p} 사전예약 개이득 혜택 링크 ㄱㄱ https://bit.ly/{_rand_id(rng, 7)}",
                               f"🔥{p} 최저가🔥 지금 바로 https://han.gl/{_rand_id(rng, 6)} #광고",
                               f"{p} 무료 증정 이벤트 참여하세요 https://bit.ly/{_rand_id(rng, 7)}"])
            sentiment = "positive"
        elif platform in ("news", "naver_news") and kind != "bot":
            key = burst or ("pos" if kind in ("pos", "buy") else "neg" if kind == "neg" else "neu")
            template = rng.choice(NEWS[key])
            text = template.format(p=rng.choice(b["products"][:2]), b=NEWS_BRANDS.get(brand, b["name"]))
            sentiment = {"pos": "positive", "neu": "neutral", "nova-launch": "positive"}.get(key, "negative")
            if template in NEUTRAL_NEWS:
                sentiment = "neutral"
        else:
            text, template = _text(rng, brand, "pos" if kind == "burst_pos" else kind, lang)
            pii_sentiment = None
            if lang == "ko" and rng.random() < 0.03:
                friend = rng.choice(["jimin_0312", "yuna.k", "minsu_kr", "haeun__", "coffee_holic7"])
                text, pii_sentiment = _pii_text(rng, b, rng.choice(b["products"]), friend)
                pii = True
            elif platform in ("twitter", "instagram") and lang == "ko" and rng.random() < 0.08:
                text = f"@{rng.choice(['jimin_0312', 'yuna.k', 'minsu_kr', 'seoul_foodie'])} " + text
                pii = True
            sentiment = {"pos": "positive", "burst_pos": "positive", "buy": "positive", "neg": "negative",
                         "burst_neg": "negative"}.get(kind, "neutral")
            if kind == "buy" and lang == "ko" and template not in EAGER_PURCHASES:
                sentiment = "neutral"
            if lang == "en" and sentiment == "neutral":
                sentiment = "positive"  # _text has no English neutral posts: they come from the praise pool
            if kind == "burst_pos" and "차이 없는듯" in text:
                sentiment = "neutral"
            sentiment = pii_sentiment or sentiment  # the post written is not the kind's template
        hashtags: list[str] = []
        if platform in SOCIAL and b is not None and rng.random() < 0.6:
            hashtags = rng.sample(b["tags"], k=rng.randint(1, min(4, len(b["tags"]))))
            if platform == "instagram":
                text = text + " " + " ".join("#" + h for h in hashtags)
        url, post_id = _url_and_post(rng, platform, author, seq)
        posted = _time(rng, minute)
        delay = rng.lognormvariate(3.0, 1.2) if platform in SOCIAL else rng.lognormvariate(4.5, 1.0)
        collected = posted + timedelta(seconds=round(min(delay, 1800), 3))
        boost = 4.0 if burst else 1.0
        if author["followers"] > 100_000:
            boost *= 5
        mention = {
            "platform": platform,
            "post_id": post_id,
            "url": url,
            "author": author,
            "text": text,
            "lang": lang if platform in SOCIAL else "",
            "media_urls": _media(rng, platform),
            "hashtags": hashtags,
            "engagement": _engagement(rng, platform, boost),
            "posted_at": posted.isoformat().replace("+00:00", "Z"),
            "collected_at": collected.isoformat().replace("+00:00", "Z"),
            "brand": "" if brand == "noise" or rng.random() < 0.08 else brand,
        }
        mentions.append(mention)
        meta.append({"brand": None if brand == "noise" else brand, "burst": burst, "kind": kind,
                     "sentiment": sentiment, "pii": pii, "bot": bot, "lang": lang})
    return mentions, meta


def campaigns() -> list[dict]:
    """The Campaign records (as JSON-ready dicts) for the sample's brands."""
    return [
        {"campaign_id": "haedam-bulkkot", "brand": "haedam", "name": "해담식품 불꽃라면",
         "keywords": ["불꽃라면", "컵불꽃", "짜파링", "해담식품", "haedam", "bulkkot"], "min_mentions": 10},
        {"campaign_id": "haruon-skincare", "brand": "haruon", "name": "하루온 스킨케어 (뷰티 채널)",
         "keywords": ["하루온", "haruon"],
         "platforms": ["instagram", "youtube", "naver_blog", "naver_cafe", "theqoo", "instiz", "twitter", "tiktok"]},
        {"campaign_id": "nova-mobile", "brand": "nova", "name": "노바모바일 (노바 S9 포함)",
         "keywords": ["노바", "nova", "노바모바일", "nova mobile"],
         "exclude": ["카사노바", "보사노바", "casanova", "bossa nova", "노바스코샤"]},
        {"campaign_id": "morningbean-coffee", "brand": "morningbean", "name": "모닝빈 커피",
         "keywords": ["모닝빈", "morningbean", "morning bean"]},
        {"campaign_id": "morningbean-strawberry", "brand": "morningbean", "name": "모닝빈 봄 딸기 시즌",
         "query": "(모닝빈 OR morningbean) AND (딸기 OR strawberry)",
         "starts_at": "2025-03-01T00:00:00Z", "ends_at": "2025-04-30T15:00:00Z"},
        {"campaign_id": "aether-chronicle", "brand": "aether", "name": "에테르 크로니클 (픽셀포지)",
         "query": '("에테르 크로니클" OR 에테르크로니클 OR 에크 OR "aether chronicle" OR 픽셀포지 OR pixelforge) '
                  'NOT (채용 OR 공채)', "spike_threshold": 3.0, "min_mentions": 15},
        {"campaign_id": "nova-s8-legacy", "brand": "nova", "name": "노바 S8 (종료)",
         "keywords": ["노바 S8", "nova s8"], "active": False},
    ]


def write(directory: Path = HERE, seed: int = SEED) -> tuple[Path, Path]:
    mentions, _ = generate(seed)
    mpath, cpath = directory / MENTIONS_FILE.name, directory / CAMPAIGNS_FILE.name
    with open(mpath, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
        for m in mentions:
            gz.write(orjson.dumps(m) + b"\n")
    cpath.write_bytes(orjson.dumps(campaigns(), option=orjson.OPT_INDENT_2) + b"\n")
    return mpath, cpath


if __name__ == "__main__":
    m, c = write()
    print(f"wrote {m} ({m.stat().st_size:,} bytes) and {c}")
