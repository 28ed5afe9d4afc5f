"""The mixture model (`--model gmm`): clusters recovered, k chosen, state kept, tails, spikes and
sums honest.

The contract battery (tests/test_contract.py) covers types, nulls, seeds, chunking and bounds;
these tests cover what is particular to a mixture.

Margins of the tests marked `trained`: the values each assert saw on seeds 0-4 (the factorised
mixture, numpy only: no torch kernels) are in its comment; those of the correlations within a
component (state version 3), on seeds 0-9.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.errors import UsageError
from tests.conftest import unruled, with_rejection

CENTRES = {"north": (0.0, 100), "east": (40.0, 300), "west": (-40.0, 500)}
FAST = {"max_components": 8, "component_rows": None}
# The manifest keys `modelfile.dumps` writes itself.
_FILE_KEYS = ("format", "format_version", "synthgen_version", "numpy_version", "arrays", "checksum")


def planted_clusters(n_per: int = 300, seed: int = 0) -> pd.DataFrame:
    """Three well-separated clusters, each with its own region (and mostly its own vip flag)."""
    rng = np.random.default_rng(seed)
    frames = [
        pd.DataFrame(
            {
                "x": np.round(rng.normal(x, 2.0, n_per), 3),
                "y": rng.normal(y, 10, n_per).round().astype(int),
                "region": name,
                "vip": rng.random(n_per) < (0.9 if name == "east" else 0.1),
            }
        )
        for name, (x, y) in CENTRES.items()
    ]
    table = pd.concat(frames, ignore_index=True)
    return table.sample(frac=1, random_state=seed).reset_index(drop=True)


@pytest.fixture(scope="module")
def planted(seed) -> pd.DataFrame:
    return planted_clusters(seed=seed)


@pytest.fixture(scope="module")
def fitted(planted, seed):
    return synthgen.fit(planted, model="gmm", seed=seed, **FAST)


@pytest.mark.trained
def test_samples_keep_each_cluster_with_its_category(planted, fitted, seed):
    out = fitted.sample(5000, seed=seed + 1)
    for name, (x, y) in CENTRES.items():
        rows = out[out["region"] == name]
        assert 0.28 < len(rows) / len(out) < 0.39, name  # 0.32-0.35
        # 0.975-1: x and y are linked to the region, and a few sums mapped onto the column's
        # distribution land in a neighbouring cluster
        assert (rows["x"].sub(x).abs() < 8).mean() > 0.96, name
        assert (rows["y"].sub(y).abs() < 40).mean() > 0.96, name  # 0.976-1
        # the cluster's own share of vips (the table's, not the 0.9 or 0.1 it was drawn with)
        real_vip = planted.loc[planted["region"] == name, "vip"].mean()
        assert abs(rows["vip"].mean() - real_vip) < 0.05, name  # 0-0.015
    between = out["x"].abs().between(10, 30)
    assert between.mean() < 0.01  # 0.0008-0.0024


@pytest.fixture(scope="module")
def unlabelled(planted) -> pd.DataFrame:
    """The clusters without their region: only the components can tell them apart (with the
    region, each number is set from it by a link and fewer components are needed)."""
    return planted[["x", "y", "vip"]]


@pytest.mark.trained
def test_chooses_about_three_components(unlabelled, seed):
    for fit_seed in (seed, seed + 1, seed + 2):
        info = synthgen.fit(unlabelled, model="gmm", seed=fit_seed, **FAST).describe()
        assert info["components"] in (3, 4), (fit_seed, info["heldout_loglik_per_row"])
        scores = info["heldout_loglik_per_row"]
        # two components are clearly too few: the best k scores 0.50-0.71 more per row
        assert scores["2"] < max(scores.values()) - 0.3


def test_components_fixes_k(planted):
    model = synthgen.fit(planted, model="gmm", seed=0, components=5)
    info = model.describe()
    assert info["components"] == 5 and info["chosen_by"] == "fixed"
    assert info["heldout_loglik_per_row"] == {}


@pytest.mark.trained
def test_describe_shows_what_characterises_each_component(unlabelled, seed):
    info = synthgen.fit(unlabelled, model="gmm", seed=seed, components=3).describe()
    assert abs(sum(c["weight"] for c in info["list"]) - 1) < 1e-3
    found = set()
    for comp in info["list"]:  # centres within 0.5 and 4 of the planted ones; weights 0.333
        name, (x, y) = min(CENTRES.items(), key=lambda kv: abs(kv[1][0] - comp["centre"]["x"]))
        found.add(name)
        assert abs(comp["centre"]["x"] - x) < 3 and abs(comp["centre"]["y"] - y) < 15
        assert comp["weight"] > 0.25
        vip = comp["distinctive"]["vip"]  # east's vips (share 0.87-0.92), the others' non-vips
        assert vip["value"] == (name == "east") and vip["share"] > 0.8, (name, vip)
    assert found == set(CENTRES)


def test_describe_says_nothing_of_a_pool_no_row_holds():
    # stand-ins take a rare category's rows, so its pooled code holds none: 0 * log(0) warned
    # on stderr under `synthgen inspect` (causaldata's Cai_2015, 148 villages)
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"c": rng.choice(list("abcd"), 400), "x": rng.normal(size=400)})
    table.loc[0, "c"] = "zz"
    model = synthgen.fit(table, model="gmm", seed=0, components=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = model.describe()
    assert all(np.isfinite(comp["distinctive"]["c"]["share"]) for comp in info["list"])


def test_same_seed_same_model_other_seed_other_rows(planted, fitted, seed):
    again = synthgen.fit(planted, model="gmm", seed=seed, **FAST)
    np.testing.assert_array_equal(fitted.part_probs_, again.part_probs_)
    pd.testing.assert_frame_equal(fitted.sample(500, seed=3), again.sample(500, seed=3))
    assert not fitted.sample(500, seed=3).equals(fitted.sample(500, seed=4))


def test_model_file_round_trip_keeps_components(fitted, tmp_path):
    path = tmp_path / "gmm.synthgen"
    fitted.save(str(path))
    loaded = synthgen.load(str(path))
    assert loaded.describe() == fitted.describe()
    np.testing.assert_array_equal(loaded.part_probs_, fitted.part_probs_)
    pd.testing.assert_frame_equal(loaded.sample(700, seed=5), fitted.sample(700, seed=5))


@pytest.mark.trained
def test_marginal_is_the_real_one_even_with_one_component(seed):
    """One Gaussian cannot be bimodal, but sampling maps back through the column's quantiles."""
    rng = np.random.default_rng(seed)
    real = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 1000), rng.lognormal(3, 0.5, 1000)]})
    out = synthgen.fit(real, model="gmm", seed=seed, components=1).sample(5000, seed=seed)
    grid = np.quantile(real["x"], np.linspace(0.05, 0.95, 19))
    real_cdf = (real["x"].to_numpy()[:, None] <= grid).mean(axis=0)
    synth_cdf = (out["x"].to_numpy()[:, None] <= grid).mean(axis=0)
    assert np.abs(real_cdf - synth_cdf).max() < 0.03  # 0.005-0.014


