"""Conditioning a multivariate normal: regression on fixed values, and draws restricted to boxes.

A condition on a Gaussian model's dimension is a union of intervals per row (a category is an
interval of its normal score, `in` several, a numeric range one, a given value a point). The
conditioned dimensions are drawn from their joint truncated normal, then the others from the
Gaussian conditional on them:

- points are fixed and enter by regression (exact);
- one remaining dimension: inverse CDF of the truncated normal (exact);
- several: a few rounds of plain rejection from their normal (exact draws where the box is not
  rare), and for the rows still without a draw, Gibbs sampling, one dimension at a time from its
  truncated conditional. Chains start from an accepted draw when the rows share their conditions
  (they then stay exact, and run until the untruncated sampler's correlation with the copied start
  is below 0.05, at least 3 sweeps); otherwise (rows to fill, each with its own given cells) from a
  sequential draw, each dimension given the ones before it, for as many sweeps as the untruncated
  sampler needs to forget its start to 1e-3, at most 50. The rate per sweep is the spectral radius
  of the Gauss-Seidel iteration on the precision matrix.

Everything is vectorised over rows; a union of intervals is given as arrays `a`, `b` of shape
(rows or 1, pieces), NaN for an unused piece.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = truncated_normal(np.zeros(5), 1.0, np.array([[1.0]]), np.array([[2.0]]), rng)
    >>> bool(((x >= 1) & (x <= 2)).all())
    True
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

#: Beyond this many standard deviations a bound is treated as this far (a point at the edge of
#: the real range maps to an infinite normal score; rows there are drawn from the far tail).
Z_MAX = 8.0
_REJECTION_ROUNDS = 4
# Shared conditions whose box holds fewer than this share of the draws stop the rejection rounds
# after the first: more rounds would each spare few rows their Gibbs sweeps.
_RARE_BOX = 0.05
_JITTER = 1e-9
_MAX_SWEEPS = 50


def _rows(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return a if len(a) == 1 else a[idx]


def truncated_normal(
    mu: np.ndarray, sd: float, a: np.ndarray, b: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draws of N(mu, sd^2) restricted to the union of [a[i, r], b[i, r]] over r (inverse CDF)."""
    n = len(mu)
    alpha = (a - mu[:, None]) / sd
    beta = (b - mu[:, None]) / sd
    empty = ~(alpha <= beta)
    # in the upper tail, work with survival probabilities: Phi(8) - Phi(7) is 0 in floats
    upper = alpha > 0
    lo = ndtr(np.where(upper, -beta, alpha))
    hi = ndtr(np.where(upper, -alpha, beta))
    mass = np.where(empty, 0.0, np.maximum(hi - lo, 0.0))
    u = rng.random((n, 2))
    if mass.shape[1] == 1:  # one interval per row: its column (a gather by rows costs more)
        total = mass[:, 0]

        def chosen(x: np.ndarray) -> np.ndarray:
            return x[:, 0]

    else:
        cum = np.cumsum(mass, axis=1)
        total = cum[:, -1]
        pick = np.argmax(cum > (u[:, :1] * total[:, None]), axis=1)
        rows = np.arange(n)

        def chosen(x: np.ndarray) -> np.ndarray:
            return x[rows, pick]

    p = np.minimum(np.maximum(chosen(lo) + u[:, 1] * chosen(mass), 1e-300), 1 - 1e-16)
    x = ndtri(p)
    x = np.where(chosen(upper), -x, x)
    x = np.minimum(np.maximum(x, chosen(alpha)), chosen(beta))
    dead = ~(total > 0)
    if dead.any():  # no probability within reach (a point, or far tails): the nearest point
        al, be = alpha[dead], beta[dead]
        with np.errstate(invalid="ignore"):
            dist = np.where(empty[dead], np.inf, np.maximum(np.maximum(al, -be), 0.0))
        best = np.argmin(dist, axis=1)
        r = np.arange(len(best))
        x[dead] = np.clip(0.0, al[r, best], be[r, best])
    return mu + sd * x


