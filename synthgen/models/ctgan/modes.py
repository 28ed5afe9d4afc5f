"""CTGAN's mode-specific normalisation (Xu et al. 2019, section 4.2): the column encoding that
turns each number into its mode of a variational Gaussian mixture and a scalar alpha.

A number's mixture has at most `MAX_MODES` modes; a value held by at least `SPIKE_SHARE` of the
rows is a mode of its own, exact (std 0); a number correlated at least `LINK_CORRELATION` with
an earlier one is modelled as its difference from it (`find_links`, `unlink`, `relink`). A value
becomes its mode, drawn from the posterior (`encode_modes`), and alpha = (value - mean) / (4 std);
`decode_modes` is the inverse. The mixtures of all columns are fitted at once, in numpy.

Example:
    >>> x = np.concatenate([np.zeros(300), np.random.default_rng(0).normal(50, 5, 700)])[:, None]
    >>> means, stds, weights, counts = fit_modes_with_spikes(x, np.random.default_rng(0))
    >>> alpha, modes = encode_modes(x, means, np.where(stds > 0, stds, 1.0), weights,
    ...                             np.random.default_rng(1))
    >>> bool(np.abs(decode_modes(alpha, modes, means, stds) - x)[300:].max() < 1e-6)
    True
"""

from __future__ import annotations

import numpy as np

MAX_MODES = 10
# A value held by at least SPIKE_SHARE of a continuous part's rows (capital-gain's 0, 92% of
# adult; hours-per-week's 40) is a mode of its own, exact (std 0), at most MAX_SPIKES per part;
# the mixture is fitted on the other values.
SPIKE_SHARE, MAX_SPIKES = 0.05, 3
# A continuous part this correlated with an earlier one (a trip's dropoff time with its pickup) is
# modelled as its residual from that part (the trip's duration), and added back when sampling.
LINK_CORRELATION = 0.999
MIXTURE_ROWS = 5_000  # rows the mixtures are fitted on (a random subsample when there are more)
MODE_WEIGHT_FLOOR = 0.005  # modes lighter than this are dropped after the fit
_ALPHA_CLIP = 0.99
# Priors of the variational mixture on standardised values (Bishop, PRML 10.2): a sparse
# Dirichlet on the weights prunes the modes the data do not need; the Normal-Gamma prior on each
# mode's mean and precision is centred on the column (mean 0, variance 1).
_WEIGHT_PRIOR = 1e-3
_MEAN_PRIOR_STRENGTH = 1.0
_GAMMA_SHAPE, _GAMMA_RATE = 0.5, 0.5