@pytest.mark.trained
def test_a_lone_extreme_value_is_not_smeared_into_many_outliers(seed):
    """Quantile knots inside the outermost interval: the gap up to one extreme row is not filled
    evenly with 0.1% of the sample (the default spacing of 1,001 knots)."""
    rng = np.random.default_rng(seed)
    real = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 10_000), [1000.0]]})
    model = synthgen.fit(real, model="gmm", seed=seed, components=1, rare_threshold=1)
    out = model.sample(20_000, seed=seed)
    assert (out["x"] > 10).sum() <= 8  # 1-3 (spread evenly: about 20)
    assert out["x"].max() <= 1000.0


@pytest.mark.parametrize("columns", [["region", "vip"], ["x", "y"], []])
def test_tables_with_only_one_kind_of_part(planted, columns):
    table = planted[columns].assign(key=np.arange(len(planted)))  # key: an id, no parts
    model = synthgen.fit(table, model="gmm", seed=0, **FAST)
    out = model.sample(200, seed=0)
    assert list(out.columns) == list(table.columns) and len(out) == 200
    if "region" in columns:
        assert set(out["region"]) <= set(CENTRES)


@pytest.mark.parametrize("params", [{"components": 0}, {"max_components": 0}, {"max_iter": 0}])
def test_bad_parameters_are_usage_errors(planted, params):
    with pytest.raises(UsageError, match="at least 1"):
        synthgen.fit(planted, model="gmm", **params)


