"""Which drawn rows of cart repeat a training row: a hash of each row as it will be written,
and the hashes the model file keeps: of the training rows no other training row repeats, whose
copies are drawn again, and of the repeated ones, whose copies are kept up to the share of
training rows that repeat another (a row two or more training rows hold stays among them whoever
is taken out, so writing it tells of no one's presence; new people repeat such rows as often).

Example:
    >>> import numpy as np
    >>> [h.tolist() for h in unique_and_common(np.array([5, 9, 5, 2**63], dtype=np.uint64), 4)]
    [[0, 8], [0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthgen.columns import Encoded
from synthgen.columns.base import _GOLDEN, _mix, matches
from synthgen.models.cart_blur import CHECK_ROWS


def row_hashes(encoder, data: Encoded, bits: int, written: bool = True) -> np.ndarray:
    """A `bits`-bit hash of each row as it will be written (numbers on their grid, a null's
    value left out; `written`: see `_row_keys`)."""
    h = np.full(data.n_rows, np.uint64(0x243F6A8885A308D3))
    for key in _row_keys(encoder, data, written):
        with np.errstate(over="ignore"):
            h = _mix((h ^ key) * _GOLDEN)
    return h >> np.uint64(64 - bits)


def unique_and_common(full: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted `bits`-bit hashes of the rows whose 64-bit hash (`full`) no other row has,
    and of those another row has."""
    values, counts = np.unique(full, return_counts=True)
    shift = np.uint64(64 - bits)
    return np.unique(values[counts == 1] >> shift), np.unique(values[counts > 1] >> shift)


def drawn_hashes(model: Any, seed: int) -> np.ndarray:
    """The 64-bit hashes of `CHECK_ROWS` rows a fitted cart (`model`) draws along its trees,
    with a generator of their own (`seed`), as they will be written."""
    drawn = np.empty((CHECK_ROWS, len(model.order_)))
    model._draw(drawn, np.ones_like(drawn), np.random.default_rng(seed))
    return model._hashes(model._encoded(drawn), 64)


def drawn_copies(model: Any, train: np.ndarray, seed: int) -> tuple[float, float | None]:
    """Of the rows a fitted cart draws along its trees (`drawn_hashes`; the training rows'
    64-bit hashes `train`): the share written as a training row no other repeats (where a
    quarter or more are, drawing them again changes the table, `copy_guard.SKEWS`), and
    `kept_share` (None where no training row repeats another)."""
    drawn = drawn_hashes(model, seed)
    values, counts = np.unique(train, return_counts=True)
    unique = float(np.isin(drawn, values[counts == 1]).mean())
    return unique, (kept_share(train, drawn) if (counts > 1).any() else None)


def redraw_from(attempt: int, last: int, rounds: int, whole: bool = True) -> int:
    """The first part (in synthesis order) that try `attempt` of `rounds` draws a copy's row
    again from: its last part for the first half of the tries, so that only the end of its
    conditional distribution moves; its last two after; for the last quarter, with `whole` (more
    rows are still copies than training rows repeat one another), the whole row. A panel's rows
    of a city's month with every figure missing (txhousing) are a real row whatever their last
    parts: redrawn only there, 6.4% of cart's rows stayed copies of a training row where no
    training row repeats another. A row whose whole redraws copy one too lies where every
    likely row is a real one, and is kept.

    Example:
        >>> [redraw_from(a, 9, 20) for a in (0, 9, 10, 14, 15, 19)]
        [9, 9, 8, 8, 0, 0]
        >>> redraw_from(15, 9, 20, whole=False)
        8
    """
    if attempt < rounds // 2:
        return last
    return 0 if whole and attempt >= 3 * rounds // 4 else max(0, last - 1)


def repeat_share(full: np.ndarray) -> float:
    """The share of rows whose hash (`full`, 64 bits) another row has: how often new people's
    rows repeat a training row on a table of coarse columns.

    Example:
        >>> repeat_share(np.array([1, 1, 2, 3], dtype=np.uint64))
        0.5
    """
    counts = np.unique(full, return_counts=True)[1]
    return float(counts[counts > 1].sum() / len(full)) if len(full) else 0.0


