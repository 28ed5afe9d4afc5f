"""The nearness check of cart's fit (synthgen.models.cart_blur): on a table of few columns, rows
drawn along the trees all but repeat a training row; cart finds it without held-out rows and
blurs its numbers by a share of their leaf's spread until drawn rows lie as far from the
training rows as those rows lie from each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.models.cart import CART, _cardinalities, _stack
from synthgen.models.cart_blur import NEAR, nearness
from tests.conftest import unruled


def few_columns(seed: int, n: int = 4000) -> pd.DataFrame:
    """ISLP's Default in shape: a flag and two numbers every row holds its own value of."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "student": rng.random(n) < 0.3,
            "balance": rng.lognormal(8, 1, n).round(2),
            "income": rng.normal(40_000, 15_000, n).round(2),
        }
    )


def test_nearness_reads_codes_as_one_apart():
    train = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [3.0, 1.0]])
    cards = [None, 2]
    asked = np.arange(4)
    # copies are at 0; a row's nearest other holds its code two rank steps away (0.5)
    assert nearness(train, train, cards, asked) == 0.0
    moved = train.copy()
    moved[:, 1] = 1 - moved[:, 1]  # each code flipped: 1 from its own row, 0.25 from the next
    assert nearness(moved, train, cards, asked) == pytest.approx(0.25 / 0.5)


@pytest.mark.trained
def test_a_table_of_few_columns_is_blurred_until_its_rows_are_no_nearer_than_new_ones(seed):
    """Unblurred, drawn rows lie at 0.51-0.62 of the training rows' own nearest distance; as
    fitted (leaf blur 0.5 or 1), 0.88-1.00 (seeds 0-9, 1,000 rows drawn apart from the fit's)."""
    table = few_columns(seed)
    model = CART().fit(table, schema=unruled(table), seed=seed)
    assert model.leaf_blur_ > 0
    x = _stack(model.encoder_.encode(table, np.random.default_rng(0)), model.order_, model.encoder_)
    cards = _cardinalities(model.encoder_, model.order_)
    asked = np.arange(0, len(table), 4)
    rng = np.random.default_rng(seed + 9)
    assert nearness(model._rows(1000, rng)[0], x, cards, asked) > NEAR - 0.05
    for tree in model.trees_:
        tree.widen(0.0)
    assert nearness(model._rows(1000, rng)[0], x, cards, asked) < 0.75


def test_the_blur_is_kept_in_the_file_and_a_crafted_one_refused(tmp_path):
    table = few_columns(0, n=1500)
    model = CART().fit(table, schema=unruled(table), seed=0)
    path = str(tmp_path / "m.synthgen")
    model.save(path)
    loaded = synthgen.load(path)
    assert loaded.leaf_blur_ == model.leaf_blur_ > 0
    assert loaded.describe()["leaf_blur"] == model.leaf_blur_
    assert loaded.sample(200, seed=3).equals(model.sample(200, seed=3))
    state = model.to_state()
    state["fitted"]["leaf_blur"] = -1.0
    with pytest.raises(ValueError, match="leaf blur"):
        CART.from_state(state)
    del state["fitted"]["leaf_blur"]  # a file from before the check: no blur
    assert CART.from_state(state).leaf_blur_ == 0.0


def test_smoothing_zero_draws_real_values_whatever_the_check():
    table = few_columns(1, n=1500)
    model = CART(smoothing=0, allow_copies=True).fit(table, schema=unruled(table), seed=1)
    assert model.leaf_blur_ == 0.0
    out = model.sample(500, seed=2)
    assert out["income"].isin(table["income"]).all()


def test_nearest_distances_match_a_direct_count():
    """The one-hot product gives what comparing every number and code directly gives (to float32
    rounding), a row left out of its own comparison where asked."""
    from synthgen.models.cart_blur import _nearest

    rng = np.random.default_rng(0)
    cards = [None, 3, None, 5, 200]  # the last compared directly (more codes than _ONE_HOT)

    def rows(n):
        x = np.c_[
            rng.random(n),
            rng.integers(0, 3, n),
            rng.random(n),
            rng.integers(0, 5, n),
            rng.integers(0, 4, n) * 50,
        ]
        return x.astype(np.float32)

    a, b = rows(300), rows(500)
    direct = (
        (a[:, None, 0] - b[None, :, 0]) ** 2
        + (a[:, None, 2] - b[None, :, 2]) ** 2
        + (a[:, None, 1] != b[None, :, 1])
        + (a[:, None, 3] != b[None, :, 3])
        + (a[:, None, 4] != b[None, :, 4])
    )
    assert np.abs(_nearest(a, b, cards) - np.sqrt(direct.min(axis=1))).max() < 1e-4
    itself = rng.choice(500, 300, replace=False)
    direct[np.arange(300), itself] = np.inf
    assert np.abs(_nearest(a, b, cards, itself) - np.sqrt(direct.min(axis=1))).max() < 1e-4
