"""Shared fixtures: small real tables from sample_data/ and frames generated here."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.models import REGISTRY

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"

try:  # property tests: brief in the normal suite; --hypothesis-profile=long (or
    # SYNTHGEN_HYPOTHESIS=long) for a long run. No deadline: the machine may be busy.
    from hypothesis import settings

    settings.register_profile("quick", max_examples=25, deadline=None)
    settings.register_profile("long", max_examples=1000, deadline=None)
    settings.load_profile(os.environ.get("SYNTHGEN_HYPOTHESIS", "quick"))
except ImportError:
    pass

# Settings that make each model fast enough for a test (seconds, not minutes): each model's
# registration gives them (synthgen/models/__init__.py).
FAST_PARAMS: dict[str, dict] = {
    name: info.fast_params for name, info in REGISTRY.items() if info.fast_params is not None
}


# The core models, ctgan with a few epochs: keeping a rule is the transform's work, not the
# network's (the rules' tests).
CORE = ("gaussian-copula", "gmm", "cart", "ctgan")
RULE_PARAMS = {**FAST_PARAMS, "ctgan": {**FAST_PARAMS["ctgan"], "epochs": 3}}


def fit_core(table: pd.DataFrame, schema: synthgen.Schema | None = None) -> dict:
    """One model of `table` per core model (ctgan only where torch is installed), seed 0."""
    out = {}
    for name in CORE:
        if name == "ctgan" and not REGISTRY["ctgan"].available():
            continue
        out[name] = synthgen.fit(table, model=name, schema=schema, seed=0, **RULE_PARAMS[name])
    return out


def reloads_alike(model, path: Path) -> None:
    """`model` saved to `path` and loaded back samples exactly as it does."""
    model.save(str(path))
    loaded = synthgen.load(str(path))
    pd.testing.assert_frame_equal(loaded.sample(300, seed=7), model.sample(300, seed=7))


def refused_when_damaged(model, damage, path: Path) -> None:
    """A model file of `model` whose encoder state `damage` changed (in place) is refused
    with `ModelFileError`, not loaded."""
    from synthgen import modelfile
    from synthgen.errors import ModelFileError

    state = model.to_state()
    damage(state["encoder"])
    path.write_bytes(modelfile.dumps(state))
    with pytest.raises(ModelFileError):
        synthgen.load(str(path))


@pytest.fixture(scope="session")
def seed() -> int:
    """The seed of the trained-model tests (marked `trained`): their tables, fits and samples
    follow it. 0 unless SYNTHGEN_TEST_SEED says otherwise; `make test-kernels` runs them on
    other seeds under each of torch's CPU kernels, to measure their margins."""
    return int(os.environ.get("SYNTHGEN_TEST_SEED", "0"))


def unruled(table: pd.DataFrame) -> synthgen.Schema:
    """The table's schema without rules: the model on its own, not the transform that keeps
    the rules for every model."""
    schema = synthgen.detect(table)
    schema.rules = []
    return schema


def with_rejection(model):
    """The same fitted model, conditioning through the base class's default hook (bounded
    rejection from its unconditional draws): the yardstick a model's own conditioning is held
    to."""
    from synthgen.models.base import Synthesizer

    cls = type(f"Rejecting{type(model).__name__}", (type(model),), {})
    cls._sample_conditional = Synthesizer._sample_conditional
    return cls.from_state(model.to_state())


@pytest.fixture(scope="session")
def penguins() -> pd.DataFrame:
    from synthgen.io import read_table

    return read_table(SAMPLE_DATA / "penguins.csv")


@pytest.fixture(scope="session")
def penguins_raw() -> pd.DataFrame:
    from synthgen.io import read_table

    return read_table(SAMPLE_DATA / "penguins_raw.csv")


def mixed_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A typed frame with every column kind, nulls, a rare category and dependence."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    group = np.where(age > 50, "senior", np.where(rng.random(n) < 0.5, "junior", "mid"))
    group = group.astype(object)
    group[:2] = "unique-rare"  # rare: must never be emitted
    income = np.round(age * 1000 + rng.normal(0, 5000, n), 2)
    income_null = rng.random(n) < 0.1
    income = np.where(income_null, np.nan, income)
    when = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D")
    return pd.DataFrame(
        {
            "id": np.arange(1000, 1000 + n),
            "age": age,
            "group": group,
            "income": income,
            "member": rng.random(n) < 0.3,
            "joined": when,
            "country": "NZ",
        }
    )


def keyed_frame(n: int = 400) -> pd.DataFrame:
    """The mixed frame plus a text key of a narrow shape (AA-99: 67,600 keys), whose keys must
    be widened for big samples, and a text column of two spellings."""
    table = mixed_frame(n)
    rng = np.random.default_rng(1)
    table["code"] = [f"{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}-{i % 100:02d}" for i in range(n)]
    table["smoker"] = np.where(rng.random(n) < 0.3, "yes", "no").astype(object)
    table["count"] = pd.array(np.where(rng.random(n) < 0.05, None, rng.integers(0, 9, n)), "Int64")
    return table


@pytest.fixture
def mixed() -> pd.DataFrame:
    return mixed_frame()