def fit_modes(
    cont: np.ndarray,
    rng: np.random.Generator,
    *,
    max_modes: int = MAX_MODES,
    max_rows: int = MIXTURE_ROWS,
    floor: float | np.ndarray = MODE_WEIGHT_FLOOR,
    groups: int = 512,
    iterations: int = 100,
    tol: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A variational Gaussian mixture per column of `cont`, all columns fitted at once.

    Returns `(means, stds, weights, counts)`, each of the first three (p, max_modes), padded after
    the first `counts[j]` modes of column j (heaviest first; the kept weights sum to 1).

    Speed: at most `max_rows` rows, and each column's sorted values are cut into `groups` runs of
    consecutive values; EM works on each run's count, mean and variance (exact sufficient
    statistics), assuming only that a run's values share their posterior over modes.

    Example:
        >>> x = np.concatenate([np.zeros(500), np.full(500, 100.0)])
        >>> x = x + np.random.default_rng(0).normal(0, 1, 1000)
        >>> means, stds, weights, counts = fit_modes(x[:, None], np.random.default_rng(0))
        >>> int(counts[0]), sorted(np.round(means[0, :2]).tolist())
        (2, [0.0, 100.0])
    """
    from scipy.special import digamma

    n, p = cont.shape
    if p == 0 or n == 0:
        empty = np.zeros((p, max_modes))
        return empty, empty + 1.0, empty, np.ones(p, dtype=np.int64)
    rows = rng.choice(n, max_rows, replace=False) if n > max_rows else np.arange(n)
    x = np.sort(cont[rows].T.astype(float), axis=1)  # (p, m)
    m = x.shape[1]
    loc = x.mean(axis=1, keepdims=True)
    scale = x.std(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    x = (x - loc) / scale
    starts = np.unique(np.arange(min(groups, m)) * m // max(1, min(groups, m)))
    weight = np.diff(np.append(starts, m)).astype(float)  # (g,)
    mu = np.add.reduceat(x, starts, axis=1) / weight  # (p, g)
    var = np.maximum(np.add.reduceat(x**2, starts, axis=1) / weight - mu**2, 0.0)
    k = max_modes
    # Start from a short 1-D k-means on quantile centres: deterministic, and tied centres (a column
    # with a heavy point mass) leave modes empty, which the sparse prior then removes.
    centres = x[:, ((np.arange(k) + 0.5) * m / k).astype(int)]  # (p, k)
    for _ in range(10):
        resp = np.eye(k)[np.abs(mu[:, :, None] - centres[:, None, :]).argmin(axis=2)]
        size = np.einsum("pgk,g->pk", resp, weight)
        sums = np.einsum("pgk,g,pg->pk", resp, weight, mu)
        centres = np.where(size > 0, sums / np.maximum(size, 1), centres)
    previous = None
    for _ in range(iterations):
        wr = resp * weight[None, :, None]
        size = wr.sum(axis=1) + 1e-10  # (p, k)
        mean = np.einsum("pgk,pg->pk", wr, mu) / size
        spread = (
            np.einsum("pgk,pgk->pk", wr, (mu[:, :, None] - mean[:, None, :]) ** 2 + var[:, :, None])
            / size
        )
        weight_post = _WEIGHT_PRIOR + size
        strength = _MEAN_PRIOR_STRENGTH + size
        centre = size * mean / strength
        shape = _GAMMA_SHAPE + size / 2
        rate = _GAMMA_RATE + 0.5 * (
            size * spread + _MEAN_PRIOR_STRENGTH * size * mean**2 / strength
        )
        if previous is not None and np.abs(size - previous).max() < tol * m:
            break
        previous = size
        log_weight = digamma(weight_post) - digamma(weight_post.sum(axis=1, keepdims=True))
        log_precision = digamma(shape) - np.log(rate)
        quad = 1 / strength[:, None, :] + (shape / rate)[:, None, :] * (
            (mu[:, :, None] - centre[:, None, :]) ** 2 + var[:, :, None]
        )
        log_resp = (log_weight + 0.5 * log_precision)[:, None, :] - 0.5 * quad
        log_resp -= log_resp.max(axis=2, keepdims=True)
        resp = np.exp(log_resp)
        resp /= resp.sum(axis=2, keepdims=True)
    weights = weight_post / weight_post.sum(axis=1, keepdims=True)
    order = np.argsort(-weights, axis=1, kind="stable")
    weights = np.take_along_axis(weights, order, axis=1)
    means = loc + scale * np.take_along_axis(centre, order, axis=1)
    stds = scale * np.sqrt(np.take_along_axis(rate / shape, order, axis=1))
    floor = np.broadcast_to(np.asarray(floor, dtype=float), (p,))
    counts = np.maximum((weights > floor[:, None]).sum(axis=1), 1)
    keep = np.arange(k)[None, :] < counts[:, None]
    weights = np.where(keep, weights, 0.0)
    return (
        np.where(keep, means, 0.0),
        np.where(keep, stds, 1.0),
        weights / weights.sum(axis=1, keepdims=True),
        counts.astype(np.int64),
    )


def find_spikes(
    cont: np.ndarray, share: float = SPIKE_SHARE, most: int = MAX_SPIKES
) -> list[np.ndarray]:
    """Per column of `cont`: the values held by at least `share` of the rows, at most `most`
    of them, the most frequent first.

    Example:
        >>> x = np.array([[0.0], [0.0], [0.0], [1.5], [2.5], [3.5]])
        >>> find_spikes(x, share=0.3)
        [array([0.])]
    """
    out = []
    for j in range(cont.shape[1]):
        values, counts = np.unique(cont[:, j], return_counts=True)
        top = np.argsort(-counts, kind="stable")[:most]
        out.append(values[top[counts[top] >= share * len(cont)]])
    return out


def fit_modes_with_spikes(
    cont: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`fit_modes` on the values off each column's spikes (`find_spikes`), the spikes then
    appended to the column's modes with std 0: a value at a spike is encoded exactly (its mode,
    alpha 0) and decoded exactly. As a mixture mode, adult's capital-gain 0 got a std of 100,
    and 18% of synthetic values were 1 to 125 (the real ones: 0 or at least 114)."""
    spikes = find_spikes(cont)
    smooth = cont.astype(float, copy=True)
    rest = np.ones(cont.shape[1])  # the share of rows off the spikes
    for j, values in enumerate(spikes):
        at = np.isin(smooth[:, j], values)
        rest[j] = 1 - at.mean() if len(at) else 1.0
        if at.any() and not at.all():  # stand-ins drawn from the other values
            smooth[at, j] = rng.choice(smooth[~at, j], int(at.sum()))
    # a mode is kept when it holds MODE_WEIGHT_FLOOR of all the rows, not of those off the
    # spikes (capital-loss, 95% zeros, had 8 modes for its other 5%, and an epoch cost 8% more)
    floor = MODE_WEIGHT_FLOOR / np.maximum(rest, MODE_WEIGHT_FLOOR)
    means, stds, weights, counts = fit_modes(smooth, rng, floor=floor)
    # spikes count against MAX_MODES (hours-per-week: 9 modes and 3 spikes made a new span width,
    # one more softmax per step); the lightest mixture modes go
    counts = np.minimum(counts, MAX_MODES - np.array([len(v) for v in spikes], dtype=np.int64))
    weights = np.where(np.arange(weights.shape[1])[None, :] < counts[:, None], weights, 0.0)
    extra = max((len(v) for v in spikes), default=0)
    means = np.pad(means, ((0, 0), (0, extra)))
    stds = np.pad(stds, ((0, 0), (0, extra)), constant_values=1.0)
    weights = np.pad(weights, ((0, 0), (0, extra)))
    for j, values in enumerate(spikes):
        if rest[j] == 0:
            counts[j] = 0  # nothing but spikes: no mixture mode is used
        at = counts[j] + np.arange(len(values))
        means[j, at], stds[j, at] = values, 0.0
        counts[j] += len(values)
    return means, stds, weights, counts


