"""onnx/recipes/common.py: the rule that keeps the reaction predictor's dev reviews out of training."""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "onnx" / "recipes"))
import common  # noqa: E402


@pytest.fixture(scope="module")
def dev() -> list[dict]:
    with open(common.DATA / "predict" / "mentions.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def is_dev():
    return common.predict_dev_filter()


def test_every_dev_review_is_matched_by_its_id(dev, is_dev):
    assert is_dev.review_ids == len(dev) == 20_000
    assert all(is_dev(d["post_id"].split(":", 1)[1], "") == "id" for d in dev)


def test_a_dev_text_under_another_id_is_matched_by_text(dev, is_dev):
    text = dev[0]["text"]
    assert is_dev("not-a-dev-id", text) == "text"
    # the normalised form: spacing and repeated laughter as `scoring.normalise` folds them
    assert is_dev("not-a-dev-id", "  " + text + "  ") == "text"
    assert is_dev("not-a-dev-id", "x", key=common.text_key(text)) == "text"


def test_other_reviews_pass(is_dev):
    assert is_dev("1", "배송 빠르고 좋아요 이 제품은 처음 보는 문장입니다") is None
