"""Stand-ins for rare categories: before a model learns the encoded training rows, each row whose
category is pooled as rare (`categorical.rare_code`) takes instead the category of the training
row most like it among those holding a shared category.

Why: a pooled rare category is never written; it decodes to a shared category drawn by that
category's frequency, blind to the row. Where the rare rows differ from the rest (dd's countries
of few leader spells are mostly dictatorships, the shared ones mostly democracies), a model that
learns the pool learns rows it can only write with a category of other rows: cart, which draws a
category from its leaf's shared ones, and every model through a rule that derives a column from
the category, wrote 81% democracies where the table has 66%. A stand-in is a shared category
whose rows look like the rare row, so the row keeps every other value with a category that fits
them, and no rare value is learned or written.

"Most like" is the nearest row over the other parts of the modelled row (Gower's distance): a
number by its difference over its range (0 to 1), a code by whether it differs (1); among at
most `CANDIDATES` shared rows drawn at random (fewer where the rare rows are many), ties broken
at random. Only training rows change: the fitted encoder, and so the model file, holds no
stand-in and no rare value, only that the pool's rows took stand-ins (`pool_learned`): a
condition on a value never seen then draws rows as for any category, not as the pool's.

Example:
    >>> import numpy as np
    >>> none = np.zeros((2, 0), dtype=np.int64)
    >>> rare = (np.array([[0.0], [1.0]]), none)  # two rare rows, by one number
    >>> shared = (np.array([[0.1], [0.9]]), none)  # two shared rows, of categories 5 and 7
    >>> nearest_codes(rare, shared, np.array([5, 7]), np.random.default_rng(0)).tolist()
    [5, 7]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from synthgen.columns import Encoded, TableEncoder

#: Shared rows a rare row is compared with (drawn at random beyond), and at least (where the
#: rare rows are so many that PAIRS would allow fewer): the cost stays linear in the rare rows.
CANDIDATES, FEWEST = 2048, 64
#: Rare row and candidate pairs compared per pooled column, at most (beyond FEWEST candidates).
PAIRS = 2**24
#: Rare rows compared at once (the distances of a chunk are CHUNK x CANDIDATES floats).
CHUNK = 512


def stand_ins(
    encoder: TableEncoder,
    data: Encoded,
    rng: np.random.Generator,
    context: Encoded | None = None,
) -> Encoded:
    """`data` (the encoded training rows of `encoder`'s table) with every rare-pooled category
    replaced by a stand-in (see the module's docstring); `data` itself where no column pools.
    `context`: more parts of the same rows to match on (the columns a rule decides, which the
    model does not learn: a country's region)."""
    from synthgen.columns import KINDS, Encoded

    pooled = []  # (discrete part number, rare code, shared codes, the column's state)
    at = 0
    for col, state in zip(encoder.schema.columns, encoder.states):
        kind = KINDS[col.kind]
        for part in kind.parts(col.name, state):
            if part.continuous:
                continue
            rare = kind.rare_code(state) if kind.rare_code is not None else None
            if rare is not None and part.name == col.name and len(state["categories"]):
                pooled.append((at, rare, len(state["categories"]), state))
            at += 1
    if not pooled or not data.n_rows:
        return data
    discrete = data.discrete.copy()
    numbers = (
        data.continuous if context is None else np.hstack([data.continuous, context.continuous])
    )
    more = context.discrete if context is not None else np.zeros((data.n_rows, 0), dtype=np.int64)
    low, span = _range(numbers)
    for j, rare, shared, state in pooled:
        rows = np.flatnonzero(discrete[:, j] == rare)
        donors = np.flatnonzero(discrete[:, j] < shared)
        if not len(rows) or not len(donors):
            continue
        most = max(FEWEST, min(CANDIDATES, PAIRS // len(rows)))
        if len(donors) > most:
            donors = np.sort(rng.choice(donors, most, replace=False))

        def side(at: np.ndarray, j: int = j) -> tuple[np.ndarray, np.ndarray]:
            # only the rows compared are copied (a table of millions pools few of them)
            codes = np.hstack([np.delete(discrete[at], j, axis=1), more[at]])
            return (numbers[at] - low) / span, codes

        discrete[rows, j] = nearest_codes(side(rows), side(donors), discrete[donors, j], rng)
        state["stand_ins"] = True  # the model learns no row of the pool (see `pool_learned`)
    return Encoded(data.continuous, discrete, data.n_rows)


def nearest_codes(
    rows: tuple[np.ndarray, np.ndarray],
    donors: tuple[np.ndarray, np.ndarray],
    codes: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """For each row of `rows` (numbers over their range, codes), the code of its nearest row of
    `donors` (`codes`: theirs): the sum over parts of the difference of numbers and of 1 per
    differing code."""
    (x, c), (dx, dc) = rows, donors
    out = np.empty(len(x), dtype=codes.dtype)
    for lo in range(0, len(x), CHUNK):
        hi = min(lo + CHUNK, len(x))
        # a random fraction of the smallest step breaks ties without favouring any donor
        dist = rng.random((hi - lo, len(dx))) * 1e-6
        for p in range(x.shape[1]):
            dist += np.abs(x[lo:hi, p][:, None] - dx[None, :, p])
        for p in range(c.shape[1]):
            dist += c[lo:hi, p][:, None] != dc[None, :, p]
        out[lo:hi] = codes[dist.argmin(axis=1)]
    return out


def _range(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's least value and span (1 where it has one value): a number's distance is
    its difference over the span (Gower's: a gap between two groups of values stays a gap,
    which ranks close up)."""
    if not x.size:
        return np.zeros(x.shape[1]), np.ones(x.shape[1])
    span = np.ptp(x, axis=0)
    return x.min(axis=0), np.where(span > 0, span, 1.0)


def pool_learned(state: dict) -> bool:
    """Whether a model learned rows of a category column's rare pool (not when they took
    stand-ins: a model file of before stand-ins, or a model that learns its own way)."""
    return not state.get("stand_ins", False)
