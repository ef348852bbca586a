"""The held-back sentiment dev set (onnx/sentiment/dev_social.tsv), checked as a user of the set would.

It must parse as the documented TSV, be large enough, carry only valid labels and domains, hold no
duplicate texts, share no text with the files the sentiment recipe trains on (those under
../shared/data that exist on this machine) nor with the bundled sample, and its card
(onnx/sentiment/DEV_SET.md) must state the file's exact counts. A missing dev set is a failure,
never a skip. The hand-written seed files (onnx/sentiment/*_seed.tsv) share no text with the dev
set nor with the sample, and the genre and review seeds are well-formed 3-class files naming none
of the sample's brands.
"""

from __future__ import annotations

import collections
import csv
import gzip
import json
import os
import re
from pathlib import Path

import pytest

from scoring.normalise import normalise, normalise_many

REPO = Path(__file__).resolve().parent.parent
DEV = REPO / "onnx" / "sentiment" / "dev_social.tsv"
CARD = REPO / "onnx" / "sentiment" / "DEV_SET.md"
RECIPES = [REPO / "onnx" / "recipes" / "train_sentiment.py", REPO / "onnx" / "recipes" / "common.py"]
SAMPLE = REPO / "streams" / "sample" / "mentions.jsonl.gz"
# the hand-written seed posts the sentiment recipe trains on (TSV `document<TAB>label`, no quoting)
SEEDS = [REPO / "onnx" / "sentiment" / name
         for name in ("social_seed.tsv", "genre_seed.tsv", "review_seed.tsv", "english_seed.tsv")]
# the 3-class seeds written for issue 10 (genres movie reviews lack; product and service reviews)
THREE_CLASS_SEEDS = [REPO / "onnx" / "sentiment" / name for name in ("genre_seed.tsv", "review_seed.tsv")]
# where the recipes read their data (onnx/recipes/common.py: TRUEVOICE_DATA, else ../shared/data)
DATA = Path(os.environ.get("TRUEVOICE_DATA") or REPO.parent / "shared" / "data")

LABELS = ("positive", "neutral", "negative")
DOMAINS = {"products", "games", "food", "phones", "cosmetics", "telecom", "cars", "fashion",
           "delivery", "finance", "travel", "streaming"}
# the text sources of ../shared/data that the sentiment recipes read or may read for sentiment
# (issue 10: NSMC, the chatbot sentences, KOTE, the sarcasm tweets); any other data file the
# recipe names is added from its source below
SENTIMENT_SOURCES = ["nsmc/ratings_train.txt.gz", "nsmc/nsmc3_train.tsv.gz", "nsmc/nsmc_raw_ratings.tsv.gz",
                     "ko/chatbot/ChatbotData.csv", "ko/kote/val.tsv", "ko/sarcasm/train.csv", "ko/sarcasm/test.csv"]
_FILE_LITERAL = re.compile(r"""["']([\w./-]+\.(?:tsv|csv|txt|jsonl)(?:\.gz)?)["']""")

csv.field_size_limit(1 << 30)


def _rows() -> list[dict]:
    assert DEV.is_file(), f"{DEV} is missing: the dev set is part of the repository"
    with open(DEV, encoding="utf-8", newline="") as f:
        header = f.readline().rstrip("\n")
        assert header == "text\tlabel\tdomain", f"header {header!r}"
        rows = []
        for n, line in enumerate(f, start=2):
            assert line.endswith("\n"), f"line {n}: file must end with a newline"
            parts = line.rstrip("\n").split("\t")
            assert len(parts) == 3, f"line {n}: {len(parts)} fields, want 3: {line!r}"
            rows.append({"text": parts[0], "label": parts[1], "domain": parts[2], "line": n})
    # the same file through the csv module as the card says to read it gives the same rows
    with open(DEV, encoding="utf-8", newline="") as f:
        via_csv = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert [(r["text"], r["label"], r["domain"]) for r in via_csv] == \
        [(r["text"], r["label"], r["domain"]) for r in rows]
    return rows


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return _rows()