def spike_modes(
    cont: np.ndarray, means: np.ndarray, stds: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells of `cont` at a spike mode: their rows, their columns and that mode."""
    rows, cols, modes = [], [], []
    for j in range(cont.shape[1]):
        for k in np.flatnonzero(stds[j, : counts[j]] == 0):
            at = np.flatnonzero(cont[:, j] == means[j, k])
            rows.append(at)
            cols.append(np.full(len(at), j))
            modes.append(np.full(len(at), k))
    if not rows:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(modes)


def find_links(cont: np.ndarray) -> list[tuple[int, int, float]]:
    """(b, a, beta) for each column b of `cont` whose correlation with an earlier column a is
    at least LINK_CORRELATION (a itself not linked; the most correlated a): b is modelled as
    b - beta a, beta the least-squares slope.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> start = rng.uniform(0, 1e6, 500)
        >>> x = np.column_stack([start, rng.normal(size=500), start + rng.exponential(600, 500)])
        >>> [(b, a, round(beta, 3)) for b, a, beta in find_links(x)]
        [(2, 0, 1.0)]
    """
    p = cont.shape[1]
    if p < 2 or len(cont) < 3:
        return []
    x = cont - cont.mean(axis=0)
    spread = np.sqrt((x**2).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = (x.T @ x) / np.outer(spread, spread)
    links: list[tuple[int, int, float]] = []
    linked: set[int] = set()
    for b in range(1, p):
        options = [
            a for a in range(b) if a not in linked and np.abs(corr[a, b]) >= LINK_CORRELATION
        ]
        if options:
            a = max(options, key=lambda a: abs(corr[a, b]))
            links.append((b, a, float((x[:, a] @ x[:, b]) / spread[a] ** 2)))
            linked.add(b)
    return links


def unlink(cont: np.ndarray, links: list[tuple[int, int, float]]) -> np.ndarray:
    """The columns as modelled: each linked column minus beta times its link."""
    out = cont.astype(float, copy=True)
    for b, a, beta in links:
        out[:, b] -= beta * cont[:, a]
    return out


def relink(cont: np.ndarray, links: list[tuple[int, int, float]]) -> np.ndarray:
    """The inverse of `unlink` (in place)."""
    for b, a, beta in links:
        cont[:, b] += beta * cont[:, a]
    return cont


def encode_modes(
    cont: np.ndarray,
    means: np.ndarray,
    stds: np.ndarray,
    weights: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Each value's mode, drawn with probability weight_k N(value; mean_k, std_k) as in the
    paper, and its alpha = (value - mean) / (4 std), clipped to +-0.99."""
    n, p = cont.shape
    with np.errstate(divide="ignore"):
        log_weights = np.log(weights) - np.log(stds)  # -inf for padded modes
    alpha = np.empty((n, p), dtype=np.float32)
    modes = np.empty((n, p), dtype=np.int64)
    step = max(1, (1 << 20) // max(1, p * means.shape[1]))  # bounded memory on tall tables
    cols = np.arange(p)
    for start in range(0, n, step):
        x = cont[start : start + step]
        logp = log_weights[None] - 0.5 * ((x[:, :, None] - means[None]) / stds[None]) ** 2
        gumbel = -np.log(rng.exponential(size=logp.shape))
        k = np.argmax(logp + gumbel, axis=2)
        modes[start : start + step] = k
        a = (x - means[cols, k]) / (4 * stds[cols, k])
        alpha[start : start + step] = np.clip(a, -_ALPHA_CLIP, _ALPHA_CLIP)
    return alpha, modes


def decode_modes(
    alpha: np.ndarray, modes: np.ndarray, means: np.ndarray, stds: np.ndarray
) -> np.ndarray:
    """Values back from modes and alphas: mean + 4 std alpha."""
    cols = np.arange(alpha.shape[1])
    return means[cols, modes] + 4 * stds[cols, modes] * np.clip(alpha, -1.0, 1.0)
