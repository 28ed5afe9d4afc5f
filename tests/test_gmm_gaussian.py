"""gmm-gaussian: synthgen 0.1's gmm (full-covariance Gaussian components), kept for tables of
correlated numbers, and the model files that gmm wrote, which load through it.

tests/data/gmm-0.1.synthgen was saved by synthgen 0.1 (commit dad0c48):
`synthgen.fit(penguins, model="gmm", seed=0, components=2)`, and gmm-0.1-sample.csv is what it
drew there with `.sample(12, seed=3)`."""

from __future__ import annotations

import copy
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen import modelfile
from synthgen.errors import ModelFileError
from tests.conftest import unruled

DATA = Path(__file__).parent / "data"
# The manifest keys `modelfile.dumps` writes itself.
_FILE_KEYS = ("format", "format_version", "synthgen_version", "numpy_version", "arrays", "checksum")


def _csv_round_trip(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)))


def test_a_model_file_of_synthgen_0_1_s_gmm_samples_what_it_did():
    model = synthgen.load(str(DATA / "gmm-0.1.synthgen"))
    assert model.name == "gmm-gaussian" and len(model.weights_) == 2
    pd.testing.assert_frame_equal(
        _csv_round_trip(model.sample(12, seed=3)),
        pd.read_csv(DATA / "gmm-0.1-sample.csv"),
        check_exact=True,
    )


def test_inspect_names_the_model_that_loads_an_old_gmm_file(capsys):
    import json

    from synthgen.cli import main

    with pytest.raises(SystemExit):
        main(["inspect", str(DATA / "gmm-0.1.synthgen"), "--json"])
    info = json.loads(capsys.readouterr().out)
    assert (info["model"], info["saved_as"]) == ("gmm-gaussian", "gmm")
    with pytest.raises(SystemExit):
        main(["inspect", str(DATA / "gmm-0.1.synthgen")])
    assert "gmm-gaussian model (saved as gmm)" in " ".join(capsys.readouterr().out.split())


def test_a_crafted_file_of_the_old_gmm_is_checked_as_gmm_gaussian(tmp_path):
    """An old gmm file is refused for what makes a gmm-gaussian state inconsistent."""
    state = modelfile.read_state(DATA / "gmm-0.1.synthgen")
    body = {k: v for k, v in copy.deepcopy(state).items() if k not in _FILE_KEYS}
    body["fitted"]["cholesky"][0, 0, 0] = -1.0
    path = tmp_path / "old.synthgen"
    path.write_bytes(modelfile.dumps(body))
    with pytest.raises(ModelFileError, match="inconsistent gmm model.*not positive definite"):
        synthgen.load(str(path))


@pytest.mark.trained
def test_correlated_numbers_keep_their_correlation_within_each_class(seed):
    """What the full covariance is for: two numbers correlated within a class stay so."""
    rng = np.random.default_rng(seed)
    n = 600
    klass = rng.choice(["a", "b"], n)
    x = rng.normal(0, 1, n) + np.where(klass == "a", 0.0, 8.0)
    y = 2 * x + rng.normal(0, 0.3, n)
    table = pd.DataFrame({"klass": klass, "x": x, "y": y})
    model = synthgen.fit(table, model="gmm-gaussian", schema=unruled(table), seed=seed)
    out = model.sample(4000, seed=seed)
    for _, rows in out.groupby("klass"):
        assert rows["x"].corr(rows["y"]) > 0.9  # 0.953-0.978 over seeds 0-5 (real: 0.989)