def test_parses_and_is_large_enough(rows):
    assert len(rows) >= 600
    for r in rows:
        t = r["text"]
        assert t == t.strip() and t, f"line {r['line']}: empty or padded text {t!r}"
        assert "\r" not in t and "\t" not in t, f"line {r['line']}"
        assert len(t) <= 300, f"line {r['line']}: {len(t)} characters"


def test_labels_and_domains_valid(rows):
    bad = [(r["line"], r["label"], r["domain"]) for r in rows if r["label"] not in LABELS or r["domain"] not in DOMAINS]
    assert not bad, bad[:10]
    counts = collections.Counter(r["label"] for r in rows)
    n = len(rows)
    # roughly 40 % positive, 25 % neutral, 35 % negative
    assert 0.33 <= counts["positive"] / n <= 0.47, counts
    assert 0.18 <= counts["neutral"] / n <= 0.32, counts
    assert 0.28 <= counts["negative"] / n <= 0.42, counts
    # every domain carries all three labels
    for d in {r["domain"] for r in rows}:
        assert {r["label"] for r in rows if r["domain"] == d} == set(LABELS), d


def test_no_duplicate_texts(rows):
    seen: dict[str, int] = {}
    dups = []
    for r in rows:
        keys = (" ".join(r["text"].split()).casefold(), "n:" + normalise(r["text"]))
        first = next((seen[k] for k in keys if k in seen), None)
        if first is not None:
            dups.append((first, r["line"], r["text"]))
        seen.update(dict.fromkeys(keys, r["line"]))
    assert not dups, dups[:10]


def _fields(path: Path):
    """Every field of every row of a data file (the text columns among them)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
        if ".csv" in path.suffixes:
            for row in csv.reader(f):
                yield from row
        elif ".jsonl" in path.suffixes:
            for line in f:
                if line.strip():
                    obj = json.loads(line)
                    yield from (v for v in (obj.values() if isinstance(obj, dict) else [obj]) if isinstance(v, str))
        else:
            for line in f:
                yield from line.rstrip("\r\n").split("\t")


def _training_files() -> list[Path]:
    """The sentiment training files: the known sources plus every data file the recipe names,
    looked up under ../shared/data and onnx/sentiment; only those that exist here."""
    names = list(SENTIMENT_SOURCES)
    for src in RECIPES:
        if src.is_file():
            names += _FILE_LITERAL.findall(src.read_text(encoding="utf-8"))
    found: list[Path] = []
    for name in dict.fromkeys(names):
        for base in (DATA, REPO / "onnx" / "sentiment", REPO):
            p = base / name
            if p.is_file() and p.resolve() != DEV.resolve() and p not in found:
                found.append(p)
    return found


def test_no_text_from_training_files_or_sample(rows):
    keys = {normalise(r["text"]): r["line"] for r in rows}
    files = _training_files()
    # the hand-written English seed is always here, whatever the data directory holds
    assert REPO / "onnx" / "sentiment" / "english_seed.tsv" in files
    assert SAMPLE.is_file()
    clashes = []
    for path in files + [SAMPLE]:
        chunk: list[str] = []
        for field in _fields(path):
            chunk.append(field)
            if len(chunk) >= 200_000:
                clashes += [(keys[k], str(path)) for k in set(normalise_many(chunk)) if k in keys]
                chunk = []
        clashes += [(keys[k], str(path)) for k in set(normalise_many(chunk)) if k in keys]
    assert not clashes, f"dev-set lines also in training data or the sample: {clashes[:20]}"


def _sample_brand_hits(rows: list[dict]) -> list[tuple[int, str]]:
    """(line, name) for every brand or product name of the bundled sample that a row's text holds."""
    from streams.sample.generate import BRANDS, NEWS_BRANDS

    names = set(NEWS_BRANDS.values())
    for b in BRANDS.values():
        names |= {b["name"], b["en"], *b["products"], *b.get("en_products", [])}
    hits = []
    for r in rows:
        low = r["text"].casefold()
        tokens = set(re.findall(r"\w+", low))
        for name in names:
            name = name.casefold()
            if (name in low) if len(name) >= 3 else (name in tokens):
                hits.append((r["line"], name))
    return hits


def test_names_none_of_the_sample_brands(rows):
    hits = _sample_brand_hits(rows)
    assert not hits, hits[:10]


