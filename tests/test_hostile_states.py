"""Model files crafted by someone who recomputes the checksum: the file is well formed, the numbers
in it are not ones a fit could make (doubled mixture weights, negative probabilities, a
correlation that is not one, trees whose arrays disagree). Each model's state is checked when it
is loaded: one line naming the model and the fault, exit code 4, nothing written."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen import modelfile
from tests.conftest import mixed_frame
from tests.test_cli import run_cli
from tests.test_promises import synthgen_cli

# The manifest keys `modelfile.dumps` writes itself.
_FILE_KEYS = ("format", "format_version", "synthgen_version", "numpy_version", "arrays", "checksum")


@pytest.fixture(scope="module")
def states(tmp_path_factory) -> dict[str, dict]:
    """The state in a model file of each model, fitted on a small mixed table."""
    table = mixed_frame(200)
    out = {}
    for name, params in (
        ("gaussian-copula", {}),
        ("gmm", {"components": 2}),
        ("gmm-gaussian", {"components": 2}),
        ("cart", {}),
    ):
        path = tmp_path_factory.mktemp(name) / "m.synthgen"
        synthgen.fit(table, model=name, seed=0, **params).save(str(path))
        out[name] = modelfile.read_state(path)
    return out


def crafted(state: dict, change: Callable[[dict], None]) -> bytes:
    """A model file of `state` changed by `change`, its checksum recomputed as an attacker can."""
    body = {k: v for k, v in copy.deepcopy(state).items() if k not in _FILE_KEYS}
    change(body["fitted"] if "fitted" in body else body)
    return modelfile.dumps(body)


def _biggest_tree(fitted: dict) -> dict:
    return max(fitted["trees"], key=lambda t: len(t["left"]))


def _put(key: str, index, value) -> Callable[[dict], None]:
    """A change that writes `value` at `index` of the array `fitted[key]`."""

    def change(fitted: dict) -> None:
        fitted[key][index] = value

    return change


def _not_definite(fitted: dict) -> None:
    fitted["correlation"][0, 1] = fitted["correlation"][1, 0] = 2.0


def _quantiles_reversed(fitted: dict) -> None:
    fitted["quantiles"][0] = fitted["quantiles"][0][::-1].copy()


def _shares_doubled(fitted: dict) -> None:
    fitted["cumulative"][0] = fitted["cumulative"][0] * 2


def _order_repeats(fitted: dict) -> None:
    fitted["orders"][0] = np.zeros_like(fitted["orders"][0])


def _weights_doubled(fitted: dict) -> None:
    fitted["weights"] = fitted["weights"] * 2


def _negative_probabilities(fitted: dict, key: str = "probabilities") -> None:
    p = fitted[key]
    p[0, 0], p[0, 1] = p[0, 0] - 0.5, p[0, 1] + 0.5  # the row still sums to one


def _threshold_nan(fitted: dict) -> None:
    _biggest_tree(fitted)["threshold"][0] = np.nan


def _leaf_numbers_repeat(fitted: dict) -> None:
    tree = _biggest_tree(fitted)
    tree["leaf"][tree["leaf"] == tree["leaf"].max()] = 0


def _leaf_value_infinite(fitted: dict) -> None:
    next(t for t in fitted["trees"] if "values" in t)["values"][0] = np.inf


def _hashes_reversed(fitted: dict) -> None:
    fitted["row_hashes"] = fitted["row_hashes"][::-1].copy()


def _child_before_parent(fitted: dict) -> None:
    _biggest_tree(fitted)["left"][0] = 0


CASES: dict[str, tuple[str, Callable[[dict], None], str]] = {
    "copula-correlation-not-definite": ("gaussian-copula", _not_definite, "positive definite"),
    "copula-correlation-asymmetric": (
        "gaussian-copula",
        _put("correlation", (0, 1), 0.3),
        "not a correlation matrix",
    ),
    "copula-correlation-nan": (
        "gaussian-copula",
        _put("correlation", (2, 2), np.nan),
        "not a finite number",
    ),
    "copula-quantiles-decrease": ("gaussian-copula", _quantiles_reversed, "quantiles decrease"),
    "copula-levels-beyond-one": ("gaussian-copula", _put("probs", -1, 2.0), "leave [0, 1]"),
    "copula-category-shares-doubled": (
        "gaussian-copula",
        _shares_doubled,
        "do not run from 0 to 1",
    ),
    "copula-category-order-repeats": ("gaussian-copula", _order_repeats, "not an order"),
    "gmm-weights-doubled": ("gmm", _weights_doubled, "weights sum to 2"),
    "gmm-negative-category-probabilities": (
        "gmm",
        _negative_probabilities,
        "probability outside [0, 1]",
    ),
    "gmm-interval-edges-reversed": (
        "gmm",
        lambda fitted: fitted["edges"].__setitem__(0, fitted["edges"][0][::-1].copy()),
        "interval edges of part 0 decrease",
    ),
    "gmm-interval-bounds-reversed": (
        "gmm",
        lambda fitted: fitted["lows"].__setitem__(0, fitted["highs"][0] + 1.0),
        "interval bounds of part 0 decrease",
    ),
    "gmm-quantiles-infinite": ("gmm", _put("quantiles", (0, 0), -np.inf), "not a finite number"),
    "gmm-gaussian-weights-doubled": ("gmm-gaussian", _weights_doubled, "weights sum to 2"),
    "gmm-gaussian-negative-category-probabilities": (
        "gmm-gaussian",
        lambda fitted: _negative_probabilities(fitted, "category_probabilities"),
        "probability outside [0, 1]",
    ),
    "gmm-gaussian-covariance-not-definite": (
        "gmm-gaussian",
        _put("cholesky", (0, 0, 0), -1.0),
        "not positive definite",
    ),
    "gmm-gaussian-covariance-factor-not-triangular": (
        "gmm-gaussian",
        _put("cholesky", (0, 0, 2), 5.0),
        "not Cholesky factors",
    ),
    "gmm-gaussian-means-infinite": (
        "gmm-gaussian",
        _put("means", (1, 0), np.inf),
        "not a finite number",
    ),
    "cart-threshold-nan": ("cart", _threshold_nan, "thresholds hold a value that is not a finite"),
    "cart-leaf-numbers-repeat": ("cart", _leaf_numbers_repeat, "leaf numbers"),
    "cart-leaf-value-infinite": (
        "cart",
        _leaf_value_infinite,
        "leaf values hold a value that is not a finite",
    ),
    "cart-row-hashes-unsorted": ("cart", _hashes_reversed, "row hashes"),
    "cart-child-before-parent": ("cart", _child_before_parent, "nodes are inconsistent"),
}

# What decoding reads, the same for every model: the encoder's column states.
ENCODER_CASES: dict[str, tuple[Callable[[dict], None], str]] = {
    "bounds-reversed": (
        lambda s: s["encoder"]["columns"][1].update(min=80.0, max=18.0),
        "minimum 80 is above its maximum 18",
    ),
    "category-probability-negative": (
        lambda s: s["encoder"]["columns"][2].update(
            probabilities=[-0.5, 1.0, 0.5][: len(s["encoder"]["columns"][2]["probabilities"])]
        ),
        "probability outside [0, 1]",
    ),
    "decimals-absurd": (
        lambda s: s["encoder"]["columns"][3].update(decimals=10**9),
        "decimals",
    ),
    "date-resolution-zero": (
        lambda s: s["encoder"]["columns"][5].update(resolution=0.0),
        "resolution",
    ),
    "date-lattice-step-zero": (
        lambda s: s["encoder"]["columns"][5].update(
            lattice={"unit": "months", "every": 0, "origin": 0, "end": False}
        ),
        "lattice",
    ),
    "date-lattice-unknown-unit": (
        lambda s: s["encoder"]["columns"][5].update(
            lattice={"unit": "fortnights", "every": 1, "origin": 0, "end": False}
        ),
        "lattice",
    ),
    "date-lattice-float-origin": (
        lambda s: s["encoder"]["columns"][5].update(
            lattice={"unit": "days", "every": 7, "origin": 1.5, "end": False}
        ),
        "lattice",
    ),
}


def _refused(raw: bytes, tmp_path: Path, capsys, words: str, model: str | None = None) -> None:
    path = tmp_path / "crafted.synthgen"
    path.write_bytes(raw)
    out = tmp_path / "out.csv"
    code, stdout, err = run_cli(["sample", str(path), "-n", "5", "-o", str(out)], capsys)
    assert code == 4, err
    line = err.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in err
    assert "inconsistent" in line and words in line, line
    if model:
        assert model in line
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert stdout == ""


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_crafted_state_is_refused_at_load(case, states, tmp_path, capsys):
    model, change, words = CASES[case]
    _refused(crafted(states[model], change), tmp_path, capsys, words, model)


@pytest.mark.parametrize("model", ["gaussian-copula", "gmm", "gmm-gaussian", "cart"])
@pytest.mark.parametrize("case", sorted(ENCODER_CASES))
def test_a_crafted_column_state_is_refused_for_every_model(case, model, states, tmp_path, capsys):
    state = copy.deepcopy(states[model])
    change, words = ENCODER_CASES[case]
    change(state)
    body = {k: v for k, v in state.items() if k not in _FILE_KEYS}
    _refused(modelfile.dumps(body), tmp_path, capsys, words, model)


@pytest.mark.parametrize("model", ["gaussian-copula", "gmm", "gmm-gaussian", "cart"])
def test_the_untouched_state_still_loads(model, states, tmp_path):
    """The crafting itself changes nothing: a state passed through it loads and samples."""
    path = tmp_path / "m.synthgen"
    path.write_bytes(crafted(states[model], lambda fitted: None))
    assert len(synthgen.load(str(path)).sample(20, seed=0)) == 20


def test_a_probability_off_by_rounding_is_no_fault():
    """A fit's renormalised probability of 1 may read 1.0000000000000009: such a gmm file (Ecdat's
    bankingCrises, written by `synthgen run`) was refused at load as a crafted one. Rounding
    passes the check; a probability really outside [0, 1] does not."""
    from synthgen.models import checks

    checks.distribution("p", [[1.0000000000000009, 0.0], [0.25, 0.75]])
    checks.distribution("p", [[-1e-17, 1.0]])
    for bad in ([[1.5, -0.5]], [[1.001, -0.001]]):
        with pytest.raises(ValueError, match="outside"):
            checks.distribution("p", bad)


def test_the_issue_s_gmm_file_is_refused_by_the_command(states, tmp_path):
    """The file of the report: doubled weights and negative category probabilities, checksum
    recomputed. A real `synthgen sample` refuses it with exit code 4 and writes nothing."""

    def change(fitted: dict) -> None:
        _weights_doubled(fitted)
        _negative_probabilities(fitted)

    path = tmp_path / "gmm.synthgen"
    path.write_bytes(crafted(states["gmm"], change))
    done = synthgen_cli(["sample", str(path), "-n", "10", "-o", str(tmp_path / "o.csv")], tmp_path)
    assert done.returncode == 4, done.stderr
    assert "inconsistent gmm model" in done.stderr and "weights sum to 2" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gmm.synthgen"]


def test_a_crafted_state_of_the_rules_space_is_refused(tmp_path, capsys):
    """A model that keeps rules decodes the columns its rules name through a second encoder:
    its category probabilities are checked as the modelled columns' are."""
    rng = np.random.default_rng(0)
    klass = rng.choice(["first", "second", "third"], 300)
    deck = np.where(klass == "first", rng.choice(list("ABC"), 300), None)
    table = pd.DataFrame({"klass": klass, "deck": deck, "fare": rng.gamma(2, 20, 300)})
    path = tmp_path / "fitted" / "rules.synthgen"
    path.parent.mkdir()
    synthgen.fit(table, model="gmm", seed=0, components=2).save(str(path))
    state = modelfile.read_state(path)
    inner = state["encoder"]["rules"]["inner"]
    assert inner, "the table's rules are kept (else this test checks nothing)"
    inner[0]["probabilities"] = [2 * p for p in inner[0]["probabilities"]]
    body = {k: v for k, v in state.items() if k not in _FILE_KEYS}
    (tmp_path / "crafted").mkdir()
    _refused(modelfile.dumps(body), tmp_path / "crafted", capsys, "sum to 2", "gmm")


