"""How the gmm (`synthgen.models.gmm`) fits its mixture: EM over rows of one-hot codes (one code
per part), k-means++ seeds, the choice of k on held-out rows, and each row's component drawn from
its responsibilities.

Example:
    >>> import numpy as np
    >>> from scipy import sparse
    >>> rows = sparse.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    >>> mix, _ = _em(rows, _Mixture(np.array([1.0]), np.array([[0.5, 0.5]])), np.array([2, 1]) / 3, 5)
    >>> mix.probs.round(3).tolist()
    [[0.667, 0.333]]
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

_PRIOR_ROWS = 1.0  # pseudo-rows of the overall frequencies added to each component's parts
_TOL = 1e-3  # EM stops when the mean log-likelihood per row gains less than this
_MIN_ROWS = 1.0  # a component holding fewer (expected) rows than this is dropped
_SEED_SHARE = 0.5  # a new component: half one row's codes, half the overall frequencies
_CHUNK = 4_000_000  # floats in one chunk of (rows, components) responsibilities


class _Mixture:
    """The parameters of a mixture: weights (k,) and `probs` (k, T), every part's (intervals'
    or categories') probabilities side by side, part j in columns offsets[j]:offsets[j + 1]."""

    def __init__(self, weights: np.ndarray, probs: np.ndarray):
        self.weights, self.probs = weights, probs

    @property
    def k(self) -> int:
        return len(self.weights)

    def subset(self, keep: np.ndarray) -> _Mixture:
        return _Mixture(self.weights[keep], self.probs[keep])