@pytest.mark.trained
def test_report_finds_no_mode_collapse_in_gmm_samples(planted, fitted, seed):
    from synthgen.compare.values import prepare
    from synthgen.report import collapse

    real = prepare(planted, fitted.schema_, "real")
    result = collapse.assess(
        real, prepare(fitted.sample(len(planted), seed=seed + 2), fitted.schema_, like=real)
    )
    assert result["verdict"] == "none", result["reasons"]  # on every seed and kernel
    assert result["prdc"]["verdict"] == "none"


# ---- conditioning through the components ------------------------------------------------------


@pytest.fixture(scope="module")
def conditioned(seed):
    from tests.test_conditional import planted as planted_table

    table = planted_table(seed=seed)
    return table, synthgen.fit(table, model="gmm", seed=seed, max_components=8)


@pytest.mark.trained
@pytest.mark.parametrize("where", ["group=A", "x>=6", ["group=A", "flag=True"], ["x>=3", "y<=14"]])
def test_conditions_equal_the_models_own_rejection_conditional(conditioned, where, seed):
    _, model = conditioned
    exact = model.sample(4000, seed=seed + 1, where=where)
    reject = with_rejection(model).sample(4000, seed=seed + 1, where=where)
    # gaps of at most 0.13 (bound 0.24-0.36), 0.053, 0.019 and 0.007; two ranges (drawn by Gibbs
    # sweeps where y is not linked), seeds 0-9: 0.26 of the bound, 0.038, 0.022 and 0.014
    for col in ("x", "y"):
        assert abs(exact[col].mean() - reject[col].mean()) < 0.1 * reject[col].std() + 0.05
        assert abs(exact[col].std() / reject[col].std() - 1) < 0.1
    assert abs(exact["flag"].mean() - reject["flag"].mean()) < 0.04
    assert (
        exact["group"]
        .value_counts(normalize=True)
        .sub(reject["group"].value_counts(normalize=True), fill_value=0)
        .abs()
        .max()
        < 0.03
    )


@pytest.mark.trained
def test_rare_condition_equals_rejection_from_the_same_model(conditioned, seed):
    table, model = conditioned
    out = model.sample(2000, seed=seed + 2, where=["group=R", "y<=5"])
    assert len(out) == 2000 and (out["group"] == "R").all() and (out["y"] <= 5).all()
    # 2,000 against 500 rows: the gap was up to 0.51 of the bound (seeds 0-11); now smaller
    exact = model.sample(4000, seed=seed + 2, where="group=R")
    reject = with_rejection(model).sample(2000, seed=seed + 2, where="group=R")
    assert abs(exact["x"].mean() - reject["x"].mean()) < 0.15 * reject["x"].std()  # <= 0.11
    # the rare group's low values: 2.7-6.3 below the 10% quantile (the 5% one: within 0.9)
    assert out["x"].mean() < table["x"].quantile(0.1)


@pytest.mark.trained
def test_fill_follows_the_given_cells(conditioned, seed):
    table, model = conditioned
    rows = pd.DataFrame({"group": ["A"] * 200 + [None] * 200, "y": [None] * 200 + [4.0] * 200})
    filled = model.fill(rows, seed=seed + 3)
    assert (filled["group"].iloc[:200] == "A").all() and (filled["y"].iloc[200:] == 4.0).all()
    assert filled["x"].iloc[:200].mean() > 3  # group A: high x (5.1-6.0)
    assert filled["x"].iloc[200:].mean() < -5  # y = 4: low x (-9.3 to -8.7)
    assert (filled["group"].iloc[200:] != "A").mean() > 0.95  # 1


