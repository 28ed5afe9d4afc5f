"""The few most extreme numbers and dates (beyond what `rare_threshold` training rows reach) are
a column's rare values: models learn those rows at the bound and write nothing past it;
conditions and rows to fill still take any value the training rows held; the report counts the
synthetic values past the bound."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.columns.base import protected_bounds
from synthgen.errors import ConditionError
from synthgen.modelfile import ModelFileError


def houses(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Floor areas and prices of ordinary houses, and three mansions far above them."""
    rng = np.random.default_rng(seed)
    area = np.round(rng.gamma(9, 15, n), 1)
    price = np.round(area * rng.normal(2_000, 150, n), -2)
    area[:3], price[:3] = [2_400.0, 3_100.0, 5_200.0], [9.1e6, 1.2e7, 2.5e7]
    town = rng.choice(["north", "south", "east"], n)
    return pd.DataFrame({"area": area, "price": price, "town": town})


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return houses()


@pytest.mark.parametrize("name", ["gaussian-copula", "gmm", "cart"])
def test_no_model_writes_past_the_fifth_largest_value(table, name):
    model = synthgen.fit(table, model=name, seed=0)
    out = model.sample(20_000, seed=1)
    for col in ("area", "price"):
        low, high = protected_bounds(table[col].to_numpy(), -np.inf, np.inf, 5)
        assert out[col].between(low, high).all(), col
        assert out[col].max() < table[col].nlargest(4).min()  # no mansion, nor near one


def test_a_threshold_of_zero_keeps_the_real_range(table):
    model = synthgen.fit(table, model="gaussian-copula", seed=0, rare_threshold=0)
    state = model.encoder_.states[0]
    assert (state["min"], state["max"]) == (table["area"].min(), table["area"].max())
    assert "seen" not in state


def test_a_condition_past_the_bound_says_so_and_extrapolates_when_allowed(table):
    model = synthgen.fit(table, model="gaussian-copula", seed=0)
    with pytest.raises(ConditionError, match="beyond what 5 training rows reach"):
        model.sample(10, seed=0, where="area>=2000")
    with pytest.raises(ConditionError, match="outside the range seen in training"):
        model.sample(10, seed=0, where="area>=6000")
    with pytest.warns(UserWarning, match="beyond what 5 training rows reach"):
        rows = model.sample(10, seed=0, where="area>=2000", allow_unseen=True)
    assert (rows["area"] >= 2000).all()


def test_a_given_extreme_cell_is_filled_around_and_kept(table):
    model = synthgen.fit(table, model="gmm", seed=0)
    given = table.head(6).copy()
    given["price"] = np.nan
    filled = model.fill(given, seed=2)
    assert (filled["area"] == given["area"]).all() and filled["price"].notna().all()


def test_the_report_counts_values_past_the_bound(table):
    train, holdout = table.iloc[:450], table.iloc[450:]
    copied = synthgen.report(train, train, holdout=holdout)
    ext = json.loads(copied.to_json())["privacy"]["extreme_values"]
    assert {c["column"] for c in ext["columns"]} == {"area", "price"}
    # 4 rows past each end of each column: the same rows in both, or not
    assert 8 / 450 <= ext["synthetic_share"] <= 16 / 450
    assert any("beyond what 5 training rows reach" in n for n in copied.privacy["notes"])
    model = synthgen.fit(train, model="cart", seed=0)
    fresh = synthgen.report(train, model.sample(2_000, seed=0), holdout=holdout)
    assert json.loads(fresh.to_json())["privacy"]["extreme_values"]["columns"] == []


def test_a_model_file_whose_bounds_pass_what_was_seen_is_refused(table, tmp_path):
    model = synthgen.fit(table, model="gaussian-copula", seed=0)
    path = tmp_path / "m.synthgen"
    model.save(str(path))
    state = model.encoder_.states[0]
    assert state["seen"][0] <= state["min"] < state["max"] < state["seen"][1]
    state["seen"] = [state["min"] + 1, state["max"]]
    with pytest.raises(ModelFileError):
        model.save(str(tmp_path / "bad.synthgen"))


def test_pair_trends_binned_on_the_real_range_are_shown_where_they_read_higher():
    """SDMetrics bins each table's numbers on its own range: without the real outliers every
    synthetic value falls in another bin. The report gives the score binned on the real range
    too, and the summary shows it where it reads 0.02 or more higher."""
    rng = np.random.default_rng(0)
    x = np.r_[rng.uniform(0, 100, 995), [400.0, 420.0, 450.0, 480.0, 500.0]]
    real = pd.DataFrame({"x": np.round(x, 2), "c": np.where(x > 50, "hi", "lo")})
    model = synthgen.fit(real, model="cart", seed=0)
    report = synthgen.report(real, model.sample(1_000, seed=0))
    fid = json.loads(report.to_json())["fidelity"]
    assert fid["column_pair_trends_on_real_range"] >= fid["column_pair_trends_score"] + 0.2
    assert "binned on the real range" in _summary(report)
    same = synthgen.report(real, real)  # the real range is its own: nothing shown
    assert "binned on the real range" not in _summary(same)


def _summary(report) -> str:
    from rich.console import Console

    from synthgen.report.render import terminal

    console = Console(record=True, width=200)
    terminal(report.to_dict(), console, [])
    return console.export_text()


def test_run_fits_no_held_out_row_and_writes_nothing_past_the_training_bounds(tmp_path, capsys):
    """`synthgen run` holds a fifth of the rows out to check privacy against: the model learns
    nothing of them (the counts of every row read held them: their extremes set the bounds and
    their categories' shares), so no synthetic number passes the training rows' bounds."""
    from tests.conftest import SAMPLE_DATA
    from tests.test_cli import run_cli

    out = tmp_path / "out"
    code, _, err = run_cli(
        ["run", str(SAMPLE_DATA / "penguins_raw.csv"), "-d", str(out), "-m", "cart", "--seed", "0"],
        capsys,
    )
    assert code == 0, err
    privacy = json.loads((out / "report.json").read_text())["privacy"]
    assert privacy["extreme_values"]["columns"] == []
    assert privacy["extreme_values"]["holdout_share"] > 0  # held-out rows do lie past them


def test_no_squeeze_is_read_where_only_the_few_most_extreme_values_are_missing():
    """On a small table the 1st and 99th percentiles lie among the few most extreme values,
    which no model writes: the squeeze check judges the span within what 5 rows reach (survival's
    cgvhd, 100 rows: 46% of the span, read as suspected collapse). A real squeeze still is."""
    rng = np.random.default_rng(1)
    x = rng.lognormal(0, 1, 100)
    real = pd.DataFrame({"x": x, "y": rng.normal(size=100)})  # rows the bounds leave unique
    low, high = protected_bounds(x, -np.inf, np.inf, 5)
    bounded = real.assign(x=np.clip(x, low, high))
    assert synthgen.report(real, bounded).mode_collapse["verdict"] == "none"
    middle = np.quantile(x, [0.4, 0.6])
    squeezed = real.assign(x=np.clip(x, *middle))
    assert synthgen.report(real, squeezed).mode_collapse["verdict"] != "none"
