"""onnx/recipes/common.py: the rule that keeps the reaction predictor's dev reviews out of training, and the
reader of the hand-written labelled files."""

from __future__ import annotations

import sys

import orjson
import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "onnx" / "recipes"))
import common  # noqa: E402

DEV = [{"platform": "web", "post_id": "naver_movie:9027867", "text": "볼만한데 그럭저럭 그냥그래", "brand": "movie_1"},
       {"platform": "web", "post_id": "naver_movie:9029622", "text": "액설런트 어드밴쳐 생각나는", "brand": "movie_1"},
       {"platform": "x", "post_id": "1234", "text": "재밌어요 ㅋㅋㅋㅋ", "brand": "movie_2"}]


@pytest.fixture()
def is_dev(tmp_path):
    path = tmp_path / "mentions.jsonl"
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in DEV))
    return common.predict_dev_filter(path)


def test_a_dev_review_is_matched_by_its_review_id(is_dev):
    assert is_dev.review_ids == 2  # only the naver_movie: ids name a crawl review
    assert is_dev("9027867", "another text entirely") == "id"
    assert is_dev("1234", "another text entirely") is None


def test_a_dev_text_under_another_id_is_matched_by_text(is_dev):
    assert is_dev("1", "액설런트 어드밴쳐 생각나는") == "text"
    # the same text as `scoring.normalise` folds it: spacing, and laughter cut to its normal length
    assert is_dev("1", "  재밌어요 ㅋㅋㅋㅋㅋㅋㅋㅋ ") == "text"
    assert is_dev("1", "x", key=common.text_key("볼만한데 그럭저럭 그냥그래")) == "text"


def test_other_reviews_pass(is_dev):
    assert is_dev("1", "배송 빠르고 좋아요") is None
    assert is_dev("1", "볼만한데 그럭저럭") is None


def test_a_labelled_file_is_read_as_written(tmp_path):
    """Seeds and evaluation sets are read without quoting: a quote is part of the text."""
    path = tmp_path / "seed.tsv"
    path.write_text('document\tlabel\n"따옴표" 그대로 옴\t2\nshe said "wow"\t0\n', encoding="utf-8")
    assert common.read_labelled_tsv(path) == [('"따옴표" 그대로 옴', 2), ('she said "wow"', 0)]