# ---- what the intervals and links keep -----------------------------------------------------------


@pytest.mark.trained
def test_a_spike_and_integers_come_out_as_they_went_in(seed):
    """A zero-inflated column keeps its share of exact zeros (an interval of its own), an
    integer column only its own values, a bounded one its bounds."""
    rng = np.random.default_rng(seed)
    n = 3000
    gain = np.where(rng.random(n) < 0.9, 0.0, np.round(rng.lognormal(8, 1, n)))
    table = pd.DataFrame(
        {"gain": gain, "age": rng.integers(17, 91, n), "share": rng.beta(2, 5, n).round(4)}
    )
    out = synthgen.fit(table, model="gmm", seed=seed).sample(20_000, seed=seed)
    assert abs((out["gain"] == 0).mean() - (gain == 0).mean()) < 0.01  # 0.000-0.004
    assert out.loc[out["gain"] > 0, "gain"].min() >= gain[gain > 0].min()
    assert set(out["age"]) <= set(table["age"])
    assert out["share"].between(table["share"].min(), table["share"].max()).all()


@pytest.mark.trained
def test_a_total_stays_the_sum_of_its_terms(seed):
    """A number the others set (a total and its terms) is linked: drawn as the sum plus the
    residual the mixture models, so the sum's relation holds in the samples. (Without the
    table's rules, which would keep the total as a gap above its terms themselves.)"""
    rng = np.random.default_rng(seed)
    n = 3000
    fare = np.round(rng.gamma(2, 6, n), 1)
    tip = np.round(fare * rng.choice([0.0, 0.15, 0.2], n), 2)
    extra = rng.choice([0.5, 0.8, 3.3], n)
    table = pd.DataFrame({"fare": fare, "tip": tip, "total": fare + tip + extra})
    model = synthgen.fit(table, model="gmm", schema=unruled(table), seed=seed)
    assert model.links_[2] is not None and model.links_[2][0] == "values"
    out = model.sample(10_000, seed=seed)
    gap = out["total"] - out["fare"] - out["tip"]
    assert gap.between(-0.5, 4.5).mean() > 0.9  # 0.96-0.98 (drawn independently: 0.2)
    assert abs(out["total"].median() / table["total"].median() - 1) < 0.05  # 0.00-0.02
    # a range of the linked total is met (the draws that meet it kept)
    high = model.sample(500, seed=seed, where="total>=30")
    assert (high["total"] >= 30).all() and high["fare"].mean() > 20  # 23.5-25.0


def test_no_link_is_fitted_from_more_coefficients_than_half_the_rows():
    """40 rows of 60 independent numbers: a least-squares fit of column j on the j before it
    explains all of it once j reaches the rows, so the later columns were all linked (and a
    fund table of 50 rows and 2,000 returns took 233 s to fit, in 5,500 such fits per 500
    columns); a total of the first two is still linked."""
    from synthgen.models.gmm_numbers import links

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 60))
    x[:, 2] = x[:, 0] + x[:, 1]
    found = links(x, x, np.zeros((40, 0)))
    assert found[2] is not None
    assert all(link is None for link in found[3:])


def test_a_model_file_of_an_unknown_state_version_is_refused_with_its_reason(fitted, tmp_path):
    from synthgen import modelfile

    path = tmp_path / "gmm.synthgen"
    fitted.save(str(path))
    state = modelfile.read_state(path)
    state["fitted"]["version"] = 4  # (files without a version: tests/test_gmm_gaussian.py)
    with pytest.raises(ValueError, match="state version 4, which this synthgen does not read"):
        type(fitted).from_state(state)


# ---- numbers correlated within a component (state version 3) ----------------------------------