def redrawn(model: Any, data: Encoded, rng: np.random.Generator | None = None) -> np.ndarray:
    """The rows of a cart `model` to draw again: drawn the first time (`rng`), the copies of a
    unique training row and those of a repeated one beyond `copies_kept_` of them; drawn again,
    every copy (a row drawn again copies none, or copies would pass the training rows' own
    share)."""
    if model.allow_copies or data.n_rows == 0 or not model.order_:  # nothing modelled
        return np.zeros(data.n_rows, dtype=bool)
    h = model._hashes(data)
    again = matches(h, model.row_hashes_)
    if rng is None or model.copies_kept_ < 1:
        common = np.flatnonzero(~again & matches(h, model.common_hashes_))
        if rng is not None:
            common = common[rng.random(len(common)) >= model.copies_kept_]
        again[common] = True
    return again


def kept_share(train: np.ndarray, drawn: np.ndarray) -> float:
    """The share of drawn copies of a repeated training row to keep, so that no more drawn rows
    repeat a training row than training rows repeat one another (new people's rate: a
    holdout's on coarse tables): `p` / `a`, with `a` the share of `drawn` rows (64-bit hashes)
    copying a repeated row of `train` and `p` the training rows' own share; 1 where `a` <= `p`.
    A copy not kept, and every copy of a unique row, is drawn again until it copies none.

    Example:
        >>> train = np.array([1, 1, 2, 3], dtype=np.uint64)  # half the rows repeat another
        >>> kept_share(train, np.array([1, 1, 1, 4], dtype=np.uint64))  # 3 of 4 drawn copy one
        0.6666666666666666
    """
    values, counts = np.unique(train, return_counts=True)
    p = repeat_share(train)
    a = float(np.isin(drawn, values[counts > 1]).mean())
    return 1.0 if a <= p else p / a


def _row_keys(encoder, data: Encoded, written: bool = True) -> list[np.ndarray]:
    """One uint64 array per column as written (a number on its grid, a category's code), a
    fixed key where the cell is null. Under rules (`written`), the user's columns: those the
    model learns as they are from its parts, those the rules decide as the rules compute them
    (`RuleEncoder.inverse`), so that two rows differing only in what the rules mask or derive
    (a missing-together group's completion, an order's gap) hash alike; else (a model file
    written before 2026-12-06) every modelled column as it is."""
    from synthgen.conditions import targets

    if not written or not getattr(encoder, "keepers", None):
        return _keys(targets(encoder).values(), data)
    kept = targets(encoder)
    decided = targets(encoder.inner)
    return [
        *_keys([kept[name] for name in encoder.kept], data),
        *_keys([decided[name] for name in encoder.decided], encoder.inverse(data)),
    ]


def _keys(found, data: Encoded) -> list[np.ndarray]:
    """The keys of `found` columns' targets (`synthgen.conditions.targets`) over `data`."""
    out = []
    for target in found:
        if target.value is None and target.null is None:
            continue
        null = (
            data.discrete[:, target.null].astype(bool)
            if target.null is not None
            else np.zeros(data.n_rows, dtype=bool)
        )
        if target.value is None:
            key = np.zeros(data.n_rows, dtype=np.uint64)
        elif target.discrete:
            key = data.discrete[:, target.value].astype(np.uint64)
        else:
            # on the column's calendar, as it will be written (a monthly date drawn mid-month
            # is written on the first, where a training row may be)
            x = np.clip(data.continuous[:, target.value], *target.real_range())
            x = target.kind.settle(x, target.state)
            unit = target.grid()
            if unit:
                steps = np.rint(x / unit)
                far = ~(np.abs(steps) < 2.0**62)  # beyond int64 (or inf): the float itself
                key = np.where(
                    far,
                    (x + 0.0).view(np.uint64),
                    np.where(far, 0.0, steps).astype(np.int64).view(np.uint64),
                )
            else:
                key = (x + 0.0).view(np.uint64)
        out.append(np.where(null, np.uint64(0xFFFFFFFFFFFFFFFF), key))
    return out