def _e_step(
    rows: sparse.csr_matrix, mix: _Mixture, counts: bool = True
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Each row's log-likelihood under `mix` and, with `counts`, the expected one-hot counts
    (k, T) and rows (k,) of each component: log(weight) + the row's codes' log-probabilities is
    one sparse product per chunk of rows."""
    n, k = rows.shape[0], mix.k
    log_p = np.log(np.maximum(mix.probs, 1e-300)).T  # (T, k)
    log_w = np.log(np.maximum(mix.weights, 1e-300))
    loglik = np.empty(n)
    total = np.zeros((rows.shape[1], k)) if counts else None
    size = np.zeros(k) if counts else None
    step = max(1, _CHUNK // k)
    for a in range(0, n, step):
        b = min(n, a + step)
        joint = rows[a:b] @ log_p  # in place from here: (rows, k) arrays are the cost
        joint += log_w
        top = joint.max(axis=1, keepdims=True)
        joint -= top
        np.exp(joint, out=joint)
        norm = joint.sum(axis=1, keepdims=True)
        loglik[a:b] = (np.log(norm) + top).ravel()
        if counts:
            joint /= norm
            total += rows[a:b].T @ joint
            size += joint.sum(axis=0)
    return loglik, None if total is None else total.T, size


def _m_step(counts: np.ndarray, size: np.ndarray, prior: np.ndarray) -> _Mixture:
    """Maximum a-posteriori parameters (each part's counts plus _PRIOR_ROWS rows of the overall
    frequencies); components holding less than _MIN_ROWS rows are dropped."""
    keep = size >= _MIN_ROWS
    if not keep.any():
        keep = size == size.max()
    counts, size = counts[keep], size[keep]
    # every row has one code per part, so each part's counts sum to the component's rows
    probs = (counts + _PRIOR_ROWS * prior) / (size[:, None] + _PRIOR_ROWS)
    return _Mixture(size / size.sum(), probs)


def _em(
    rows: sparse.csr_matrix, mix: _Mixture, prior: np.ndarray, max_iter: int
) -> tuple[_Mixture, np.ndarray]:
    """EM from `mix` until the mean log-likelihood per row gains less than _TOL; returns the
    mixture and each row's log-likelihood under it."""
    ll, counts, size = _e_step(rows, mix)
    for _ in range(max_iter):
        new = _m_step(counts, size, prior)
        new_ll, counts, size = _e_step(rows, new)
        gain = new_ll.mean() - ll.mean()
        mix, ll = new, new_ll
        if gain < _TOL:
            break
    return mix, ll


def _initial(
    rows: sparse.csr_matrix,
    k: int,
    prior: np.ndarray,
    embed: sparse.csr_matrix,
    rng: np.random.Generator,
) -> _Mixture:
    """k components seeded by k-means++ over the rows' codes placed by `embed` (`_embedding`),
    each half its seed's codes and half the overall frequencies: EM starts from k distinct
    clusters, none certain of anything."""
    features = (rows @ embed).tocsr()
    n = rows.shape[0]
    norms = np.asarray(features.multiply(features).sum(axis=1)).ravel()
    trials = 2 + int(np.log(k))  # greedy k-means++: the best of a few draws for each seed

    def distances(rows: list[int]) -> np.ndarray:
        dots = (features @ features[rows].T).toarray()
        return np.maximum(norms[:, None] + norms[rows][None, :] - 2 * dots, 0.0)

    seeds = [int(rng.integers(n))]
    nearest = distances(seeds)[:, 0]
    for _ in range(1, k):
        total = nearest.sum()
        if not total > 0:
            seeds.append(int(rng.integers(n)))
            continue
        drawn = list(rng.choice(n, size=trials, p=nearest / total))
        after = np.minimum(nearest[:, None], distances(drawn))
        best = int(after.sum(axis=0).argmin())
        seeds.append(int(drawn[best]))
        nearest = after[:, best]
    probs = (1 - _SEED_SHARE) * prior + _SEED_SHARE * rows[seeds].toarray()
    return _Mixture(np.full(k, 1.0 / k), probs)


def _embedding(intervals: list[int], cardinalities: list[int]) -> sparse.csr_matrix:
    """Where k-means++ places each code: a number's interval on a line of its own (its rank
    from 0 to sqrt 2), each category on an axis of its own, so that the two ends of a number lie
    as far apart as two categories.

    Example:
        >>> _embedding([3], [2]).toarray().round(3).tolist()
        [[0.0, 0.0, 0.0], [0.707, 0.0, 0.0], [1.414, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    ranks = [np.arange(m) * np.sqrt(2) / max(m - 1, 1) for m in intervals]
    values = np.concatenate([*ranks, np.ones(sum(cardinalities))])
    cols = np.concatenate(
        [
            *(np.full(m, j) for j, m in enumerate(intervals)),
            len(intervals) + np.arange(sum(cardinalities)),
        ]
    )
    shape = (len(values), len(intervals) + sum(cardinalities))
    return sparse.csr_matrix((values, (np.arange(len(values)), cols)), shape=shape)


def _one_hot(codes: np.ndarray, offsets: np.ndarray) -> sparse.csr_matrix:
    n, q = codes.shape
    cols = (codes + offsets[:-1]).ravel()
    indptr = np.arange(n + 1) * q
    return sparse.csr_matrix((np.ones(n * q), cols, indptr), shape=(n, int(offsets[-1])))


def _smallest_as_good(heldout: dict[int, np.ndarray]) -> int:
    """The smallest k whose held-out log-likelihood is within one standard error of the best
    (the one-standard-error rule: more components must earn their place)."""
    best = max(heldout, key=lambda k: heldout[k].mean())
    for k in sorted(heldout):
        diff = heldout[k] - heldout[best]
        if diff.mean() + diff.std() / np.sqrt(len(diff)) >= 0:
            return k
    return best


def _posterior(rows: sparse.csr_matrix, mix: _Mixture, rng: np.random.Generator) -> np.ndarray:
    """Each row's component, drawn from its responsibilities under `mix`."""
    n, k = rows.shape[0], mix.k
    log_p = np.log(np.maximum(mix.probs, 1e-300)).T
    log_w = np.log(np.maximum(mix.weights, 1e-300))
    out = np.empty(n, dtype=np.int64)
    step = max(1, _CHUNK // k)
    for a in range(0, n, step):
        joint = rows[a : a + step] @ log_p + log_w
        cum = np.cumsum(np.exp(joint - joint.max(axis=1, keepdims=True)), axis=1)
        u = rng.random(len(cum))[:, None] * cum[:, -1:]
        out[a : a + step] = np.minimum((cum < u).sum(axis=1), k - 1)
    return out


def _candidates(max_components: int, n: int) -> list[int]:
    """A geometric grid of k from 1 to max_components, about half again each step (1, 2, 3, 4,
    6, 8, 12, ...), at most one component per 4 rows."""
    top = max(1, min(max_components, n // 4))
    steps = (v for i in range(top.bit_length()) for v in (2**i, 3 * 2**i // 2))
    return sorted({top} | {v for v in steps if v <= top})