@pytest.fixture(scope="module")
def correlated(seed) -> pd.DataFrame:
    """Two numbers tied within each of two groups (corr 0.9), a third independent of both."""
    rng = np.random.default_rng(seed)
    n = 2000
    group = rng.choice(["a", "b"], n)
    x = rng.normal(0, 1, n)
    y = 0.9 * x + np.sqrt(1 - 0.81) * rng.normal(0, 1, n)
    return pd.DataFrame(
        {
            "group": group,
            "x": x + np.where(group == "a", 0.0, 10.0),
            "y": np.round(np.exp(y), 3),  # skewed: the tie is of ranks, not of values
            "z": rng.normal(0, 1, n),
        }
    )


@pytest.mark.trained
def test_numbers_keep_their_correlation_within_a_component(correlated, seed):
    model = synthgen.fit(
        correlated, model="gmm", seed=seed, schema=unruled(correlated), components=2
    )
    out = model.sample(4000, seed=seed + 1)
    for name in ("a", "b"):
        real = correlated[correlated["group"] == name]
        rows = out[out["group"] == name]
        tie = real[["x", "y"]].corr("spearman").iloc[0, 1]
        drawn = rows[["x", "y"]].corr("spearman").iloc[0, 1]
        assert abs(drawn - tie) < 0.2, name  # 0.000-0.141 (independent: the tie lost)
        assert abs(rows[["x", "z"]].corr("spearman").iloc[0, 1]) < 0.1, name  # 0.000-0.071


@pytest.mark.trained
def test_a_range_of_one_number_moves_the_numbers_tied_to_it(correlated, seed):
    model = synthgen.fit(
        correlated, model="gmm", seed=seed, schema=unruled(correlated), components=2
    )
    high = model.sample(2000, seed=seed + 1, where="x>=1")
    real = correlated[correlated["group"] == "a"]
    assert (high["x"] >= 1).all()
    # y given x >= 1 in group a (and always in b): its real median, not the whole group's
    want = real.loc[real["x"] >= 1, "y"].median()
    assert abs(high.loc[high["group"] == "a", "y"].median() / want - 1) < 0.35  # 0.012-0.243
    # independent within the component: the group's median, 1x
    assert high.loc[high["group"] == "a", "y"].median() > 2 * real["y"].median()  # 2.83-4.16x


def test_a_model_file_of_state_version_2_samples_what_it_did(tmp_path):
    """tests/data/gmm-0.2.synthgen was saved at commit 330063a (state version 2: numbers
    independent within a component): `synthgen.fit(penguins, model="gmm", seed=0,
    components=3)`, and gmm-0.2-sample.csv is what it drew there with `.sample(12, seed=3)`;
    saved again, it stays version 2."""
    import io
    from pathlib import Path

    from synthgen import modelfile

    data = Path(__file__).parent / "data"
    model = synthgen.load(str(data / "gmm-0.2.synthgen"))
    drawn = pd.read_csv(io.StringIO(model.sample(12, seed=3).to_csv(index=False)))
    pd.testing.assert_frame_equal(drawn, pd.read_csv(data / "gmm-0.2-sample.csv"), check_exact=True)
    model.save(str(tmp_path / "again.synthgen"))
    state = modelfile.read_state(tmp_path / "again.synthgen")["fitted"]
    assert state["version"] == 2 and "correlations" not in state
    assert len(model.sample(50, seed=1, where="body_mass_g>=5000")) == 50


def test_a_model_file_whose_correlations_are_not_a_correlation_matrix_is_refused(
    correlated, tmp_path
):
    from synthgen import modelfile
    from synthgen.errors import ModelFileError

    model = synthgen.fit(correlated, model="gmm", seed=0, components=2)
    path = tmp_path / "gmm.synthgen"
    model.save(str(path))
    state = modelfile.read_state(path)
    assert state["fitted"]["version"] == 3
    body = {k: v for k, v in state.items() if k not in _FILE_KEYS}
    body["fitted"]["correlations"][0, 0, 1] = 2.0
    body["fitted"]["correlations"][0, 1, 0] = 2.0
    path.write_bytes(modelfile.dumps(body))
    with pytest.raises(ModelFileError, match="not a correlation matrix"):
        synthgen.load(str(path))


