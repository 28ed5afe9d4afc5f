"""The copy guard of the models that draw whole rows (the Gaussian copula, the gmms, ctgan): a
drawn row written exactly as a training row no other training row repeats is drawn again, in
an unconditional sample and under `--where`, `--balance` or `--from-rows` alike
(`Synthesizer._conditional`).

A row that only one training row holds is that person's row; writing it tells of their
presence. A model that draws whole rows from a density learned on few-valued columns lands on
such rows by chance (gmm on lifelines' kidney_transplant: 3.2% of written rows, against 0.6%
of holdout rows). cart has its own guard (`cart_copies`), which redraws a row from its last
parts. This one keeps, as cart's does, a short hash of each unique training row as written
(`cart_copies.row_hashes`: numbers on their grid, the rules' columns as they compute them),
`columns.base.hash_bits` long, so that a stored hash matches many rows that could be written
and names none. Rows two training rows or more hold are not guarded: new people repeat them
too. A model that drew no copy in `PROBE_ROWS` rows at fit keeps no hash. A drawn row whose
hash matches is drawn again, up to `ROUNDS` times (a hash shared by chance moves a row the
model drew as likely as any other: the rows kept are the model's own, thinned at random).
Differentially private models have no guard: it would read the training rows at sampling time.

Example:
    >>> import numpy as np, pandas as pd, synthgen
    >>> real = pd.DataFrame({"a": np.arange(200) % 7, "b": np.arange(200) % 11})
    >>> model = synthgen.fit(real, model="gmm", seed=0)
    >>> model.copy_guard_.bits
    11
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from synthgen.columns import Encoded
from synthgen.columns.base import check_hashes, hash_bits, hash_bits_valid, matches
from synthgen.models.cart_copies import row_hashes, unique_and_common

#: The most times a copy is drawn again; one still a copy after them is kept.
ROUNDS = 8
#: The share of probe rows written as a unique training row from which `fit` says that drawing
#: them again changes the table (Stat2Data's FinalFourShort, a grid of 32 years by 16 seeds:
#: 81% of the copula's rows, and the seeds it wrote were 15% first seeds for the real 6%; 13
#: of 521 package tables are over 30%, 132 over 10%, at which the guard moves no column's
#: shares by more than 0.05 on most).
SKEWS = 0.25

#: Rows the fitted model draws to see whether it copies at all (`CopyGuard.fit`).
PROBE_ROWS = 10_000


class CopyGuard:
    """The unique training rows' short hashes, and the redraws of drawn rows that match."""

    def __init__(self, bits: int, unique: np.ndarray):
        self.bits = int(bits)
        self.unique = np.asarray(unique, dtype=np.uint64)

    @classmethod
    def fit(cls, full: np.ndarray, encoder: Any, probe: Encoded) -> tuple[CopyGuard, float]:
        """The guard of the training rows whose full hashes are `full` (`row_hashes` at 64
        bits of the rows `encoder` encoded, before stand-ins), given `PROBE_ROWS` rows the
        fitted model drew (`probe`): where none of them is written as a unique training row
        (by the full hash), the model copies fewer than 3 rows in 10,000 (95%), and the
        guard holds no hash and costs nothing (gmm on adult: 1,000,000 rows took 1 s more to
        sample with it, 2.2 s without); and the share of the probe rows so written."""
        bits = hash_bits(len(full))
        values, counts = np.unique(full, return_counts=True)
        copied = np.isin(row_hashes(encoder, probe, 64), values[counts == 1])
        if not copied.any():
            return cls(bits, np.array([], dtype=np.uint64)), 0.0
        return cls(bits, unique_and_common(full, bits)[0]), float(copied.mean())

    def copies(self, encoder: Any, data: Encoded) -> np.ndarray:
        """Whether each row of `data` would be written as a unique training row (by hash)."""
        if not len(self.unique) or not data.n_rows:
            return np.zeros(data.n_rows, dtype=bool)
        return matches(row_hashes(encoder, data, self.bits), self.unique)

    def redraw(self, encoder: Any, data: Encoded, draw: Callable[[np.ndarray], Encoded]) -> Encoded:
        """`data` with its copies drawn again (`draw(rows)`: fresh rows in place of the rows
        `rows` of `data`, each meeting that row's conditions, if any), in place; only the rows
        drawn again are looked at again."""
        rows = np.flatnonzero(self.copies(encoder, data))
        for _ in range(ROUNDS):
            if not len(rows):
                break
            fresh = draw(rows)
            data.continuous[rows] = fresh.continuous
            data.discrete[rows] = fresh.discrete
            rows = rows[self.copies(encoder, fresh)]
        return data

    def to_state(self) -> dict[str, Any]:
        return {"bits": self.bits, "unique": self.unique}

    @classmethod
    def from_state(cls, state: Any) -> CopyGuard | None:
        """The guard a model file holds (None: a file from before the guard); a crafted one
        raises ValueError."""
        if state is None:
            return None
        if not isinstance(state, dict) or set(state) != {"bits", "unique"}:
            raise ValueError("a copy guard must hold its hash bits and hashes")
        bits = state["bits"]
        if not hash_bits_valid(bits):
            raise ValueError(f"a copy guard of {bits!r} hash bits")
        unique = np.asarray(state["unique"])
        if unique.ndim != 1 or (len(unique) and unique.dtype.kind not in "ui"):
            raise ValueError("a copy guard's hashes must be a list of integers")
        unique = unique.astype(np.uint64)
        check_hashes(unique, bits, "copy guard's hashes")
        return cls(bits, unique)