def _seed_rows(path: Path) -> list[dict]:
    """The rows of a seed file (header `document<TAB>label`), read as the recipe reads them."""
    assert path.is_file(), f"{path} is missing"
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        assert reader.fieldnames == ["document", "label"], f"{path.name}: header {reader.fieldnames}"
        return [{"text": r["document"], "label": r["label"], "line": n, "extra": r.get(None)}
                for n, r in enumerate(reader, start=2)]


def test_seeds_share_no_text_with_dev_set_or_sample(rows):
    """No seed post equals (after `normalise`) a dev-set text, nor a text of the bundled sample:
    the seeds are trained on, so a shared text would leak the held-back set or the sample's answers."""
    dev = {normalise(r["text"]): r["line"] for r in rows}
    seeds = {path: _seed_rows(path) for path in SEEDS}
    clashes = [(path.name, s["line"], s["text"], f"dev line {dev[k]}")
               for path, srows in seeds.items()
               for s, k in zip(srows, normalise_many([s["text"] for s in srows])) if k in dev]
    assert not clashes, f"seed posts that are also dev-set texts: {clashes[:20]}"
    assert SAMPLE.is_file()
    wanted = {k: (path.name, s["line"], s["text"])
              for path, srows in seeds.items()
              for s, k in zip(srows, normalise_many([s["text"] for s in srows]))}
    in_sample: set = set()
    chunk: list[str] = []
    for field in _fields(SAMPLE):
        chunk.append(field)
        if len(chunk) >= 200_000:
            in_sample |= set(normalise_many(chunk)) & wanted.keys()
            chunk = []
    in_sample |= set(normalise_many(chunk)) & wanted.keys()
    assert not in_sample, f"seed posts that are also texts of the sample: {sorted(wanted[k] for k in in_sample)[:20]}"


@pytest.mark.parametrize("path", THREE_CLASS_SEEDS, ids=lambda p: p.name)
def test_three_class_seed_is_well_formed(path):
    """genre_seed.tsv and review_seed.tsv: 3-class labels (0 negative, 1 neutral, 2 positive), plain
    single-line texts, no duplicates (also after `normalise`), every label present, no sample brand."""
    raw = path.read_bytes()
    assert raw.endswith(b"\n"), f"{path.name} must end with a newline"
    srows = _seed_rows(path)
    assert len(srows) >= 300
    bad = [(s["line"], s["label"]) for s in srows if s["label"] not in ("0", "1", "2") or s["extra"]]
    assert not bad, bad[:10]
    for s in srows:
        t = s["text"]
        assert t and t == t.strip() and "\r" not in t and len(t) <= 300, f"line {s['line']}: {t!r}"
    keys = collections.Counter(normalise(s["text"]) for s in srows)
    assert not [k for k, n in keys.items() if n > 1], [k for k, n in keys.items() if n > 1][:10]
    assert set(collections.Counter(s["label"] for s in srows)) == {"0", "1", "2"}
    hits = _sample_brand_hits(srows)
    assert not hits, hits[:10]


def _card_table(text: str, first_col: str) -> list[list[str]]:
    """The rows of the markdown table whose header starts with ``| first_col |``."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"\|\s*{first_col}\s*\|", line):
            out = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                out.append([c.strip() for c in row.strip().strip("|").split("|")])
            return out
    raise AssertionError(f"no table starting with | {first_col} | in {CARD.name}")


def test_card_counts_match_the_file(rows):
    assert CARD.is_file(), f"{CARD} is missing"
    text = CARD.read_text(encoding="utf-8")
    counts = collections.Counter(r["label"] for r in rows)
    stated = {c[0]: int(c[1]) for c in _card_table(text, "label")}
    assert stated == {**{lab: counts[lab] for lab in LABELS}, "total": len(rows)}
    per = collections.Counter((r["domain"], r["label"]) for r in rows)
    table = _card_table(text, "domain")
    want = {d: [per[(d, lab)] for lab in LABELS] + [sum(per[(d, lab)] for lab in LABELS)]
            for d in {r["domain"] for r in rows}}
    assert {c[0]: [int(x) for x in c[1:5]] for c in table} == want
    # the header line of the card states the total too
    assert f"{len(rows)} short Korean" in text
