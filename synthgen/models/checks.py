"""Checks of a fitted state read from a model file: every number a model reads must be one its
own fit could have made.

A checksum only proves a file was not edited by someone who did not recompute it; a crafted file
(doubled mixture weights, negative probabilities, a correlation that is not one) can carry a
valid checksum and would sample nonsense without a word. `Synthesizer.from_state` runs these on
the encoder's states and each model on its own arrays, so such a file is refused at load (exit
code 4) before a row is drawn. Each check raises ValueError naming the array and the fault.

Example:
    >>> import numpy as np
    >>> distribution("gmm weights", np.array([0.25, 0.75]))
    >>> distribution("gmm weights", np.array([0.5, 1.5]))
    Traceback (most recent call last):
    ...
    ValueError: gmm weights sum to 2 where a distribution sums to 1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# How far a sum of probabilities may be from 1, and a correlation's diagonal from 1, in floats.
TOLERANCE = 1e-6
# The most decimals a number is written with (float64 carries about 17 significant digits).
MAX_DECIMALS = 20


def finite(what: str, values: Any) -> np.ndarray:
    """`values` as a float array, every one finite."""
    x = np.asarray(values, dtype=float)
    if not np.isfinite(x).all():
        raise ValueError(f"{what} hold a value that is not a finite number")
    return x


def distribution(what: str, probs: Any) -> None:
    """Each row (the last axis) of `probs` is a distribution: in [0, 1], summing to 1."""
    p = finite(what, probs)
    total = p.sum(axis=-1)
    bad = np.abs(total - 1) > TOLERANCE
    if np.any(bad):
        first = np.ravel(total)[np.ravel(bad)][0]
        raise ValueError(f"{what} sum to {first:g} where a distribution sums to 1")
    # (within rounding: a fit's own renormalised 1 may read 1.0000000000000009, and its model
    # file was refused on load: gmm on Ecdat's bankingCrises)
    if ((p < -TOLERANCE) | (p > 1 + TOLERANCE)).any():
        raise ValueError(f"{what} hold a probability outside [0, 1]")


def ascending(what: str, values: Any, low: float | None = None, high: float | None = None) -> None:
    """Each row (the last axis) of `values` is finite and never decreases, within [low, high]."""
    x = finite(what, values)
    if x.shape[-1:] and (np.diff(x, axis=-1) < 0).any():
        raise ValueError(f"{what} decrease")
    # (within rounding: a cumulative share of 1.0000000000000002)
    if x.size and (
        (low is not None and x.min() < low - TOLERANCE)
        or (high is not None and x.max() > high + TOLERANCE)
    ):
        raise ValueError(f"{what} leave [{low:g}, {high:g}]")


def cumulative(what: str, values: Any, length: int) -> None:
    """Cumulative shares of `length - 1` codes: 0 first, 1 last, never decreasing."""
    c = finite(what, values)
    if c.shape != (length,) or (length and (c[0] != 0 or abs(c[-1] - 1) > TOLERANCE)):
        raise ValueError(f"{what} do not run from 0 to 1 over {length - 1} codes")
    ascending(what, c)


def permutation(what: str, order: Any, n: int) -> None:
    """`order` holds each of 0 .. n-1 once."""
    if sorted(np.asarray(order, dtype=np.int64).tolist()) != list(range(n)):
        raise ValueError(f"{what} is not an order of {n} codes")


def correlation(what: str, matrix: Any) -> None:
    """A correlation matrix: square, symmetric, ones on the diagonal, positive definite."""
    m = finite(what, matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{what} is not a square matrix")
    if not np.allclose(m, m.T, atol=TOLERANCE) or not np.allclose(np.diag(m), 1, atol=TOLERANCE):
        raise ValueError(f"{what} is not a correlation matrix (symmetric, ones on the diagonal)")
    try:
        np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        raise ValueError(f"{what} is not positive definite") from None


def cholesky(what: str, factors: Any) -> None:
    """Cholesky factors (..., p, p) of covariances: lower triangular, a positive diagonal (so
    each covariance they make is positive definite)."""
    f = finite(what, factors)
    if f.shape[-1:] != f.shape[-2:-1]:
        raise ValueError(f"{what} are not square")
    if np.triu(f, 1).any() or not (np.diagonal(f, axis1=-2, axis2=-1) > 0).all():
        raise ValueError(
            f"{what} are not Cholesky factors (lower triangular with a positive diagonal): "
            "their covariances are not positive definite"
        )


def encoder(names: Sequence[str], states: Sequence[dict[str, Any]]) -> None:
    """What decoding reads from each column's state: bounds, category probabilities, decimals,
    a date's resolution and UTC offset."""
    for name, state in zip(names, states, strict=True):
        where = f"column {name!r}:"
        if "min" in state or "max" in state:
            low, high = finite(f"{where} bounds", [state["min"], state["max"]])
            if low > high:
                raise ValueError(f"{where} its minimum {low:g} is above its maximum {high:g}")
        if "seen" in state:
            seen = finite(f"{where} bounds seen", state["seen"])
            if seen.shape != (2,) or not seen[0] <= state["min"] <= state["max"] <= seen[1]:
                raise ValueError(f"{where} the bounds seen do not hold its bounds")
        if "probabilities" in state:
            probs = state["probabilities"]
            if len(probs) != len(state["categories"]):
                raise ValueError(
                    f"{where} {len(probs)} probabilities for {len(state['categories'])} categories"
                )
            if len(probs):
                distribution(f"{where} category probabilities", probs)
        decimals = state.get("decimals")
        if decimals is not None and not (
            isinstance(decimals, int) and 0 <= decimals <= MAX_DECIMALS
        ):
            raise ValueError(f"{where} {decimals!r} decimals, not 0 to {MAX_DECIMALS}")
        if "resolution" in state and not float(state["resolution"]) > 0:
            raise ValueError(f"{where} a date resolution of {state['resolution']!r} seconds")
        if state.get("lattice") is not None:
            _lattice(where, state["lattice"])
        if "words" in state:
            _text(where, state)
        if "taken" in state:
            from synthgen.columns.identifier import check as keys_check

            keys_check(state, where)
        if "offset" in state and not abs(int(state["offset"])) < 86_400:
            raise ValueError(f"{where} a UTC offset of {state['offset']!r} seconds")


