"""Which drawn rows of cart repeat a training row: a hash of each row as it will be written,
and the hashes the model file keeps, of the training rows no other training row repeats (a row
two or more training rows hold stays among them whoever is taken out, so writing it tells of no
one's presence).

Example:
    >>> import numpy as np
    >>> unique_rows(np.array([5, 9, 5, 2**63], dtype=np.uint64), 4).tolist()
    [0, 8]
"""

from __future__ import annotations

import numpy as np

from synthgen.columns import Encoded
from synthgen.columns.base import _GOLDEN, _mix


def row_hashes(encoder, data: Encoded, bits: int) -> np.ndarray:
    """A `bits`-bit hash of each row as it will be written (numbers on their grid, a null's
    value left out)."""
    h = np.full(data.n_rows, np.uint64(0x243F6A8885A308D3))
    for key in _row_keys(encoder, data):
        with np.errstate(over="ignore"):
            h = _mix((h ^ key) * _GOLDEN)
    return h >> np.uint64(64 - bits)


def unique_rows(full: np.ndarray, bits: int) -> np.ndarray:
    """The sorted `bits`-bit hashes of the rows whose 64-bit hash (`full`) no other row has."""
    values, counts = np.unique(full, return_counts=True)
    return np.unique(values[counts == 1] >> np.uint64(64 - bits))


def _row_keys(encoder, data: Encoded) -> list[np.ndarray]:
    """One uint64 array per modelled column: its value as written (a number on its grid, a
    category's code), a fixed key where the cell is null."""
    from synthgen.conditions import targets

    out = []
    for target in targets(encoder).values():
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
            x = np.clip(data.continuous[:, target.value], *target.real_range())
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
