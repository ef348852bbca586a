"""The Korean comment sets of ../shared/data that carry toxicity labels, as one list of rows (and
the hand-written English comments of onnx/toxicity, which train every fold).

Each source labels something slightly different, mapped here onto one binary "toxic":

* kocohub_hate (news comments): ``hate`` or ``offensive`` -> toxic, ``none`` -> clean
* curse (community comments): ``1`` (contains a curse) -> toxic
* malicious (comments, partly derived from kocohub): column ``lable`` 0 (malicious) -> toxic
* kmhas (news comments, K-MHaS): any of the eight hate-speech categories -> toxic,
  ``8`` (not hate speech) -> clean; the categories are kept for the multi-label head

Texts are de-duplicated by normalised text (``common.text_key``) inside and across sources by the
callers, because malicious repeats much of kocohub and a repeated text must never sit on both
sides of a split.
"""

from __future__ import annotations

import csv
import gzip
import random
import sys
from dataclasses import dataclass, field
from typing import get_args

import numpy as np

from common import DATA, ROOT, read_labelled_tsv, text_key
from schemas.records import HateCategory

csv.field_size_limit(sys.maxsize)

SOURCES = ("kocohub", "curse", "malicious", "kmhas")
# K-MHaS label ids 0-7, in its own order (the record's type lists them); 8 is "not hate speech"
HATE_CATEGORIES = get_args(HateCategory)
KMHAS_CLEAN = 8


@dataclass
class Row:
    text: str
    toxic: int
    source: str
    categories: tuple[int, ...] = field(default=())  # K-MHaS ids, only for kmhas rows


def kocohub() -> list[Row]:
    rows = []
    for fn in ("train.tsv", "dev.tsv"):
        with open(DATA / "ko/kocohub_hate" / fn, encoding="utf-8") as f:
            for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                rows.append(Row(r["comments"], 0 if r["hate"] == "none" else 1, "kocohub"))
    return rows


def curse() -> list[Row]:
    rows = []
    for line in (DATA / "ko/curse/dataset.txt").read_text(encoding="utf-8").splitlines():
        text, sep, label = line.rpartition("|")
        if sep and label.strip() in ("0", "1") and text.strip():
            rows.append(Row(text, int(label), "curse"))
    return rows


def malicious() -> list[Row]:
    rows = []
    with open(DATA / "ko/malicious/Dataset.csv", encoding="utf-8-sig") as f:
        for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(r) >= 2 and r[1].strip() in ("0", "1") and r[0].strip():
                rows.append(Row(r[0], 1 - int(r[1]), "malicious"))
    return rows


def kmhas() -> list[Row]:
    rows = []
    with open(DATA / "ko/kmhas/kmhas_valid.txt", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            ids = tuple(sorted({int(x) for x in r["label"].split(",") if x.strip()}))
            if not r["document"].strip() or not ids:
                continue
            cats = tuple(i for i in ids if i != KMHAS_CLEAN)
            rows.append(Row(r["document"], 1 if cats else 0, "kmhas", cats))
    return rows


def load_all() -> list[Row]:
    return kocohub() + curse() + malicious() + kmhas()


# profanity that stays profanity in praise ("존나 재밌다"): such reviews are not taken as clean
_PROFANE = ("씨발", "시발", "ㅅㅂ", "ㅆㅂ", "존나", "졸라", "좆", "병신", "ㅂㅅ", "새끼", "개새", "썅", "지랄")


def clean_praise(n: int = 5000, seed: int = 7) -> list[Row]:
    """Weak clean rows: NSMC reviews rated 10 without profanity. None of the four sources holds
    enthusiastic consumer talk, and without it intensifier slang of praise (존맛탱, 개꿀잼,
    미쳤다) reads as toxic; they train every fold and are never scored as a held-out source."""
    with gzip.open(DATA / "nsmc/nsmc_raw_ratings.tsv.gz", "rt", encoding="utf-8") as f:
        texts = [r["document"] for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
                 if r["rating"] == "10" and len(r["document"]) >= 8 and not any(w in r["document"] for w in _PROFANE)]
    return [Row(t, 0, "nsmc_praise") for t in random.Random(seed).sample(texts, min(n, len(texts)))]


def english_seed() -> list[Row]:
    """Hand-written English comments (onnx/toxicity/english_seed.tsv, label 1 toxic): none of the
    four sources is English, so without them English profanity and insults get no signal. They
    train every fold and are never scored as a held-out source; onnx/toxicity/english_eval.tsv,
    written by someone else without reading them, measures what they teach."""
    return [Row(text, label, "english_seed")
            for text, label in read_labelled_tsv(ROOT / "onnx" / "toxicity" / "english_seed.tsv")]


def chatbot_utterances() -> list[str]:
    """Everyday utterances (ko/chatbot questions), all clean: the share flagged toxic is a false-
    positive rate on talk that is neither news comments nor a toxicity source."""
    with open(DATA / "ko/chatbot/ChatbotData.csv", encoding="utf-8") as f:
        return [r["Q"] for r in csv.DictReader(f) if r["Q"].strip()]


def unique_rows(rows: list[Row]):
    """One row per normalised text: (texts, toxic [n], first source [n], in_source bool [n, S]).
    A text labelled differently by two sources counts as toxic (one source saw something)."""
    first: dict[str, int] = {}
    texts, toxic, src, seen = [], [], [], []
    for r in rows:
        k = text_key(r.text)
        i = first.get(k)
        if i is None:
            i = first[k] = len(texts)
            texts.append(r.text)
            toxic.append(r.toxic)
            src.append(r.source)
            seen.append(set())
        toxic[i] = max(toxic[i], r.toxic)
        seen[i].add(r.source)
    in_source = np.array([[s in x for s in SOURCES] for x in seen], dtype=bool)
    return texts, np.array(toxic), np.array(src), in_source


def source_balanced_weights(sources, y):
    """Sample weights giving every (source, class) cell the same total: the sources differ in
    size and toxic share, and the model should learn what they agree on, not the biggest one."""
    w = np.zeros(len(y), np.float64)
    cells = [(s, c) for s in np.unique(sources) for c in (0, 1) if ((sources == s) & (y == c)).any()]
    for s, c in cells:
        m = (sources == s) & (y == c)
        w[m] = len(y) / (len(cells) * m.sum())
    return w