def inside(z: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each z[i] lies in one of its intervals."""
    with np.errstate(invalid="ignore"):
        return ((z[:, None] >= a) & (z[:, None] <= b)).any(axis=1)


def regression(cov: np.ndarray, given: list[int], rest: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """`coef`, `residual`: x[rest] | x[given] is N(x[given] @ coef, residual) for N(0, cov)."""
    s_gg = cov[np.ix_(given, given)] + _JITTER * np.eye(len(given))
    s_gr = cov[np.ix_(given, rest)]
    coef = np.linalg.solve(s_gg, s_gr)
    residual = cov[np.ix_(rest, rest)] - s_gr.T @ coef
    return coef, (residual + residual.T) / 2


def _cholesky(cov: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(cov)
    return vecs * np.sqrt(np.maximum(vals, 0.0))  # L with L @ L.T == cov, also when singular


def gibbs_sweeps(precision: np.ndarray, tolerance: float = 1e-3, least: int = 10) -> int:
    """Sweeps after which a Gibbs chain on N(., precision^-1) has forgotten its start to
    `tolerance`: the Gauss-Seidel iteration matrix's spectral radius is its rate per sweep."""
    lower = np.tril(precision)
    step = -np.linalg.solve(lower, np.triu(precision, 1))
    radius = float(np.max(np.abs(np.linalg.eigvals(step))))
    if radius <= 0:
        return least
    if radius >= 1:
        return 200
    return int(np.clip(np.ceil(np.log(tolerance) / np.log(radius)), least, 200))


def truncated_mvn(
    cov: np.ndarray,
    a: list[np.ndarray],
    b: list[np.ndarray],
    n: int,
    rng: np.random.Generator,
    mean: np.ndarray | None = None,
) -> np.ndarray:
    """`n` draws of N(mean, cov) with dimension j in the union of intervals [a[j], b[j]]
    (arrays of shape (n or 1, pieces)). Shape (n, len(a))."""
    t = len(a)
    mean = np.zeros((n, t)) if mean is None else np.broadcast_to(mean, (n, t))
    z = np.empty((n, t))
    points = [j for j in range(t) if a[j].shape[1] == 1 and np.array_equal(a[j], b[j])]
    for j in points:
        z[:, j] = np.broadcast_to(a[j][:, 0], (n,))
    free = [j for j in range(t) if j not in points]
    if not free:
        return z
    mu = mean[:, free].copy()
    cond = cov[np.ix_(free, free)]
    if points:
        coef, cond = regression(cov, points, free)
        mu += (z[:, points] - mean[:, points]) @ coef
    af, bf = [a[j] for j in free], [b[j] for j in free]
    if len(free) == 1:
        z[:, free[0]] = truncated_normal(mu[:, 0], float(np.sqrt(cond[0, 0])), af[0], bf[0], rng)
        return z
    z[:, free] = _box(mu, cond, af, bf, rng)
    return z


def _box(mu, cov, a, b, rng) -> np.ndarray:
    n, t = mu.shape
    out = np.full((n, t), np.nan)
    shared = all(len(x) == 1 for x in a)
    chol = _cholesky(cov)
    pending = np.arange(n)
    for _ in range(_REJECTION_ROUNDS):
        if not pending.size:
            return out
        draw = mu[pending] + rng.standard_normal((len(pending), t)) @ chol.T
        ok = np.ones(len(pending), dtype=bool)
        for j in range(t):
            ok &= inside(draw[:, j], _rows(a[j], pending), _rows(b[j], pending))
        out[pending[ok]] = draw[ok]
        pending = pending[~ok]
        if shared and 0 < ok.sum() < _RARE_BOX * len(ok):
            break  # a rare box: its few draws start the (exact) chains of the other rows
    if not pending.size:
        return out
    accepted = np.flatnonzero(~np.isnan(out[:, 0]))
    stationary = shared and accepted.size > 0
    if stationary:
        start = out[rng.choice(accepted, len(pending))]
    else:
        start = _sequential(mu[pending], cov, [_rows(x, pending) for x in a],
                            [_rows(x, pending) for x in b], rng)  # fmt: skip
    precision = np.linalg.inv(cov + _JITTER * np.eye(t))
    out[pending] = _gibbs(
        start,
        mu[pending],
        precision,
        [_rows(x, pending) for x in a],
        [_rows(x, pending) for x in b],
        rng,
        # a chain started at an exact draw stays exact: it only has to move away from its copy
        gibbs_sweeps(precision, 0.05, 3)
        if stationary
        else min(gibbs_sweeps(precision), _MAX_SWEEPS),
    )
    return out


def _sequential(mu, cov, a, b, rng) -> np.ndarray:
    """A start near the target: each dimension from its truncated normal given the ones drawn
    before it (the later constraints are what the Gibbs sweeps then account for)."""
    n, t = mu.shape
    z = np.empty((n, t))
    for j in range(t):
        if j == 0:
            mean, var = mu[:, 0], cov[0, 0]
        else:
            coef, res = regression(cov, list(range(j)), [j])
            mean, var = mu[:, j] + (z[:, :j] - mu[:, :j]) @ coef[:, 0], res[0, 0]
        z[:, j] = truncated_normal(mean, float(np.sqrt(max(var, 1e-12))), a[j], b[j], rng)
    return z


def _gibbs(z, mu, precision, a, b, rng, sweeps: int) -> np.ndarray:
    z = z.copy()
    t = z.shape[1]
    diag = np.diag(precision)
    sd = 1.0 / np.sqrt(diag)
    for _ in range(sweeps):
        for j in range(t):
            dev = z - mu
            # E[z_j | rest] = mu_j - sum_{k != j} P_jk (z_k - mu_k) / P_jj
            shift = (dev @ precision[:, j] - dev[:, j] * diag[j]) / diag[j]
            z[:, j] = truncated_normal(mu[:, j] - shift, sd[j], a[j], b[j], rng)
    return z
