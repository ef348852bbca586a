"""Sentiment training rows beyond NSMC: labelled sets mapped to polarity, and weak labels.

Every loader returns ``(text, label, weight)`` rows with label 0 negative, 1 neutral,
2 positive (the 3-class convention of nsmc3_train). Rows are read from ``../shared/data``
(``common.DATA``) and from hand-written seed files in ``onnx/sentiment``; the recipe removes
every held-out text from them before fitting. How each source maps onto polarity is written
in ``onnx/sentiment/CARD.md`` ("Training data").
"""

from __future__ import annotations

import csv
import gzip
import random
import re

from common import DATA, ROOT, read_labelled_tsv
from scoring.normalise import slang_hints, slang_terms

NEG, NEU, POS = 0, 1, 2

# KOTE's 44 emotions, in the order of its label indices (searle-j/KOTE)
KOTE_EMOTIONS = (
    "불평/불만", "환영/호의", "감동/감탄", "지긋지긋", "고마움", "슬픔", "화남/분노", "존경", "기대감", "우쭐댐/무시함",
    "안타까움/실망", "비장함", "의심/불신", "뿌듯함", "편안/쾌적", "신기함/관심", "아껴주는", "부끄러움", "공포/무서움", "절망",
    "한심함", "역겨움/징그러움", "짜증", "어이없음", "없음", "패배/자기혐오", "귀찮음", "힘듦/지침", "즐거움/신남", "깨달음",
    "죄책감", "증오/혐오", "흐뭇함(귀여움/예쁨)", "당황/난처", "경악", "부담/안_내킴", "서러움", "재미없음", "불쌍함/연민", "놀람",
    "행복", "불안/걱정", "기쁨", "안심/신뢰",
)
KOTE_POSITIVE = frozenset({"환영/호의", "감동/감탄", "고마움", "존경", "기대감", "뿌듯함", "편안/쾌적", "아껴주는",
                           "즐거움/신남", "흐뭇함(귀여움/예쁨)", "행복", "기쁨", "안심/신뢰"})
KOTE_NEGATIVE = frozenset({"불평/불만", "지긋지긋", "슬픔", "화남/분노", "우쭐댐/무시함", "안타까움/실망", "의심/불신",
                           "공포/무서움", "절망", "한심함", "역겨움/징그러움", "짜증", "어이없음", "패배/자기혐오", "귀찮음",
                           "힘듦/지침", "죄책감", "증오/혐오", "당황/난처", "경악", "부담/안_내킴", "서러움", "재미없음",
                           "불안/걱정"})
# the others (없음, 비장함, 신기함/관심, 부끄러움, 깨달음, 불쌍함/연민, 놀람) carry no polarity


def kote_polarity(emotions: set[str]) -> int | None:
    """A comment's polarity from its annotated emotions: positive (negative) when at least two
    positive (negative) emotions were marked and twice as many as of the other sign; neutral
    when "없음" (none) was marked with at most one polar emotion; otherwise None (mixed: left out)."""
    pos = len(emotions & KOTE_POSITIVE)
    neg = len(emotions & KOTE_NEGATIVE)
    if "없음" in emotions and pos + neg <= 1:
        return NEU
    if pos >= 2 and pos >= 2 * neg:
        return POS
    if neg >= 2 and neg >= 2 * pos:
        return NEG
    return None


