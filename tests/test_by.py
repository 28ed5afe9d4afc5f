"""`by`: a model per class of a column (gaussian-copula, gmm), for the column a user conditions
on. Each class's rows follow their own dependence and range; classes keep their shares; the
mixture conditions on other columns through each class's probability of them.

Margins of the tests marked `trained`: the values each assert saw on seeds 0-9 and under the
three kernel pairs of `make test-kernels` on seeds 0-4 (tests/spread.py) are in its comment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.errors import UsageError
from synthgen.models.strata import STRATUM_ROWS


def opposite(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Class a: y rises with x on [0, 10]; class b: y falls with x on [20, 30]; class r (rare,
    fewer than STRATUM_ROWS rows) somewhere between. One Gaussian copula can't hold both signs."""
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b"], n, p=[0.6, 0.4])
    g[: STRATUM_ROWS // 2] = "r"
    u = rng.random(n)
    x = np.where(g == "a", 10 * u, np.where(g == "b", 20 + 10 * u, 12 + 6 * u))
    y = np.where(g == "b", -x, x) + rng.normal(0, 0.3, n)
    return pd.DataFrame({"g": g, "x": x, "y": y})


@pytest.fixture(scope="module")
def table(seed):
    return opposite(seed=seed)


@pytest.fixture(scope="module", params=["gaussian-copula", "gmm"])
def by_model(request, table, seed):
    return synthgen.fit(table, model=request.param, by="g", seed=seed)


@pytest.mark.trained
def test_each_class_keeps_its_own_dependence_and_range(by_model, table, seed):
    out = by_model.sample(6000, seed=seed + 1)
    for cls in ("a", "b"):
        real, synth = table[table["g"] == cls], out[out["g"] == cls]
        r_real = np.corrcoef(real["x"], real["y"])[0, 1]
        r_synth = np.corrcoef(synth["x"], synth["y"])[0, 1]
        # seeds 0-9: within 0.011-0.016 (copula); seeds 0-4: 0.049-0.080 (gmm, factorised
        # components: a slope held only by which component a row comes from)
        assert abs(r_synth - r_real) < 0.15, (cls, r_real, r_synth)
        assert synth["x"].between(real["x"].min(), real["x"].max()).all()


@pytest.mark.trained
def test_class_shares_follow_the_table_rare_class_included(by_model, table, seed):
    out = by_model.sample(20_000, seed=seed + 2)
    real = table["g"].value_counts(normalize=True)
    synth = out["g"].value_counts(normalize=True)
    for cls in ("a", "b", "r"):
        assert abs(synth.get(cls, 0.0) - real[cls]) < 0.015, (
            cls,
            real[cls],
            synth.get(cls),
        )  # <= 0.006


@pytest.mark.trained
def test_without_by_the_copula_mixes_the_classes(table, seed):
    """What `by` is for: the plain copula conditioned on a class gets the sign wrong."""
    plain = synthgen.fit(table, model="gaussian-copula", seed=seed)
    b = plain.sample(3000, seed=seed + 1, where="g=b")
    assert np.corrcoef(b["x"], b["y"])[0, 1] > -0.5  # -0.21 to -0.10 (class b's own: -0.99)


@pytest.mark.trained
def test_where_on_the_class_column_is_that_class_alone(by_model, table, seed):
    out = by_model.sample(3000, seed=seed + 3, where="g=b")
    assert len(out) == 3000 and (out["g"] == "b").all()
    # copula -0.98; gmm -0.94 to -0.92 (seeds 0-4: components hold the slope, not a covariance)
    assert np.corrcoef(out["x"], out["y"])[0, 1] < -0.88
    rare = by_model.sample(500, seed=seed + 3, where="g=r")
    assert (rare["g"] == "r").all()


@pytest.mark.trained
def test_conditions_on_other_columns_pick_the_classes_that_meet_them(by_model, seed):
    """Only class b reaches x >= 22, and a y below -25 also needs b (shared conditions on two
    parts); x <= 5 is class a's, and the rare class r's (made by the whole table's model) now
    and then. Seeds 0-9: b 0.999-1 of the first rows, a 0.976-1 of the second."""
    out = by_model.sample(2000, seed=seed + 4, where=["x>=22", "y<=-25"])
    assert len(out) == 2000 and (out["x"] >= 22).all() and (out["y"] <= -25).all()
    assert (out["g"] == "b").mean() > 0.99
    low = by_model.sample(2000, seed=seed + 4, where="x<=5")
    assert (low["g"] == "a").mean() > 0.9


@pytest.mark.trained
def test_balance_and_fill(by_model, table, seed):
    balanced = by_model.sample(3000, seed=seed + 5, balance="g")
    assert balanced["g"].value_counts().to_dict() == {"a": 1000, "b": 1000, "r": 1000}
    n = 200
    partial = pd.DataFrame(
        {"g": ["b"] * n + [None] * 2 * n, "x": [None] * n + [25.0] * n + [3.0] * n, "y": None}
    )
    filled = by_model.fill(partial, seed=seed)
    given_b, at_25, at_3 = filled[:n], filled[n : 2 * n], filled[2 * n :]
    assert (given_b["g"] == "b").all() and (at_25["x"] == 25).all() and (at_3["x"] == 3).all()
    # class b's own model: its range and its falling y
    assert given_b["x"].between(20, 30).all() and (given_b["y"] < -15).all()
    # the class whose range holds the given x, and now and then the rare class (seeds 0-9:
    # 0.93-1 of the rows)
    assert (at_25["g"] == "b").mean() > 0.85 and (at_3["g"] == "a").mean() > 0.85


@pytest.mark.parametrize(
    "name",
    [
        "gaussian-copula",
        "gmm",
    ],
)
def test_a_class_never_comes_out_for_a_value_beyond_its_range(table, name):
    """Classes a (x in [0, 10]) and b ([20, 30]) have models of their own: rows given x = 25
    are never of class a, rows given x = 3 never of b, whatever the rare class does."""
    model = synthgen.fit(table, model=name, by="g", seed=0)
    partial = pd.DataFrame({"g": None, "x": [25.0] * 400 + [3.0] * 400, "y": None})
    filled = model.fill(partial, seed=1)
    assert (filled["g"][:400] != "a").all() and (filled["g"][400:] != "b").all()


def test_same_rows_after_a_round_trip_and_for_any_chunking(by_model, tmp_path):
    path = tmp_path / "by.synthgen"
    by_model.save(str(path))
    again = synthgen.load(str(path))
    assert again.sample(25_000, seed=6).equals(by_model.sample(25_000, seed=6))
    chunks = list(by_model.iter_sample(25_000, seed=6, chunk_rows=10_000))
    assert pd.concat(chunks, ignore_index=True).equals(by_model.sample(25_000, seed=6))


def test_crafted_class_states_are_refused(table):
    model = synthgen.fit(table, model="gaussian-copula", by="g", seed=0)
    state = model.to_state()
    state["fitted"]["strata"][0]["code"] = 99
    with pytest.raises(ValueError, match="out of range"):
        type(model).from_state(state)
    state = model.to_state()
    state["fitted"]["strata"][0]["quantiles"] = state["fitted"]["strata"][0]["quantiles"][:1]
    with pytest.raises(ValueError):
        type(model).from_state(state)


@pytest.mark.parametrize("model", ["gaussian-copula", "gmm"])
def test_by_must_name_a_class_column(table, model):
    with pytest.raises(UsageError, match="not a column"):
        synthgen.fit(table, model=model, by="nope", seed=0)
    with pytest.raises(UsageError, match="numeric; it needs a categorical"):
        synthgen.fit(table, model=model, by="x", seed=0)


def test_describe_names_the_classes_with_a_copula_of_their_own(table):
    model = synthgen.fit(table, model="gaussian-copula", by="g", seed=0)
    assert model.describe()["copula_per_class"]["classes"] == ["a", "b"]


@pytest.mark.trained
def test_cli_fit_by_then_where(table, tmp_path, capsys, seed):
    from tests.test_conditional import run_cli

    data, model = tmp_path / "t.csv", tmp_path / "t.synthgen"
    table.to_csv(data, index=False)
    for bad, words in ((["--by", "x"], "numeric"), (["-m", "cart", "--by", "g"], "--by")):
        code, _, err = run_cli(["fit", str(data), "-o", str(model), "-q", *bad], capsys)
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
        assert not model.exists()
    args = ["fit", str(data), "-o", str(model), "-q", "--by", "g", "--seed", str(seed)]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    code, out, err = run_cli(["sample", str(model), "-n", "200", "--where", "g=b", "-o", "-",
                              "--seed", str(seed + 1)], capsys)  # fmt: skip
    rows = pd.read_csv(__import__("io").StringIO(out))
    assert code == 0 and len(rows) == 200 and (rows["g"] == "b").all()
    assert np.corrcoef(rows["x"], rows["y"])[0, 1] < -0.9  # -0.985 to -0.977


@pytest.mark.trained
def test_missing_values_of_the_class_column_are_a_class_of_their_own(seed):
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b"], 3000).astype(object)
    g[rng.random(3000) < 0.1] = None
    x = np.where(g == "a", 0.0, 10.0) + rng.normal(0, 1, 3000)
    x[pd.isna(g)] = 50 + rng.normal(0, 1, int(pd.isna(g).sum()))
    model = synthgen.fit(pd.DataFrame({"g": g, "x": x}), by="g", seed=seed)
    assert sorted(model.describe()["copula_per_class"]["classes"]) == ["(missing)", "a", "b"]
    out = model.sample(5000, seed=seed + 1)
    assert abs(out["g"].isna().mean() - pd.isna(g).mean()) < 0.02  # the table's: within 0.008
    missing = x[pd.isna(g)]  # the class's own model: its range, around 50
    assert out.loc[out["g"].isna(), "x"].between(missing.min(), missing.max()).all()


@pytest.mark.parametrize("name", ["gaussian-copula", "gmm"])
def test_a_value_beyond_every_class_is_still_filled(table, name):
    """No class reaches x = 1000: the rows are still filled (each class by its edge), with the
    given value kept, rather than refused, when unseen values are allowed."""
    model = synthgen.fit(table, model=name, by="g", seed=0)
    partial = pd.DataFrame({"g": None, "x": [1000.0] * 50, "y": None})
    filled = model.fill(partial, seed=1, allow_unseen=True)
    assert (filled["x"] == 1000).all() and filled["g"].notna().all()
