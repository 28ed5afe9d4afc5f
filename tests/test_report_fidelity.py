"""Fidelity scores: SDMetrics' QualityReport definitions, checked against sdmetrics itself."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.report import fidelity
from synthgen.schema import Schema, detect


def split(table: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """80/20 split, as the datasets' protocol."""
    order = np.random.default_rng(seed).permutation(len(table))
    cut = int(0.8 * len(table))
    return (
        table.iloc[order[:cut]].reset_index(drop=True),
        table.iloc[order[cut:]].reset_index(drop=True),
    )


def sdmetrics_metadata(schema: Schema) -> dict:
    """SDMetrics' single-table metadata for a synthgen schema."""
    sdtypes = {
        "numeric": "numerical",
        "categorical": "categorical",
        "constant": "categorical",
        "boolean": "boolean",
        "datetime": "datetime",
        "id": "id",
        "text": "text",
    }
    columns = {}
    for col in schema.columns:
        columns[col.name] = {"sdtype": sdtypes[col.kind]}
        if col.kind == "datetime" and col.format:
            columns[col.name]["datetime_format"] = col.format
    return {"columns": columns}


def sdmetrics_frame(table: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The table typed with plain pandas calls (independently of synthgen's parsing)."""
    out = {}
    for col in schema.columns:
        s = table[col.name].astype(object).where(table[col.name].notna(), None)
        if col.kind == "numeric":
            out[col.name] = pd.to_numeric(s.str.strip() if s.map(type).eq(str).any() else s)
        elif col.kind == "datetime":
            out[col.name] = pd.to_datetime(s, format=col.format)
        elif col.kind == "boolean":
            true = str(col.true_value).lower()
            out[col.name] = s.map(lambda v, t=true: v if v is None else str(v).lower() == t)
        else:
            out[col.name] = s
    return pd.DataFrame(out).astype({c.name: float for c in schema.columns if c.kind == "numeric"})


def sdmetrics_scores(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema) -> dict:
    pytest.importorskip("sdmetrics")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sdmetrics warns that the single-table report moves
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.generate(
            sdmetrics_frame(real, schema),
            sdmetrics_frame(synth, schema),
            sdmetrics_metadata(schema),
            verbose=False,
        )
    props = report.get_properties().set_index("Property")["Score"]
    return {
        "score": report.get_score(),
        "column_shapes": props["Column Shapes"],
        "column_pair_trends": props["Column Pair Trends"],
        "shapes": report.get_details("Column Shapes").set_index("Column")["Score"].to_dict(),
    }


@pytest.mark.sdv
@pytest.mark.parametrize("table", ["penguins", "penguins_raw"])
@pytest.mark.parametrize("synth_kind", ["holdout", "copula"])
def test_agrees_with_sdmetrics(request, table, synth_kind):
    pytest.importorskip("sdmetrics")
    real_all = request.getfixturevalue(table)
    train, holdout = split(real_all)
    schema = detect(train)
    if synth_kind == "holdout":
        synth = holdout
    else:
        synth = synthgen.fit(train, schema=schema, seed=0).sample(len(holdout), seed=0)
    ours = fidelity.Reference(train, schema)
    summary = ours.summary(synth)
    theirs = sdmetrics_scores(train, synth, schema)
    for key in ("score", "column_shapes", "column_pair_trends"):
        assert summary[key] == pytest.approx(theirs[key], abs=1e-6), key
    shapes = {s["column"]: s["score"] for s in ours.column_shapes(synth)}
    # sdmetrics adds 1e-6 to counts of categories only the synthetic table has
    assert shapes == pytest.approx(theirs["shapes"], abs=1e-6)


def test_identical_tables_score_one(penguins):
    assert fidelity.quality_score(penguins, penguins) == pytest.approx(1.0)


def test_raw_text_and_typed_frames_score_the_same(penguins):
    train, holdout = split(penguins)
    schema = detect(train)
    typed = holdout.copy()
    for name in ("bill_length_mm", "year"):
        typed[name] = pd.to_numeric(typed[name])
    assert fidelity.quality_score(train, typed, schema) == pytest.approx(
        fidelity.quality_score(train, holdout, schema), abs=1e-12
    )


def test_shapes_and_pairs_fall_for_broken_columns():
    rng = np.random.default_rng(0)
    n = 2000
    x = rng.normal(size=n)
    real = pd.DataFrame(
        {
            "x": x,
            "y": x * 2 + rng.normal(scale=0.3, size=n),
            "c": np.where(x > 0, "up", "down"),
        }
    )
    broken = real.copy()
    broken["y"] = rng.permutation(broken["y"].to_numpy())  # same marginal, no correlation
    broken["c"] = "up"
    ref = fidelity.Reference(real)
    shapes = {s["column"]: s for s in ref.column_shapes(broken)}
    assert shapes["x"]["score"] == pytest.approx(1.0)
    assert shapes["y"]["score"] == pytest.approx(1.0)
    assert shapes["c"]["score"] == pytest.approx(1 - (real["c"] == "down").mean())
    assert shapes["c"]["coverage"] == 0.5
    pairs = {(p["column_1"], p["column_2"]): p for p in ref.column_pair_trends(broken)}
    assert pairs[("x", "y")]["counted"]
    assert pairs[("x", "y")]["score"] < 0.6
    assert pairs[("x", "c")]["metric"] == "ContingencySimilarity"
    assert ref.quality_score(broken) < 0.8


def test_missing_column_is_an_input_error(penguins):
    from synthgen.errors import InputError

    with pytest.raises(InputError, match="lacks column"):
        fidelity.quality_score(penguins, penguins.drop(columns=["island"]))


def test_correlation_matrix_is_pearson_over_each_pairs_rows():
    """The pair trends' Pearson r, all pairs in one matrix product, against scipy pair by pair
    over the rows where both are present: nulls, a constant column, a column constant where
    another is present, a column of large values, an empty one, one row in common."""
    from scipy.stats import pearsonr

    from synthgen.compare.fidelity import _pearson_matrix

    rng = np.random.default_rng(0)
    n = 200
    base = rng.normal(size=n)
    cols = {
        "a": base,
        "b": base * 3 + rng.normal(size=n),
        "big": 1e9 + 1e3 * base + rng.normal(size=n),
        "const": np.full(n, 2.5),
        "holes": np.where(rng.random(n) < 0.3, np.nan, -base + rng.normal(size=n)),
        "empty": np.full(n, np.nan),
        "one": np.where(np.arange(n) == 7, 1.0, np.nan),
        "flat_where_holes": np.where(np.isnan(np.where(rng.random(n) < 0.3, np.nan, 0)), 1.0, 0.0),
    }
    x = np.column_stack(list(cols.values()))
    x[rng.random(x.shape) < 0.1] = np.nan
    r = _pearson_matrix(x)
    for i in range(x.shape[1]):
        for j in range(x.shape[1]):
            if i == j:
                continue
            keep = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            a, b = x[keep, i], x[keep, j]
            if len(a) < 2 or a.min() == a.max() or b.min() == b.max():
                assert np.isnan(r[i, j]), (i, j)
            else:
                assert r[i, j] == pytest.approx(pearsonr(a, b)[0], abs=1e-9), (i, j)
    assert np.isnan(_pearson_matrix(np.full((5, 2), 3.0))).all()
    no_nulls = x[:, :3][~np.isnan(x[:, :3]).any(axis=1)]
    assert _pearson_matrix(no_nulls)[0, 1] == pytest.approx(
        pearsonr(no_nulls[:, 0], no_nulls[:, 1])[0]
    )


def test_a_sample_binned_on_the_whole_tables_range():
    """`--model auto` scores a draw against held-out rows, whose range is narrower than the
    table's: binned on their own range (SDMetrics' way, right for a whole table) a draw that
    reaches the table's extremes is marked down for it, even real rows of that table (0.54 on
    the pair here); binned on the whole table's range (`spans`) they score as they should."""
    from synthgen.compare.fidelity import Reference, spans
    from synthgen.compare.values import prepare

    rng = np.random.default_rng(0)
    x = np.round(rng.lognormal(0, 1.0, 2000), 2)
    table = pd.DataFrame({"x": x, "c": np.where(x > np.median(x), "hi", "lo")})
    schema = detect(table)
    held = table[table.x < np.quantile(x, 0.97)].sample(400, random_state=0)
    rows = table.sample(1600, random_state=1)  # real rows, the extremes among them
    own = Reference(held.reset_index(drop=True), schema)
    whole = Reference(held.reset_index(drop=True), schema, spans=spans(prepare(table, schema)))
    assert own.summary(rows)["column_pair_trends"] < 0.7
    assert whole.summary(rows)["column_pair_trends"] > 0.85
    # a table scored against itself is binned as before
    assert spans(prepare(table, schema)) == {"x": (float(x.min()), float(x.max()))}
    assert Reference(table, schema, spans=spans(prepare(table, schema))).summary(rows) == (
        Reference(table, schema).summary(rows)
    )
