"""The domain of a DP model, found without reading it off the data: each column's values as
cells, with a differentially private count of rows in each.

A number's cells come from a fixed grid that does not depend on the data: every integer from
-1,000 to 1,000 (for integer columns), about twelve cells a decade beyond (1, 1.25, 1.5, 2, ...
times a power of ten, both signs), a cell that holds 0 alone, and months for dates. Their noisy
counts (opendp's Gaussian mechanism, one group-by per column with the cells as public keys) give
the bounds (the outermost cells whose count clears four standard deviations of the noise), the
spikes (a single value holding a large share, kept exact) and the shape inside each bin of the
model. A category's values are the keys whose noisy counts pass opendp's threshold (the delta
of the budget); a public schema's bounds and categories are taken as they are.

Example:
    >>> lo, hi, point = number_cells(integer=True, low=0, high=3)
    >>> lo.tolist(), hi.tolist(), point.tolist()
    ([-1.0, 0.0, 1.0, 2.0], [0.0, 1.0, 2.0, 3.0], [True, True, True, True])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# cells beyond the integers: these multiples of each power of ten
_MANTISSAS = (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)
_POWERS = range(-6, 16)
_INTEGERS = 1000  # integer columns: one cell per integer in [-1000, 1000]
_ZERO = 1e-12  # floats: the cell (-1e-12, 0] holds 0 alone
_YEARS = (1900, 2100)  # dates: one cell per month between these
#: A count is taken as real past this many standard deviations of its noise.
NOISE_SDS = 4.0


def number_cells(
    integer: bool, low: float | None = None, high: float | None = None, dates: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid's cells (lo, hi], as arrays `lo`, `hi` and `point` (the cell holds one value,
    `hi`), cut to [low, high] where the bounds are public."""
    if dates:
        import pandas as pd

        months = pd.date_range(f"{_YEARS[0]}-01-01", f"{_YEARS[1]}-01-01", freq="MS")
        cuts = months.to_numpy().astype("datetime64[us]").astype(np.int64).astype(float) / 1e6
    else:
        mags = np.array([m * 10.0**p for p in _POWERS for m in _MANTISSAS])
        cuts = np.concatenate([-mags, [0.0], mags])
        if integer:
            cuts = cuts[np.abs(cuts) > _INTEGERS]
            cuts = np.concatenate([cuts, np.arange(-_INTEGERS - 1, _INTEGERS + 1, dtype=float)])
        else:
            cuts = np.append(cuts, -_ZERO)
        cuts = np.unique(cuts)
    if low is not None and high is not None:
        inside = (cuts >= low) & (cuts < high)
        first = low - 1 if integer else np.nextafter(low, -np.inf)
        cuts = np.unique(np.concatenate([[first], cuts[inside], [high]]))
    lo, hi = cuts[:-1], cuts[1:]
    point = (hi - lo <= 1) if integer else (hi - lo <= _ZERO)
    return lo, hi, point


