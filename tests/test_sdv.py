"""SDV's synthesizers as peer models: same conventions as synthgen's models, pickles refused.

The contract battery runs every peer with its registered fast settings; here: the peers' rows
beside synthgen's own on a real table, seeds, what never reaches SDV, the model file's pickle
guard, and the missing extra.
"""

from __future__ import annotations

import importlib.util
import pickle

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen import modelfile
from synthgen.errors import MissingDependencyError, ModelFileError, UsageError
from synthgen.models import REGISTRY, create
from tests.conftest import mixed_frame

PEERS = {name: info.fast_params for name, info in REGISTRY.items() if info.extra == "sdv"}


@pytest.fixture(scope="module")
def copula_rows(penguins):
    return synthgen.fit(penguins, model="gaussian-copula", seed=0).sample(50, seed=1)


def _family(dtype) -> str:
    """int64 and Int64 alike: whether an integer column is nullable depends on the sample."""
    for family in ("bool", "integer", "float", "datetime64"):
        if getattr(pd.api.types, f"is_{family}_dtype")(dtype):
            return family
    return str(dtype)


@pytest.mark.sdv
@pytest.mark.parametrize("name", PEERS)
def test_peer_returns_rows_as_synthgen_models_do(name, penguins, copula_rows):
    pytest.importorskip("sdv")
    model = synthgen.fit(penguins, model=name, seed=0, **PEERS[name])
    rows = model.sample(50, seed=1)
    # same columns and the same representation as synthgen's own copula gives
    assert list(rows.columns) == list(penguins.columns)
    assert [_family(t) for t in rows.dtypes] == [_family(t) for t in copula_rows.dtypes]
    assert set(rows["species"]) <= set(penguins["species"])
    pd.testing.assert_frame_equal(rows, model.sample(50, seed=1))
    assert not rows.equals(model.sample(50, seed=2))
    assert len(model.sample(seed=3)) == len(penguins)  # default: as many rows as trained on


@pytest.mark.sdv
def test_fit_seed_makes_training_repeat():
    """TVAE's training is random (torch); the fit seed fixes it (on the CPU)."""
    pytest.importorskip("sdv")
    table = mixed_frame(120)[["age", "group"]]
    a, b, c = (synthgen.fit(table, model="sdv-tvae", seed=s, epochs=1) for s in (4, 4, 5))
    pd.testing.assert_frame_equal(a.sample(30, seed=0), b.sample(30, seed=0))
    assert not a.sample(30, seed=0).equals(c.sample(30, seed=0))


@pytest.mark.sdv
def test_callers_random_state_is_left_alone(penguins):
    pytest.importorskip("sdv")
    model = synthgen.fit(penguins, model="sdv-gaussian-copula", seed=0)
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    model.sample(20, seed=9)
    np.testing.assert_array_equal(np.random.random(3), expected)


@pytest.fixture(scope="module")
def sdv_model():
    pytest.importorskip("sdv")
    return synthgen.fit(mixed_frame(), model="sdv-gaussian-copula", seed=0)


@pytest.mark.sdv
def test_keys_text_and_rare_categories_never_reach_sdv(sdv_model):
    table = mixed_frame()
    given = sdv_model._to_sdv(table)
    assert "id" not in given.columns and "country" not in given.columns
    assert "unique-rare" not in set(given["group"])
    raw = sdv_model._get_state()["sdv_pickle"].tobytes()
    assert b"unique-rare" not in raw


def _forbid_unpickling(monkeypatch) -> None:
    import cloudpickle

    def refuse(*args, **kwargs):
        raise AssertionError("unpickled")

    for module in (pickle, cloudpickle):
        monkeypatch.setattr(module, "load", refuse)
        monkeypatch.setattr(module, "loads", refuse)


@pytest.mark.sdv
def test_loading_refuses_the_pickle_unless_trusted(sdv_model, tmp_path, monkeypatch):
    path = tmp_path / "peer.synthgen"
    sdv_model.save(str(path))
    assert modelfile.read_state(path)["requires_pickle"] is True
    _forbid_unpickling(monkeypatch)
    with pytest.raises(ModelFileError, match="trust_pickle=True"):
        synthgen.load(str(path))
    # the guard above is real: the trusted path does reach an unpickler
    with pytest.raises(AssertionError, match="unpickled"):
        synthgen.load(str(path), trust_pickle=True)
    monkeypatch.undo()
    again = synthgen.load(str(path), trust_pickle=True)
    pd.testing.assert_frame_equal(again.sample(40, seed=2), sdv_model.sample(40, seed=2))


@pytest.mark.sdv
def test_a_file_that_hides_its_pickle_is_still_refused(sdv_model, tmp_path, monkeypatch):
    state = sdv_model.to_state()
    del state["requires_pickle"]
    path = tmp_path / "hidden.synthgen"
    path.write_bytes(modelfile.dumps(state))
    _forbid_unpickling(monkeypatch)
    with pytest.raises(ModelFileError, match="loading it can run code"):
        synthgen.load(str(path))


@pytest.mark.sdv
def test_unknown_option_is_a_usage_error():
    pytest.importorskip("sdv")
    with pytest.raises(UsageError, match="epoch"):
        create("sdv-ctgan", epoch=3)


def test_without_the_extra_choosing_a_peer_says_how_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "sdv" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    table = pd.DataFrame({"x": [1.0, 2.0, 3.0] * 5})
    with pytest.raises(MissingDependencyError, match=r"pip install 'synthgen\[sdv\]'"):
        synthgen.fit(table, model="sdv-ctgan")


def test_synthgen_models_never_need_trust(tmp_path, monkeypatch):
    model = synthgen.fit(mixed_frame(), model="gaussian-copula", seed=0)
    path = tmp_path / "own.synthgen"
    model.save(str(path))
    assert "requires_pickle" not in modelfile.read_state(path)
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    pd.testing.assert_frame_equal(
        synthgen.load(str(path)).sample(5, seed=0), model.sample(5, seed=0)
    )


@pytest.mark.sdv
def test_cli_needs_trust_pickle_to_sample_but_inspects_without(sdv_model, tmp_path, capsys):
    from synthgen.cli import main

    path = tmp_path / "peer.synthgen"
    sdv_model.save(str(path))

    def run(*args):
        with pytest.raises(SystemExit) as info:
            main([*args])
        return info.value.code, capsys.readouterr()

    code, out = run("sample", str(path), "-n", "5", "-o", "-")
    assert code == 4 and "--trust-pickle" in out.err
    code, out = run("inspect", str(path), "--json")
    assert code == 0 and "trust-pickle" in out.out
    code, out = run("sample", str(path), "-n", "5", "-o", "-", "--trust-pickle", "--seed", "1")
    assert code == 0 and len(out.out.strip().splitlines()) == 6
