"""The noise on cart's numbers: a value's isolation in its column and its gap in its leaf
(`isolation`, `leaf_gaps`), and how near the drawn rows come to the training rows, checked when
cart fits (`nearness`), with the leaf-wide floor it then sets (`leaf_floor`).

On a table of few columns, a row drawn along the trees takes its last number from one training
row of a leaf whose rows all sit, in every earlier column, within the leaf's narrow band: the
drawn row all but repeats that training row. ISLP's Default (8,000 rows; two numbers, two flags)
read a DCR share of 0.589 and a membership AUC of 0.660 that way. With many columns the earlier
columns come from other rows and no such near copy forms.

The check needs no held-out rows: a fresh row lies as far from the training rows as they lie
from each other, so `nearness` compares the median distance of drawn rows to their nearest
training row with the median distance of training rows to their nearest other one. Below
`NEAR`, cart blurs the numbers fewer than 5 rows hold by at least a share of their leaf's spread
(`BLURS`) and checks again. Measured (ratios through the report's distances on 2,000-row
samples of an 80% split, seed 0): Default 0.77, kidney_transplant 0.68, airports 0.65, where
the DCR share was 0.55-0.59; taxis 1.19, titanic 1.41, adult 0.95, Wage 0.91, seattle-weather
0.97, where it was 0.53-0.54.

Distances are those of the report's privacy tests, in the model's encoded parts: a number by its
rank among the training values (0 to 1), a code 1 apart from any other code.

Example:
    >>> rng = np.random.default_rng(0)
    >>> train = rng.normal(size=(500, 2))
    >>> cards, asked = [None, None], np.arange(500)
    >>> round(nearness(rng.normal(size=(500, 2)), train, cards, asked), 1)  # fresh rows: about 1
    1.0
    >>> nearness(train + 0.001, train, cards, asked) < 0.1  # near copies
    True
"""

from __future__ import annotations

import numpy as np

from synthgen.compare.values import mid_ranks

#: Rows drawn, and training rows asked their nearest other, each against every training row (at
#: most TRAIN_ROWS of them, drawn at random: a near copy of a row left out goes unseen). 500: the
#: same blur as with 1,000 on the 40 tables measured, over seeds 0-4, in half the time.
CHECK_ROWS = 500
TRAIN_ROWS = 10_000
_BLOCK = 1 << 22  # distances computed at once: 16 MB
_ONE_HOT = 64  # a code part of more codes is compared directly (its one-hot table would grow)
_ONE_HOT_WIDTH = 512  # one-hot columns in all (10,000 training rows: 20 MB)
#: Below this ratio of median nearest distances, drawn rows are nearer the training rows than
#: new rows would be.
NEAR = 0.85
#: The leaf blurs tried in turn (the least noise on a number, in its leaf's standard deviation
#: times rows^-1/5, Silverman's rate); the last is kept if none passes.
BLURS = (0.5, 1.0)


def nearness(
    drawn: np.ndarray, train: np.ndarray, cards: list[int | None], asked: np.ndarray
) -> float:
    """Median distance of `drawn` rows to their nearest `train` row over the median distance of
    the training rows `asked` (indices) to their nearest other one (parts as columns, of
    cardinalities `cards`: None for a number, ranked among the training values). Every training
    row is a candidate neighbour: a near copy is of one row, which a sample of them would miss.
    """
    # single precision: ranks and code matches, a difference far above its rounding
    a = _ranked(drawn, cards, train).astype(np.float32)
    b = _ranked(train, cards, train).astype(np.float32)
    to_train = _nearest(a, b, cards)
    among = _nearest(b[asked], b, cards, asked)
    return float(np.median(to_train) / max(np.median(among), 1e-12))


def _ranked(x: np.ndarray, cards: list[int | None], reference: np.ndarray) -> np.ndarray:
    """`x` with each number replaced by its mid-rank among `reference`'s values (the report's)."""
    out = x.astype(float).copy()
    for j, card in enumerate(cards):
        if card is None:
            out[:, j] = mid_ranks(np.sort(reference[:, j]), x[:, j])
    return out


