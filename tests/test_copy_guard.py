"""The copy guard of the copula and the gmms: drawn rows written as a unique training row are
drawn again; the rows two training rows hold are not guarded; the same rows however a sample
is sliced; model files with and without a guard; a crafted guard refused."""

from __future__ import annotations

import copy
import functools
import json

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen import modelfile
from synthgen.models.copy_guard import ROUNDS, CopyGuard
from tests.conftest import FAST_PARAMS
from tests.test_cli import PENGUINS, run_cli
from tests.test_hostile_states import _FILE_KEYS

GUARDED = ["gaussian-copula", "gmm", "gmm-gaussian"]
# every model that draws whole rows (ctgan's guard is the same code: checked on its rows too)
WHOLE_ROWS = [*GUARDED, pytest.param("ctgan", marks=pytest.mark.torch)]


def sparse(seed: int, n: int = 300) -> pd.DataFrame:
    """Few-valued columns whose rows each but a few training rows hold alone: a model of them
    lands on training rows by chance (a third to most of its rows, unguarded), though far more
    rows are likely than the table holds."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 30, n)
    return pd.DataFrame(
        {"a": a, "b": a + rng.integers(0, 4, n), "c": rng.choice(list("vwxyz"), n)}
    ).astype({"a": str, "b": str})


@functools.cache
def fitted_on_sparse(model: str, seed: int) -> tuple[pd.DataFrame, synthgen.Synthesizer]:
    """`sparse(seed)` and a model of it, fitted once for the tests that only sample."""
    real = sparse(seed)
    return real, synthgen.fit(real, model=model, seed=seed, **FAST_PARAMS.get(model, {}))


def copied(real: pd.DataFrame, synth: pd.DataFrame, unique_only: bool = True) -> float:
    keys = real.astype(str).apply(tuple, axis=1)
    counts = keys.value_counts()
    held = set(counts.index[counts == 1]) if unique_only else set(counts.index)
    return float(synth.astype(str).apply(tuple, axis=1).isin(held).mean())


@pytest.mark.parametrize("model", WHOLE_ROWS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_copies_of_unique_training_rows_are_drawn_again(model, seed):
    """Measured on seeds 0-5: unguarded, 0.30-0.49 of the rows copy a unique training row;
    guarded, at most 0.0023 (a row whose redraws all copy one is kept)."""
    real = sparse(seed)
    fitted = synthgen.fit(real, model=model, seed=seed, **FAST_PARAMS.get(model, {}))
    guarded = fitted.sample(3000, seed=seed)
    fitted.copy_guard_ = None
    unguarded = fitted.sample(3000, seed=seed)
    before, after = copied(real, unguarded), copied(real, guarded)
    assert before > 0.15, before
    assert after <= 0.02, (before, after)


@pytest.mark.parametrize("model", WHOLE_ROWS)
@pytest.mark.parametrize(
    "ask",
    [
        {"where": "c=v"},
        {"where": ["c=w", "a<=12"]},
        {"balance": "c"},
    ],
)
def test_conditional_rows_are_guarded_too(model, ask, seed):
    """`--where` and `--balance` rows come through the guard as unconditional rows do (before:
    0.2-0.5 of them copied a unique training row), and still meet their conditions."""
    real, fitted = fitted_on_sparse(model, seed)
    guarded = fitted.sample(1500, seed=seed, **ask)
    loose = copy.copy(fitted)
    loose.copy_guard_ = None
    unguarded = loose.sample(1500, seed=seed, **ask)
    before, after = copied(real, unguarded), copied(real, guarded)
    assert before > 0.1, before
    assert after <= 0.02, (before, after)
    if "balance" in ask:
        assert guarded["c"].value_counts().max() - guarded["c"].value_counts().min() <= 1
    else:
        first = ask["where"] if isinstance(ask["where"], str) else ask["where"][0]
        assert (guarded["c"] == first[-1]).all()
        assert "a" not in first or (guarded["a"].astype(int) <= 12).all()


def test_rows_filled_in_are_guarded(seed):
    """Filling a row's empty cells does not write a unique training row whole (the given
    cells kept; before: 0.3-0.5 of the rows did, seeds 0-5)."""
    real = sparse(seed)
    fitted = synthgen.fit(real, model="gmm", seed=seed)
    given = pd.DataFrame({"c": list("vwxyz") * 300})
    filled = fitted.fill(given, seed=seed + 1)
    assert (filled["c"] == given["c"]).all()
    fitted.copy_guard_ = None
    loose = fitted.fill(given, seed=seed + 1)
    assert copied(real, loose) > 0.1
    assert copied(real, filled) <= 0.02


def test_rows_two_training_rows_hold_are_not_guarded():
    real = pd.concat([sparse(0, 100)] * 2, ignore_index=True)  # every row held twice
    fitted = synthgen.fit(real, model="gmm", seed=0)
    assert len(fitted.copy_guard_.unique) == 0
    assert copied(real, fitted.sample(1000, seed=0), unique_only=False) > 0.3


@pytest.mark.parametrize("model", GUARDED)
def test_the_same_rows_however_sliced_and_after_loading(model, tmp_path):
    fitted = synthgen.fit(sparse(3, 2000), model=model, seed=3)
    whole = fitted.sample_rows(0, 25_000, seed=5)
    parts = [fitted.sample_rows(a, b, seed=5) for a, b in ((0, 7000), (7000, 25_000))]
    pd.testing.assert_frame_equal(whole, pd.concat(parts, ignore_index=True))
    path = tmp_path / "m.synthgen"
    fitted.save(str(path))
    loaded = synthgen.load(str(path))
    assert loaded.copy_guard_.bits == fitted.copy_guard_.bits
    pd.testing.assert_frame_equal(loaded.sample_rows(0, 25_000, seed=5), whole)


def test_a_file_from_before_the_guard_loads_and_draws_unguarded(tmp_path):
    fitted = synthgen.fit(sparse(0), model="gmm", seed=0)
    state = fitted.to_state()
    del state["copy_guard"]
    old = synthgen.models.model_class("gmm").from_state(state)
    assert old.copy_guard_ is None
    fitted.copy_guard_ = None
    pd.testing.assert_frame_equal(old.sample(500, seed=1), fitted.sample(500, seed=1))


def test_models_without_a_guard_refuse_one():
    fitted = synthgen.fit(sparse(0), model="cart", seed=0)
    assert fitted.copy_guard_ is None and "copy_guard" not in fitted.to_state()
    state = {**fitted.to_state(), "copy_guard": {"bits": 12, "unique": np.array([1, 2])}}
    with pytest.raises(ValueError, match="no copy guard"):
        type(fitted).from_state(state)


@pytest.mark.parametrize(
    "guard, words",
    [
        ({"bits": 0, "unique": np.array([], dtype=np.uint64)}, "hash bits"),
        ({"bits": 12, "unique": np.array([5, 3], dtype=np.uint64)}, "not sorted"),
        ({"bits": 4, "unique": np.array([1, 99], dtype=np.uint64)}, "not sorted 4-bit"),
        ({"bits": 12}, "hash bits and hashes"),
        ({"bits": 12, "unique": np.array([0.5])}, "integers"),
    ],
)
def test_a_crafted_guard_is_refused_by_the_command(guard, words, tmp_path, capsys):
    fitted = synthgen.fit(sparse(0), model="gmm", seed=0)
    state = copy.deepcopy(fitted.to_state())
    state["copy_guard"] = guard
    path = tmp_path / "crafted.synthgen"
    path.write_bytes(modelfile.dumps({k: v for k, v in state.items() if k not in _FILE_KEYS}))
    code, _, err = run_cli(["sample", str(path), "-n", "5", "-o", str(tmp_path / "o.csv")], capsys)
    assert code == 4 and words in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o.csv").exists()


def test_a_guard_gives_up_after_its_rounds():
    """Where every likely row is a training row, a copy is kept after `ROUNDS` redraws."""
    guard = CopyGuard(8, np.arange(256, dtype=np.uint64))  # every 8-bit hash
    fitted = synthgen.fit(sparse(0), model="gmm", seed=0)
    data = fitted._sample_encoded(50, np.random.default_rng(0))
    calls = []

    def draw(rows):
        calls.append(len(rows))
        return fitted._sample_encoded(len(rows), np.random.default_rng(len(calls)))

    guard.redraw(fitted.encoder_, data, draw)
    assert calls == [50] * ROUNDS


@pytest.mark.parametrize("model", GUARDED)
def test_a_model_that_drew_no_copy_at_fit_keeps_no_hash(model, tmp_path, capsys):
    """Three fine numbers make a copy all but impossible (the copula draws each from the real
    values, but not three of one row): the trial draws find none, the guard holds no hash and
    the rows are those drawn without it; `inspect` says which."""
    rng = np.random.default_rng(0)
    real = pd.DataFrame(rng.normal(size=(500, 3)).round(6), columns=list("xyz"))
    real["g"] = rng.choice(list("ab"), 500)
    fitted = synthgen.fit(real, model=model, seed=0)
    assert len(fitted.copy_guard_.unique) == 0
    guarded = fitted.sample(3000, seed=2)
    fitted.copy_guard_ = None
    pd.testing.assert_frame_equal(guarded, fitted.sample(3000, seed=2))
    for table, words in ((real, "not guarded"), (sparse(0), "drawn again")):
        path = tmp_path / f"{words}.synthgen"
        synthgen.fit(table, model=model, seed=0).save(str(path))
        code, out, err = run_cli(["inspect", str(path), "--json"], capsys)
        assert code == 0 and words in json.loads(out)["details"]["copies"], err


def grid(seed: int) -> pd.DataFrame:
    """A grid of 32 seasons by 16 seeds, each row one team's season (Stat2Data's FinalFour):
    a first seed goes far, a sixteenth loses at once. Every likely row is a training row held
    once, so drawing copies again left mostly rows of the seeds that go far."""
    rng = np.random.default_rng(seed)
    year, rank = np.repeat(np.arange(1979, 2011), 16), np.tile(np.arange(1, 17), 32)
    wins = rng.binomial(4, np.clip(0.9 - 0.07 * rank, 0.0, 1.0) ** 2)
    return pd.DataFrame({"year": year, "seed": rank, "wins": wins, "losses": 4 - wins})


@pytest.mark.parametrize("model", WHOLE_ROWS)
def test_allow_copies_keeps_a_grid_of_seasons_as_it_is(model, tmp_path):
    """Guarded, most drawn rows are redrawn (the share the fit saw is above `SKEWS`) and the
    seeds come out far from uniform; with `allow_copies` no row is drawn again, the seeds are
    as real (within sampling), and the file keeps the option."""
    from synthgen.models.copy_guard import SKEWS

    real = grid(0)
    guarded = synthgen.fit(real, model=model, seed=0, **FAST_PARAMS.get(model, {}))
    assert guarded.copy_share_ > SKEWS
    kept = synthgen.fit(real, model=model, seed=0, allow_copies=True, **FAST_PARAMS.get(model, {}))
    assert kept.copy_guard_ is None and kept.params["allow_copies"] is True

    def skew(model_: synthgen.Synthesizer) -> float:  # total variation of the seeds' shares
        shares = model_.sample(4000, seed=1)["seed"].value_counts(normalize=True)
        return 0.5 * float((shares.reindex(range(1, 17), fill_value=0) - 1 / 16).abs().sum())

    # measured over seeds 0-2: guarded 0.33-0.39, kept 0.02-0.04 (ctgan 0.07-0.08)
    assert skew(kept) < 0.2 < skew(guarded)
    path = tmp_path / "m.synthgen"
    kept.save(str(path))
    again = synthgen.load(str(path))
    assert again.copy_guard_ is None
    assert again.sample(300, seed=2).equals(kept.sample(300, seed=2))


@pytest.mark.parametrize("model", ["gaussian-copula", "cart"])
def test_fit_says_when_the_guard_changes_the_table(model, tmp_path, capsys):
    """cart's own guard too: its draws copied a unique training row in 0.76 of rows."""
    data = tmp_path / "grid.csv"
    grid(1).to_csv(data, index=False)
    out = str(tmp_path / "m.synthgen")
    code, _, err = run_cli(["fit", str(data), "-m", model, "-o", out], capsys)
    assert code == 0 and "--allow-copies keeps them" in err, err
    args = ["fit", str(data), "-m", model, "-o", out, "--force", "--allow-copies"]
    code, _, err = run_cli(args, capsys)
    assert code == 0 and "allow-copies" not in err, err
    code, _, err = run_cli(["fit", PENGUINS, "-m", model, "-o", out, "--force"], capsys)
    assert code == 0 and "allow-copies" not in err, err  # a table of people's measurements