def _nan_in(key: str) -> Callable[[dict], None]:
    def change(fitted: dict) -> None:
        fitted[key] = np.array(fitted[key], dtype=float)
        fitted[key].flat[0] = np.nan

    return change


def _first_weights_nan(fitted: dict) -> None:
    name = sorted(fitted["generator"])[0]
    fitted["generator"][name] = np.full_like(np.asarray(fitted["generator"][name]), np.nan)


def _counts_negative(fitted: dict) -> None:
    fitted["category_counts"][0] = -np.abs(np.asarray(fitted["category_counts"][0])) - 1


def _value_column_twice(fitted: dict) -> None:
    fitted["value_columns"] = np.array([0, 0])


# ctgan's own numbers (the issue's list of what loaded and sampled before): (change, words)
CTGAN_CASES: dict[str, tuple[Callable[[dict], None], str]] = {
    "mode-means-nan": (_nan_in("mode_means"), "mode means"),
    "mode-spreads-infinite": (
        lambda f: f.update(mode_stds=np.full_like(np.asarray(f["mode_stds"], float), np.inf)),
        "mode spreads",
    ),
    "generator-weights-nan": (_first_weights_nan, "generator weights"),
    "category-counts-negative": (_counts_negative, "category counts"),
    "value-column-twice": (_value_column_twice, "value-coded parts"),
}


