"""The battery every model passes (like scikit-learn's check_estimator): types preserved, nulls
reproduced, seeds reproducible, round trip through the model file, categories never invented,
bounds respected. A new model joins by registering itself and adding a line to FAST_PARAMS."""

from __future__ import annotations

import pandas as pd
import pytest

import synthgen
from synthgen.models import REGISTRY
from tests.conftest import FAST_PARAMS

MODELS = [
    pytest.param(
        name,
        marks=[
            pytest.mark.skipif(not REGISTRY[name].available(), reason="extra missing"),
            *([pytest.mark.sdv] if REGISTRY[name].extra == "sdv" else []),
        ],
    )
    for name in FAST_PARAMS
    if name in REGISTRY
]


@pytest.fixture(scope="module", params=MODELS)
def fitted(request):
    from tests.conftest import mixed_frame

    table = mixed_frame()
    model = synthgen.fit(table, model=request.param, seed=0, **FAST_PARAMS[request.param])
    return request.param, table, model


def test_columns_and_dtypes_preserved(fitted):
    _, table, model = fitted
    out = model.sample(300, seed=1)
    assert list(out.columns) == list(table.columns)
    assert len(out) == 300
    assert pd.api.types.is_integer_dtype(out["age"])
    assert pd.api.types.is_integer_dtype(out["id"])
    assert pd.api.types.is_float_dtype(out["income"])
    assert pd.api.types.is_bool_dtype(out["member"])
    assert pd.api.types.is_datetime64_any_dtype(out["joined"])


def test_nulls_only_where_real_had_them(fitted):
    _, table, model = fitted
    out = model.sample(2000, seed=2)
    for name in table.columns:
        if table[name].notna().all():
            assert out[name].notna().all(), name
    rate = out["income"].isna().mean()
    assert 0.04 < rate < 0.18, rate


def test_same_seed_same_rows_other_seed_other_rows(fitted):
    _, _, model = fitted
    a, b, c = model.sample(200, seed=5), model.sample(200, seed=5), model.sample(200, seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_chunking_does_not_change_rows(fitted):
    _, _, model = fitted
    whole = model.sample(25_000, seed=3)
    parts = pd.concat(list(model.iter_sample(25_000, seed=3, chunk_rows=10_000)), ignore_index=True)
    pd.testing.assert_frame_equal(whole, parts)


def test_round_trip_through_model_file(fitted, tmp_path):
    _, _, model = fitted
    path = tmp_path / "m.synthgen"
    model.save(str(path))
    again = synthgen.load(str(path), trust_pickle=model.requires_pickle)
    pd.testing.assert_frame_equal(model.sample(150, seed=9), again.sample(150, seed=9))


def test_categories_never_invented_rare_never_emitted(fitted):
    _, table, model = fitted
    out = model.sample(3000, seed=4)
    assert set(out["group"].dropna()) <= set(table["group"]) - {"unique-rare"}
    assert set(out["country"]) == {"NZ"}


def test_bounds_respected(fitted):
    _, table, model = fitted
    out = model.sample(3000, seed=7)
    assert out["age"].between(table["age"].min(), table["age"].max()).all()
    inc = out["income"].dropna()
    assert inc.between(table["income"].min(), table["income"].max()).all()
    assert out["joined"].between(table["joined"].min(), table["joined"].max()).all()


def test_keys_are_new_and_unique(fitted):
    _, table, model = fitted
    out = model.sample(500, seed=8)
    assert out["id"].is_unique
    assert not set(out["id"]) & set(table["id"])


def test_learns_dependence(fitted):
    """Age and income are strongly related in the real table; the sample keeps most of it."""
    _, table, model = fitted
    out = model.sample(3000, seed=10)
    real = table[["age", "income"]].dropna().corr().iloc[0, 1]
    synth = out[["age", "income"]].dropna().astype(float).corr().iloc[0, 1]
    assert synth > 0.5 * real


def test_zero_rows(fitted):
    _, table, model = fitted
    out = model.sample(0, seed=0)
    assert list(out.columns) == list(table.columns) and len(out) == 0


def test_dtypes_do_not_depend_on_the_chunk(fitted):
    """A nullable column keeps its nullable dtype in a chunk that happens to draw no null."""
    _, table, model = fitted
    tiny = model.sample(3, seed=11)
    big = model.sample(2000, seed=11)
    assert dict(tiny.dtypes) == dict(big.dtypes)