def _text(where: str, state: dict[str, Any]) -> None:
    """Free text's draws: each list of probabilities one per word (or length, or value)."""
    pairs = [
        ("words", "word_probabilities"),
        ("words", "first_probabilities"),
        ("words", "last_probabilities"),
        ("words", "alone_probabilities"),
        ("lengths", "length_probabilities"),
        ("values", "value_probabilities"),
    ]
    for items, key in pairs:
        if key not in state:
            continue
        if len(state[key]) != len(state.get(items) or ()):
            raise ValueError(
                f"{where} {len(state[key])} {key} for {len(state.get(items) or ())} {items}"
            )
        if len(state[key]):
            distribution(f"{where} {key.replace('_', ' ')}", state[key])
    if any(int(v) < 0 for v in state.get("lengths", ())):
        raise ValueError(f"{where} a text of fewer than 0 words")
    from synthgen.columns import text

    if (text.MADE in state.get("words", ())) != ("spelling" in state):
        raise ValueError(f"{where} made-up words without their spelling, or a spelling unused")
    if "spelling" in state:
        _spelling(state["spelling"], where)


def _spelling(spelling: Any, where: str) -> None:
    """Free text's made-up words (`synthgen.columns.spelling`): distinct characters, each
    distribution of the right length, lengths of 1 to `LONGEST` characters and sorted short
    hashes (a crafted file is refused)."""
    from synthgen.columns.base import stored_hashes
    from synthgen.columns.spelling import LONGEST

    keys = {"chars", "start", "next", "lengths", "length_probabilities", "bits", "hashes"}
    if not isinstance(spelling, dict) or set(spelling) != keys:
        raise ValueError(f"{where} a spelling that is not {sorted(keys)}")
    chars = spelling["chars"]
    if not isinstance(chars, str) or not chars or len(set(chars)) != len(chars):
        raise ValueError(f"{where} a spelling's characters must be distinct, and some")
    size = len(chars)
    start, step = spelling["start"], spelling["next"]
    if not isinstance(start, list) or len(start) != size:
        raise ValueError(f"{where} {len(start)} first-character probabilities for {size}")
    distribution(f"{where} first-character probabilities", start)
    if not isinstance(step, list) or len(step) != size:
        raise ValueError(f"{where} a spelling's steps from {len(step)} characters, not {size}")
    for row in step:
        if not isinstance(row, list) or len(row) != size + 1:
            raise ValueError(f"{where} a spelling's step of {len(row)} outcomes, not {size + 1}")
        distribution(f"{where} a spelling's step probabilities", row)
    lengths, chances = spelling["lengths"], spelling["length_probabilities"]
    if (
        not isinstance(lengths, list)
        or not lengths
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in lengths)
        or not all(1 <= v <= LONGEST for v in lengths)
    ):
        raise ValueError(f"{where} made-up words' lengths must be 1 to {LONGEST} characters")
    if not isinstance(chances, list) or len(chances) != len(lengths):
        raise ValueError(f"{where} {len(chances)} length probabilities for {len(lengths)}")
    distribution(f"{where} made-up words' length probabilities", chances)
    stored_hashes(spelling["hashes"], spelling["bits"], f"{where} rare words' hashes")


def _lattice(where: str, grid: Any) -> None:
    """A date lattice as `columns.datetime.lattice` writes it: months or days, a positive
    step, an origin within one step, whether month ends."""
    keys = {"unit", "every", "origin", "end"}
    if not isinstance(grid, dict) or set(grid) != keys or grid["unit"] not in ("months", "days"):
        raise ValueError(f"{where} a date lattice {grid!r}, not {sorted(keys)}")
    every, origin = grid["every"], grid["origin"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (every, origin)):
        raise ValueError(f"{where} a date lattice's step and origin must be integers")
    if not (0 < every <= 1_000_000 and 0 <= origin < every) or not isinstance(grid["end"], bool):
        raise ValueError(f"{where} a date lattice of every {every} from {origin}")