def kote(weight: float = 1.0) -> list[tuple[str, int, float]]:
    rows = []
    with open(DATA / "ko/kote/val.tsv", encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 3 or not cols[1].strip():
                continue
            emotions = {KOTE_EMOTIONS[int(i)] for i in cols[2].split(",") if i.strip().isdigit()}
            y = kote_polarity(emotions)
            if y is not None:
                rows.append((cols[1], y, weight))
    return rows


def chatbot(weight: float = 1.0) -> list[tuple[str, int, float]]:
    """songys/Chatbot_data questions: 0 daily talk -> neutral, 1 negative, 2 positive."""
    rows = []
    with open(DATA / "ko/chatbot/ChatbotData.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["Q"].strip() and r["label"] in ("0", "1", "2"):
                rows.append((r["Q"], {"0": NEU, "1": NEG, "2": POS}[r["label"]], weight))
    return rows


def sarcasm(weight: float) -> list[tuple[str, int, float]]:
    """Tweets tagged as sarcasm (hashtag labels, noisy) -> weak negatives; the others carry no
    polarity and are only read by ``weak_labels``."""
    rows = []
    with open(DATA / "ko/sarcasm/train.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["label"] == "1" and r["tokens"].strip():
                rows.append((r["tokens"], NEG, weight))
    return rows


def seed(name: str, weight: float) -> list[tuple[str, int, float]]:
    """A hand-written seed file of ``onnx/sentiment`` (columns document, label 0/1/2)."""
    return [(text, label, weight) for text, label in read_labelled_tsv(ROOT / "onnx" / "sentiment" / name)]


# star ratings written in the text: "10점 만점에 9점", "평점 2점", "별 다섯 개", "★★★★★"
_STARS_OF_TEN = re.compile(r"(?:10점\s*만점에|평점|별점)\s*(10|[0-9])(?:\.\d)?\s*점")
_STAR_WORDS = re.compile(r"별\s*(하나|한\s*개|두\s*개|네\s*개|다섯\s*개|다섯)")
# a run of one to five filled stars not followed by an empty one ("★☆☆☆☆" is not read: the
# shipped model was trained with exactly this expression, so it stays until the next training)
_STAR_GLYPHS = re.compile(r"([★]{1,5})(?![★☆])")
_EMOTICON_POS = re.compile(r"\^\^|\^_\^|:\)|:D|♥|♡")
_EMOTICON_NEG = re.compile(r"ㅡㅡ|-_-|;;|:\(")


def star_rating_label(text: str) -> int | None:
    """Polarity of a rating stated in the text (1-4 of 10 negative, 9-10 positive), or None."""
    m = _STARS_OF_TEN.search(text)
    if m:
        r = int(m.group(1))
        return NEG if r <= 4 else POS if r >= 9 else None
    m = _STAR_WORDS.search(text)
    if m:
        return POS if m.group(1).startswith("다섯") else NEG if m.group(1)[0] in "하한두" else None
    m = _STAR_GLYPHS.search(text)
    if m:
        n = len(m.group(1))
        return POS if n == 5 else NEG if n <= 2 else None
    return None


def weak_label(text: str) -> int | None:
    """A weak polarity from the text's own signals: a stated star rating first, else the slang
    dictionary's polar terms and emoticons, when they all point one way (``ctx`` intensifiers
    carry no polarity of their own and decide nothing)."""
    y = star_rating_label(text)
    if y is not None:
        return y
    hints = slang_hints(slang_terms(text))
    pos = hints.count("pos") + len(_EMOTICON_POS.findall(text))
    neg = hints.count("neg") + len(_EMOTICON_NEG.findall(text))
    if pos and not neg:
        return POS
    if neg and not pos:
        return NEG
    return None


def unlabelled_texts() -> list[str]:
    """Texts of ../shared/data that carry no sentiment label: speech-act utterances (3i4k),
    tweets not tagged as sarcasm, and the news comments of the hate-speech sets."""
    out = []
    with open(DATA / "ko/3i4k/fci_train_val.txt", encoding="utf-8") as f:
        out += [line.split("\t", 1)[1].strip() for line in f if "\t" in line]
    with open(DATA / "ko/sarcasm/train.csv", encoding="utf-8") as f:
        out += [r["tokens"] for r in csv.DictReader(f) if r["label"] == "0"]
    with open(DATA / "ko/kmhas/kmhas_valid.txt", encoding="utf-8") as f:
        out += [line.rsplit("\t", 1)[0].strip().strip('"') for line in list(f)[1:]]
    with open(DATA / "ko/kocohub_hate/train.tsv", encoding="utf-8") as f:
        out += [line.split("\t", 1)[0] for line in list(f)[1:]]
    return [t for t in out if t]


def weak_labels(texts: list[str], weight: float) -> list[tuple[str, int, float]]:
    rows = []
    for t in texts:
        y = weak_label(t)
        if y is not None:
            rows.append((t, y, weight))
    return rows


def questions(n: int, weight: float) -> list[tuple[str, int, float]]:
    """3i4k's questions (label 2) of at least four eojeol, as weak neutrals: a question asking
    for information takes no stance (rhetorical questions, label 4, are left out)."""
    rows = []
    with open(DATA / "ko/3i4k/fci_train_val.txt", encoding="utf-8") as f:
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            if label == "2" and len(text.split()) >= 4 and weak_label(text) is None:
                rows.append((text, NEU, weight))
                if len(rows) >= n:
                    break
    return rows


def nsmc_rating8(weight: float) -> list[tuple[str, int, float]]:
    """Raw NSMC reviews rated 8 (left out of NSMC's binary and 3-class sets) -> weak positives."""
    rows = []
    with gzip.open(DATA / "nsmc/nsmc_raw_ratings.tsv.gz", "rt", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if r.get("rating") == "8" and r.get("document"):
                rows.append((r["document"], POS, weight))
    return rows


def dedupe(rows: list[tuple[str, int, float]], exclude: set[str], key) -> list[tuple[str, int, float]]:
    """Rows whose text is neither in ``exclude`` nor seen before (first occurrence kept)."""
    seen = set(exclude)
    out = []
    for t, y, w in rows:
        k = key(t)
        if k not in seen:
            seen.add(k)
            out.append((t, y, w))
    return out


# interjections that set no stance of their own in our label rules (onnx/sentiment/DEV_SET.md):
# laughter, "really", surprise, at the start or the end of a post
_LEAD_INS = ("진짜 ", "근데 ", "와 ", "헐 ", "ㄹㅇ ", "솔직히 ", "아니 ", "ㅋㅋ ")
_TAGS = (" ㅋㅋ", " ㅋㅋㅋ", " ㅎㅎ", " ㄹㅇ", " ㄷㄷ", "!!", "...", " ㅋ")


def with_interjections(rows: list[tuple[str, int, float]], seed: int) -> list[tuple[str, int, float]]:
    """A copy of each row with a lead-in or a trailing interjection (or both), same label and
    weight: community posts wrap any stance in ㅋㅋ / ㄹㅇ / 진짜, and without such copies the
    model reads the interjection of a neutral post as a polarity (NSMC's ㅋㅋ are mostly mockery)."""
    rng = random.Random(seed)
    out = []
    for t, y, w in rows:
        lead = rng.choice(_LEAD_INS) if rng.random() < 0.5 else ""
        tag = rng.choice(_TAGS) if not lead or rng.random() < 0.5 else ""
        out.append((lead + t + tag, y, w))
    return out