def _nearest(
    a: np.ndarray, b: np.ndarray, cards: list[int | None], itself: np.ndarray | None = None
) -> np.ndarray:
    """Each row of `a`'s distance to its nearest row of `b` (row `itself[i]` of b left out),
    in blocks of `_BLOCK` cells. Codes of a part of at most `_ONE_HOT` count their mismatches
    through one-hot products (the parts' count less the codes two rows share), up to
    `_ONE_HOT_WIDTH` one-hot columns in all; other parts are compared directly, so that the
    one-hot tables stay small whatever the table's categories."""
    numbers = [j for j, card in enumerate(cards) if card is None]
    few: list[tuple[int, int]] = []
    many: list[int] = []
    width = 0
    for j, card in enumerate(cards):
        if card is None:
            continue
        if card <= _ONE_HOT and width + card <= _ONE_HOT_WIDTH:
            few.append((j, card))
            width += card
        else:
            many.append(j)
    a_all, b_all = _joined(a, numbers, few), _joined(b, numbers, few)
    b_sq = (b[:, numbers] ** 2).sum(axis=1)[None, :] + len(few)
    out = np.empty(len(a))
    step = max(1, _BLOCK // max(len(b), 1))
    for start in range(0, len(a), step):
        part = a_all[start : start + step]
        a_sq = (a[start : start + step, numbers] ** 2).sum(axis=1)[:, None]
        squared = a_sq + b_sq - 2.0 * part @ b_all.T
        for j in many:
            squared += a[start : start + step, j][:, None] != b[:, j][None, :]
        if itself is not None:
            squared[np.arange(len(part)), itself[start : start + step]] = np.inf
        out[start : start + len(part)] = np.sqrt(np.maximum(squared.min(axis=1), 0.0))
    return out


def _joined(x: np.ndarray, numbers: list[int], few: list[tuple[int, int]]) -> np.ndarray:
    """The numbers, then each code part of `few` one-hot at 1/sqrt(2): a row times another gives
    the numbers' product plus half the codes they share, so that |a|^2 + |b|^2 - 2ab (with one
    per code part in the squares) adds one per code that differs."""
    width = len(numbers) + sum(card for _, card in few)
    out = np.zeros((len(x), width), dtype=x.dtype)
    out[:, : len(numbers)] = x[:, numbers]
    at = len(numbers)
    for j, card in few:
        code = np.clip(x[:, j].astype(np.int64), 0, card - 1)
        out[np.arange(len(x)), at + code] = np.sqrt(0.5)
        at += card
    return out


def leaf_floor(values: np.ndarray, offsets: np.ndarray, blur: float) -> np.ndarray:
    """For each pooled value (sorted by leaf), `blur` times its leaf's standard deviation times
    the leaf's rows^-1/5 (Silverman's rate).

    Example:
        >>> leaf_floor(np.array([0.0, 2.0, 5.0]), np.array([0, 2, 3]), 1.0).round(3).tolist()
        [0.871, 0.871, 0.0]
    """
    sizes = np.diff(offsets)
    leaf_of = np.repeat(np.arange(len(sizes)), sizes)
    mean = np.bincount(leaf_of, weights=values) / sizes
    spread = np.bincount(leaf_of, weights=(values - mean[leaf_of]) ** 2) / sizes
    return (blur * np.sqrt(spread) * sizes.astype(float) ** -0.2)[leaf_of]


def isolation(values: np.ndarray, crowd: int) -> np.ndarray:
    """For each pooled value, the span of the `crowd` rows' values nearest it in the whole pool
    (the part's column: its distance to the `crowd`-th nearest other row's value, the nearest
    window of `crowd` + 1 rows); 0 for a value at least `crowd` rows hold.

    Example:
        >>> isolation(np.array([1.0, 1.0, 2.0, 5.0, 7.0, 1.0]), crowd=2)
        array([0., 0., 1., 3., 5., 0.])
    """
    n = len(values)
    order = np.argsort(values, kind="stable")
    v = values[order]
    span = np.full(n, np.ptp(v) if n else 0.0)
    if n > crowd:
        pad = np.r_[np.full(crowd, -np.inf), v, np.full(crowd, np.inf)]
        at = np.arange(n) + crowd
        for back in range(crowd + 1):  # the window of crowd + 1 rows starting `back` rows down
            lo, hi = pad[at - back], pad[at - back + crowd]
            span = np.minimum(span, np.maximum(v - lo, hi - v))
    uniq, first, held = np.unique(v, return_index=True, return_counts=True)
    # every row of a value gets the value's smallest span (the same noise for equal values)
    per_value = np.where(held >= crowd, 0.0, np.minimum.reduceat(span, first) if n else span)
    out = np.empty(n)
    out[order] = per_value[np.searchsorted(uniq, v)]
    return out


def leaf_gaps(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """For each pooled value (sorted within leaves), the gap to its nearest neighbour in its leaf:
    0 for a value repeated there (or alone in its leaf).

    Example:
        >>> leaf_gaps(np.array([1.0, 1.0, 2.0, 5.0, 7.0]), np.array([0, 4, 5]))
        array([0., 0., 1., 3., 0.])
    """
    n = len(values)
    gap = np.diff(values)
    start = np.zeros(n, dtype=bool)
    start[offsets[:-1][offsets[:-1] < n]] = True
    left = np.full(n, np.inf)
    left[1:] = np.where(start[1:], np.inf, gap)
    right = np.full(n, np.inf)
    right[:-1] = np.where(start[1:], np.inf, gap)
    near = np.minimum(left, right)
    near[~np.isfinite(near)] = 0.0
    return np.where((left == 0) | (right == 0), 0.0, near)