def _level_by_two_searches(values, probs, x):
    """`gmm_numbers.level` as first written: both sides searched (the reference)."""
    a = np.searchsorted(values, x, side="left")
    b = np.searchsorted(values, x, side="right")
    last = len(values) - 1
    lo, hi = np.clip(a - 1, 0, last), np.clip(a, 0, last)
    span = values[hi] - values[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(span > 0, (x - values[lo]) / span, 0.0)
    between = probs[lo] + np.clip(frac, 0.0, 1.0) * (probs[hi] - probs[lo])
    on = (probs[np.minimum(a, last)] + probs[np.clip(b - 1, 0, last)]) / 2
    return np.where(b > a, on, between)


@pytest.mark.parametrize("seed", range(5))
def test_level_reads_runs_of_equal_knots_as_a_second_search_would(seed):
    # knots with long runs (spikes), x on knots, between, outside and missing
    rng = np.random.default_rng(seed)
    knots = np.sort(np.round(rng.exponential(3.0, 200), int(rng.integers(0, 2))))
    knots[:40] = knots[0]  # a spike at the bottom, and one at the top
    knots[-25:] = knots[-1]
    probs = np.linspace(0.0, 1.0, len(knots))
    x = np.r_[rng.choice(knots, 500), rng.uniform(-1, knots[-1] + 1, 500), np.nan, -np.inf, np.inf]
    from synthgen.models.gmm_numbers import level

    got, want = level(knots, probs, x), _level_by_two_searches(knots, probs, x)
    assert np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize("seed", range(5))
def test_guided_codes_are_the_codes_a_count_of_cut_points_gives(seed):
    # cut points with ties, zeros and ones; draws on cut points and on the guide's cell starts
    from synthgen.models.gmm import _code_guide, _codes_at, _codes_guided, _cuts

    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(int(rng.integers(2, 40)), 0.3), size=int(rng.integers(1, 60)))
    probs[probs < 0.02] = 0.0  # codes no row of a component takes: tied cut points
    cuts = _cuts(probs)
    k, m = cuts.shape
    n = 4000
    comp = rng.integers(0, k, n)
    cells = 4 * (m + 1)
    u = np.r_[rng.random(n), cuts[comp[:500], 0], np.arange(cells) / cells, 0.0]
    comp = np.r_[comp, comp[:500], np.zeros(cells + 1, dtype=int)]
    assert (_codes_guided(cuts, _code_guide(cuts), comp, u) == _codes_at(cuts, comp, u)).all()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("side", ["left", "right"])
def test_search_sorted_finds_what_a_binary_search_finds(seed, side):
    # knots with runs of equal values, values on knots, on the look-up's cell starts, between,
    # outside the range and missing
    from synthgen.models.gmm_numbers import _GUIDE_CELLS, search_sorted

    rng = np.random.default_rng(seed)
    knots = np.sort(np.round(rng.lognormal(0.0, 1.5, 400), int(rng.integers(0, 3))))
    knots[:50] = knots[0]
    knots[200:260] = knots[200]  # a crowded cell
    cells = _GUIDE_CELLS * len(knots)
    starts = knots[0] + (knots[-1] - knots[0]) / cells * np.arange(cells + 1)
    x = np.r_[
        rng.choice(knots, 3000),
        rng.uniform(knots[0] - 1, knots[-1] + 1, 3000),
        starts,
        np.nextafter(starts, -np.inf),
        [np.nan, np.inf, -np.inf, knots[-1], knots[0]],
    ]
    assert (search_sorted(knots, x, side) == np.searchsorted(knots, x, side=side)).all()
    # the gmm's component draw: one distribution's cumulative weights, zero weights tied
    weights = np.cumsum(rng.dirichlet(np.full(40, 0.3)).round(3))
    u = np.r_[rng.random(4000), weights[:-1]]
    assert (search_sorted(weights, u, side) == np.searchsorted(weights, u, side=side)).all()