@pytest.fixture(scope="module")
def ctgan_state(tmp_path_factory) -> dict:
    pytest.importorskip("torch")
    table = mixed_frame(200)
    path = tmp_path_factory.mktemp("ctgan") / "m.synthgen"
    synthgen.fit(table, model="ctgan", seed=0, epochs=1, batch_size=50).save(str(path))
    return modelfile.read_state(path)


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(CTGAN_CASES))
def test_a_crafted_ctgan_state_is_refused_at_load(case, ctgan_state, tmp_path, capsys):
    change, words = CTGAN_CASES[case]
    _refused(crafted(ctgan_state, change), tmp_path, capsys, words, "ctgan")


@pytest.mark.torch
def test_the_untouched_ctgan_state_still_loads(ctgan_state, tmp_path):
    path = tmp_path / "m.synthgen"
    path.write_bytes(crafted(ctgan_state, lambda fitted: None))
    assert len(synthgen.load(str(path)).sample(5, seed=1)) == 5


@pytest.fixture(scope="module")
def text_state(tmp_path_factory) -> dict:
    """The state of a copula fitted on a table with a free-text column."""
    rng = np.random.default_rng(0)
    places = [
        f"{a} {n} {b}"
        for a, b, n in zip(
            rng.choice(["North", "South", "East", "West"], 300),
            rng.choice(["Vale", "& Hill", "Bridge", "Park"], 300),
            range(300),
        )
    ]
    table = pd.DataFrame({"place": places, "x": rng.normal(size=300)})
    path = tmp_path_factory.mktemp("text") / "m.synthgen"
    synthgen.fit(table, seed=0).save(str(path))
    state = modelfile.read_state(path)
    assert "first_probabilities" in state["encoder"]["columns"][0]
    return state


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("word_probabilities", [1.0], "word_probabilities for"),
        ("first_probabilities", [0.5, 0.5], "first_probabilities for"),
        ("last_probabilities", "negative", "probability outside [0, 1]"),
        ("alone_probabilities", "doubled", "sum to 2"),
        ("lengths", [-1], "length_probabilities for"),
    ],
)
def test_a_crafted_text_state_is_refused(key, value, words, text_state, tmp_path, capsys):
    """Free text's draws index its words by their probabilities: lists of another length, or
    that are no distribution, are refused at load (they drew past the words, or nonsense)."""

    state = copy.deepcopy(text_state)
    column = state["encoder"]["columns"][0]
    if value == "negative":
        probs = list(column[key])
        probs[0], probs[1] = -0.5, probs[1] + probs[0] + 0.5
        column[key] = probs
    elif value == "doubled":
        column[key] = [2 * p for p in column.get(key) or column["first_probabilities"]]
    else:
        column[key] = value

    body = {k: v for k, v in state.items() if k not in _FILE_KEYS}
    _refused(modelfile.dumps(body), tmp_path, capsys, words, "gaussian-copula")