def cell_codes(x: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Each value's cell (cells are (lo, hi]; values past the ends go to the end cells); -1 for
    a missing value."""
    codes = np.minimum(np.searchsorted(hi, x, side="left"), len(hi) - 1)
    return np.where(np.isnan(x), -1, codes)


def _opendp():
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def noisy_histogram(codes: np.ndarray, cells: int, rho: float) -> tuple[np.ndarray, float]:
    """Rows per cell (`codes` in [0, cells); -1, a missing value, counted in a last cell) plus
    opendp's Gaussian noise (integer, rho-zCDP: a row moves one count by one), and the noise's
    scale.

    Example:
        >>> counts, scale = noisy_histogram(np.array([0, 0, 1, -1]), 2, rho=1e6)
        >>> counts.tolist(), scale < 0.01
        ([2.0, 1.0, 1.0], True)
    """
    dp = _opendp()
    exact = np.bincount(np.where(codes < 0, cells, codes), minlength=cells + 1)

    def gaussian(scale: float):
        return dp.m.make_gaussian(
            dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=int), scale=scale
        )

    scale = dp.binary_search_param(gaussian, d_in=1, d_out=rho, T=float)
    return np.asarray(gaussian(scale)(exact.tolist()), dtype=float), float(scale)


def released_keys(
    columns: dict[str, Any], rho: float, delta: float, on_query: Callable[[], None]
) -> dict[str, dict[Any, float]]:
    """The values of each column (polars Series by name, nulls as nulls) whose noisy count of
    rows passes opendp's threshold, with that count: one group-by per column, the budget
    (rho, delta) split evenly over them (delta pays for naming values found in the data)."""
    import polars as pl

    dp = _opendp()
    context = dp.Context.compositor(
        data=pl.LazyFrame([s.rename(name) for name, s in columns.items()]),
        privacy_unit=dp.unit_of(contributions=1),
        privacy_loss=dp.loss_of(rho=rho, delta=delta),
    )
    # each query a hair under its even share: shares summed in floats may pass the whole
    each = {"rho": rho / len(columns) * (1 - 1e-9), "delta": delta / len(columns) * (1 - 1e-9)}
    out: dict[str, dict[Any, float]] = {}
    for name in columns:
        released = _released_counts(context, dp, name, each)
        out[name] = dict(zip(released[name].to_list(), released["len"].to_list()))
        on_query()
    return out


def _released_counts(context: Any, dp: Any, name: str, budget: dict[str, float]) -> Any:
    """One column's thresholded counts. A budget so large that opendp's threshold would fall
    under one row (epsilon in the hundreds, or a large delta) is refused by opendp: the query
    then spends a quarter of its rho, and again, until the threshold is a row or more (spending
    less than allowed keeps the guarantee)."""
    asked = dict(budget)
    for _ in range(40):
        try:
            query = context.query(**asked).group_by(name).agg(dp.len(signed=False))
            return query.release().collect()
        except dp.OpenDPException as e:
            if "threshold must be greater than 1" not in str(e):
                raise
            asked["rho"] /= 4
    raise RuntimeError("opendp refused every budget for a thresholded count")


def number_domain(
    counts: np.ndarray,
    cells: tuple[np.ndarray, np.ndarray, np.ndarray],
    scale: float,
    max_bins: int,
    public_bounds: bool,
) -> dict[str, Any]:
    """A numeric column's domain from its cells' noisy counts (the last: nulls): the cells inside
    the bounds, each one's share of rows (counts under `NOISE_SDS` noise scales are 0), the
    model's bins over them (`bin_of_cell`), and whether nulls were found."""
    lo, hi, point = cells
    mass = pooled_mass(counts[:-1], scale)
    nulls = bool(counts[-1] > NOISE_SDS * scale)
    cleared = bool(mass.any())
    if public_bounds or not cleared:
        keep = np.arange(len(lo))  # public bounds; or nothing cleared the noise: the whole grid
    else:
        found = np.flatnonzero(mass)
        keep = np.arange(found[0], found[-1] + 1)
    lo, hi, point, mass = lo[keep], hi[keep], point[keep], mass[keep]
    if not mass.any():
        mass = np.ones(len(lo))
    return {
        "lo": lo.tolist(),
        "hi": hi.tolist(),
        "point": point.tolist(),
        "mass": (mass / mass.sum()).tolist(),
        "bin_of_cell": bins_of(mass, point, max_bins).tolist(),
        "nulls": bool(nulls),
        "found": cleared or public_bounds,
    }


def pooled_mass(counts: np.ndarray, scale: float) -> np.ndarray:
    """Each cell's rows, from noisy counts: a cell whose count clears `NOISE_SDS` noise scales
    keeps it; the others are pooled with their neighbours in aligned blocks of 2, 4, 8, ...
    cells, and a block whose sum clears the noise of a sum (scale * sqrt(width)) shares what it
    holds beyond the cells already placed evenly among the rest. Where nothing clears, 0.

    Example:
        >>> pooled_mass(np.array([50.0, 1, 4, 3, 4, 0, -1, 1]), scale=1.0).tolist()
        [50.0, 0.0, 3.5, 3.5, 0.0, 0.0, 0.0, 0.0]
    """
    m = len(counts)
    mass = np.zeros(m)
    placed = np.zeros(m, dtype=bool)
    width = 1
    while width < 2 * m:
        starts = np.arange(0, m, width)
        sums = np.add.reduceat(counts, starts)
        held = np.add.reduceat(mass, starts)
        free = np.add.reduceat((~placed).astype(float), starts)
        share = sums - held
        clear = (share > NOISE_SDS * scale * np.sqrt(width)) & (free > 0)
        block = np.repeat(np.arange(len(starts)), width)[:m]
        cells = clear[block] & ~placed
        mass[cells] = (share / np.maximum(free, 1))[block][cells]
        placed |= cells
        width *= 2
    return mass


def bins_of(mass: np.ndarray, point: np.ndarray, max_bins: int) -> np.ndarray:
    """Each cell's bin: adjacent cells merged into at most about `max_bins` bins of similar
    mass, a single value holding at least half a bin's share (a spike: 0 in capital-gain, 40
    in hours-per-week) a bin of its own.

    Example:
        >>> bins_of(np.array([1.0, 1, 1, 6, 1]), np.array([True] * 5), 3).tolist()
        [0, 0, 0, 1, 2]
    """
    share = mass / mass.sum()
    target = 1.0 / max_bins
    spike = point & (share >= target / 2)
    out = np.empty(len(mass), dtype=np.int64)
    current, held = 0, 0.0
    for i in range(len(mass)):
        if spike[i]:
            if held > 0:
                current += 1
            out[i] = current
            current, held = current + 1, 0.0
            continue
        if held > 0 and held + share[i] > target * 1.5:
            current, held = current + 1, 0.0
        out[i] = current
        held += share[i]
    if held == 0 and current > 0 and not spike[-1]:
        current -= 1  # a trailing bin of empty cells joins the one before it
        out[out > current] = current
    return out


def draw_in_bins(
    bins: np.ndarray, domain: dict[str, Any], integer: bool, uniform: np.ndarray
) -> np.ndarray:
    """A value for each bin code: a cell of the bin drawn by its noisy share, then uniformly
    inside the cell (a spike's value exactly; integers stay integers). `uniform`: (n, 2) draws."""
    lo, hi = np.asarray(domain["lo"]), np.asarray(domain["hi"])
    point, mass = np.asarray(domain["point"], dtype=bool), np.asarray(domain["mass"])
    of = np.asarray(domain["bin_of_cell"])
    n_bins = int(of.max()) + 1
    # per bin, the cumulative shares of its cells (cells of a bin are adjacent)
    totals = np.bincount(of, weights=mass, minlength=n_bins)
    flat = np.where(totals[of] > 0, mass, 1.0)
    totals = np.bincount(of, weights=flat, minlength=n_bins)
    cum = np.cumsum(flat)
    start = np.searchsorted(of, np.arange(n_bins), side="left")
    before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    target = before[bins] + uniform[:, 0] * totals[bins]
    cell = np.searchsorted(cum, target, side="right")
    last = np.searchsorted(of, bins, side="right") - 1
    cell = np.clip(cell, start[bins], last)
    a, b = lo[cell], hi[cell]
    if integer:
        first = np.floor(a) + 1
        x = first + np.floor(uniform[:, 1] * (np.floor(b) - first + 1))
        return np.minimum(x, np.floor(b))
    return np.where(point[cell], b, a + uniform[:, 1] * (b - a))