@pytest.fixture(scope="module")
def keys_state(tmp_path_factory) -> dict:
    """The state of a copula fitted on a table with a key column of a shape (AB123)."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"ticket": [f"AB{i:03d}" for i in range(300)], "x": rng.normal(size=300)})
    path = tmp_path_factory.mktemp("keys") / "m.synthgen"
    synthgen.fit(table, seed=0).save(str(path))
    state = modelfile.read_state(path)
    assert len(state["encoder"]["columns"][0]["taken"]) > 250
    return state


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("taken_bits", 2, "keys' hashes of 2 bits"),
        ("taken_bits", True, "keys' hashes of True bits"),
        ("taken", "reversed", "keys' hashes are not sorted"),
        ("taken", "too wide", "keys' hashes are not sorted"),
        ("taken", ["1", "2"], "keys' hashes must be a list of integers"),
    ],
)
def test_a_crafted_key_state_is_refused(key, value, words, keys_state, tmp_path, capsys):
    """The real keys' short hashes, which drawn keys must miss: hashes that are not sorted
    distinct values of their bits (a search among them would miss), or bits out of range, are
    refused at load."""
    state = copy.deepcopy(keys_state)
    column = state["encoder"]["columns"][0]
    if value == "reversed":
        column[key] = column[key][::-1]
    elif value == "too wide":
        column[key] = [*column[key], 2 ** column["taken_bits"]]
    else:
        column[key] = value
    body = {k: v for k, v in state.items() if k not in _FILE_KEYS}
    _refused(modelfile.dumps(body), tmp_path, capsys, words, "gaussian-copula")


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda s: s["spelling"]["next"].pop(), "a spelling's steps from"),
        (
            lambda s: s["spelling"].update(start=[2.0] + [0.0] * (len(s["spelling"]["start"]) - 1)),
            "sum to 2",
        ),
        (lambda s: s["spelling"]["hashes"].reverse(), "rare words' hashes are not sorted"),
        (lambda s: s["spelling"].update(lengths=[0], length_probabilities=[1.0]), "lengths must"),
        (lambda s: s["spelling"].update(chars="aa"), "characters must be distinct"),
        (lambda s: s.pop("spelling"), "made-up words without their spelling"),
    ],
)
def test_a_crafted_spelling_is_refused(change, words, text_state, tmp_path, capsys):
    """Made-up words are spelt along a chain of characters: steps of another shape, lengths
    past what a word may hold, hashes that are not sorted, or a made-up word's place without
    a spelling are refused at load."""
    state = copy.deepcopy(text_state)
    column = state["encoder"]["columns"][0]
    assert "spelling" in column  # the place numbers are rare words
    change(column)
    body = {k: v for k, v in state.items() if k not in _FILE_KEYS}
    _refused(modelfile.dumps(body), tmp_path, capsys, words, "gaussian-copula")
