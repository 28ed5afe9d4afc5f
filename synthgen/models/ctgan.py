"""CTGAN: the conditional tabular GAN of Xu et al. 2019 ("Modeling Tabular Data using Conditional
GAN", NeurIPS), written from the paper and made fast on a CPU.

The model, as in the paper:

- mode-specific normalisation: each continuous part is described by a variational Gaussian
  mixture (at most 10 modes); a value becomes its mode (one-hot, drawn from the posterior) and a
  scalar alpha = (value - mean) / (4 std) in [-1, 1];
- discrete parts (categories, booleans, null indicators, the pooled rare code) are one-hot;
- the generator is residual (each block adds ReLU(BN(FC(h))) to h), with tanh for alpha and
  gumbel-softmax (tau 0.2) for modes and categories;
- the conditional vector and training-by-sampling: a discrete part is picked uniformly, one of its
  categories by log-frequency, the real rows are drawn among those with that category, and the
  generator pays the cross-entropy of its output for that part against the condition;
- the critic is a PacGAN (pac 10) MLP with LeakyReLU(0.2) and dropout 0.5, trained with WGAN-GP
  (lambda 10); Adam with lr 2e-4, betas (0.5, 0.9), weight decay 1e-6 for both networks.

What is ours, for speed (the same model): the mixtures are fitted for all columns at once (a
batched variational EM in numpy on at most 5,000 rows, in well under a second); batching and
training-by-sampling are tensor indexing over the whole encoded table held as one tensor (no
per-row Python); the condition's one-hot columns are looked up, not multiplied by zeros; one
softmax per run of equal-width spans; a fused Adam; LeakyReLU and dropout as one product.

What differs from the paper, each measured (see the benchmark, `benchmarks/bench_ctgan.py`):

- a numeric part with at most `MAX_VALUES` distinct values (counts, 0/1 flags) is modelled as
  categories of its values (exact values, real frequencies, a place in the conditional vector);
  as a mixture its values smear into their neighbours (titanic's sibsp/parch);
- a value held by at least 5% of a number's rows (a spike: capital-gain's 0, hours-per-week's
  40) is a mode of its own with no spread, written exactly; the mixture describes the other
  values (as a mixture mode, capital-gain's zeros spread into values no real row has, and its
  tail was lost: adult at 100 epochs 0.897 -> 0.915);
- a number correlated at least 0.999 with an earlier one (a trip's dropoff with its pickup) is
  modelled as its difference from it (the duration), added back when sampling (taxis at 100
  epochs 0.762 -> 0.776);
- with `by` (a column the user will condition on), every row of every step is conditioned on
  its class of that column as well as on the paper's random part (a second one in the
  vector; where the random part is the class column, the row's category of another part), the
  generator pays the cross-entropy of both, and sampling draws the class and the second
  condition together as real rows have them (class-by-category counts in the model file); a
  category no training row of a class has is not drawn for that class (adult, rows asked for
  >50K: 0.858 -> 0.898 against the real >50K rows, the pair education / education-num 0.47 ->
  0.87: two synthetic >50K rows with Preschool shifted its bins). A `by` model also takes the
  decile range of a number as a third condition, in half of its training rows (the real row's
  range of a random number; "none" otherwise and when sampling freely), and pays the distance
  by which the number's expected value under its mode probabilities lies outside the range,
  the range's counterpart of the cross-entropy. A condition such as age >= 50 then steers the
  generator instead of being met by rejection alone (adult, `sex=Female, income=>50K,
  age>=50`: 4.4x -> 1.6x the unconditional time). Ranges for every model were tried as
  ordinary parts of the paper's vector (drawn instead of a category) and cost titanic 0.827 ->
  0.784 at 100 epochs, with collapse suspected: categories lost their share of the steps;
- a small table gets batches of fewer than 500 rows, so that an epoch has at least 6 steps;
- one batch of fakes serves the critic's update and then the generator's (the paper draws new
  ones for the generator): a quarter of the generator's work per step, same quality;
- the gradient penalty is taken on the rows, not on the condition (the same for real and fake
  rows; the paper does not say);
- training stops on quality, not on GAN loss: 10% of the rows (at most 2,000) are held out, every
  few epochs a sample is scored against them with the report's fidelity score, the best
  generator is kept, and training stops once `patience` epochs, and the second half of the run,
  brought no better score, and never before half the epochs asked for.

Torch is imported only inside functions: importing this module does not import it.

Example:
    >>> import numpy as np, pandas as pd, synthgen
    >>> rng = np.random.default_rng(0)
    >>> kind = rng.choice(["low", "high"], 300)
    >>> table = pd.DataFrame({"kind": kind, "x": np.where(kind == "low", 0.0, 10.0)})
    >>> model = synthgen.fit(table, model="ctgan", seed=0, epochs=2, batch_size=100)
    >>> model.sample(5, seed=1).shape
    (5, 2)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.columns import Encoded
from synthgen.errors import ModelFileError, UsageError
from synthgen.models.base import Synthesizer
from synthgen.models.strata import by_part

if TYPE_CHECKING:
    from synthgen.conditions import Constraints

# ---- mode-specific normalisation ----------------------------------------------------------------

MAX_MODES = 10
# A continuous part with at most this many distinct values in the training rows (a count, a
# rating, a flag stored as 0/1) is modelled as categories of its values: exact values, their real
# frequencies, and a place in the conditional vector, where a mixture would smear them.
MAX_VALUES = 20
# With `by`, a number modelled by its modes can also be a condition through the range its value
# falls in, cut at these quantiles: a third condition, given in half of the training rows (the
# row's range of a random such number) and "none" otherwise, so that a condition such as
# age >= 50 steers the generator instead of being met by rejection alone.
RANGE_QUANTILES = np.linspace(0.1, 0.9, 9)
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
# A source of a derived part has at least this many training rows per code on average.
_DERIVE_ROWS = 20
_DERIVE_MISS = 0.02
# Rows per step by default (the paper's), and the fewest steps an epoch of a small table takes
DEFAULT_BATCH, MIN_STEPS = 500, 6
# Early stopping's validation split: 10% of the rows, within these bounds (none below the minimum)
MIN_VALIDATION_ROWS, MAX_VALIDATION_ROWS = 40, 2_000
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


# ---- the networks (torch, built lazily) -------------------------------------------------------


@functools.cache
def _nets() -> Any:
    """The torch modules, defined on first use so that importing synthgen never imports torch."""
    import torch
    from torch import nn

    class CondLinear(nn.Module):
        """FC over [h, condition one-hots] with the one-hot columns taken by index: the same
        function as the paper's FC over the concatenation, without multiplying by zeros.

        `x` is (rows * pac, width_in); each group of `pac` rows is one input of width
        pac * (width_in + n_cond), as in the PacGAN critic (pac 1 for the generator)."""

        def __init__(self, width_in: int, n_cond: int, width_out: int, pac: int = 1):
            super().__init__()
            self.pac, self.n_cond = pac, n_cond
            # nn.Linear's initialisation over the full fan-in, one-hots included
            bound = 1 / np.sqrt(pac * (width_in + n_cond))
            self.weight = nn.Parameter(
                torch.empty(width_out, pac * width_in).uniform_(-bound, bound)
            )
            self.bias = nn.Parameter(torch.empty(width_out).uniform_(-bound, bound))
            self.cond = nn.Parameter(torch.empty(pac * n_cond, width_out).uniform_(-bound, bound))

        def forward(self, x: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
            out = nn.functional.linear(x.reshape(-1, self.weight.shape[1]), self.weight, self.bias)
            if g is None:
                return out
            if g.ndim == 2 and self.pac == 1:  # several conditions at once: their rows summed
                return out + self.cond[g].sum(dim=1)
            if g.ndim == 2:  # the critic's groups of pac rows, each with several conditions
                slot = (torch.arange(len(g), device=g.device) % self.pac * self.n_cond)[:, None]
                return out + nn.functional.embedding_bag(
                    (g + slot).view(-1, self.pac * g.shape[1]), self.cond, mode="sum"
                )
            if self.pac == 1:
                return out + self.cond[g]
            slot = torch.arange(len(g), device=g.device) % self.pac * self.n_cond
            return out + nn.functional.embedding_bag(
                (g + slot).view(-1, self.pac), self.cond, mode="sum"
            )

    class Generator(nn.Module):
        """The paper's residual generator: h_{i+1} = h_i + ReLU(BN(FC(h_i))) (concatenated),
        from h_0 = z + condition; one output per alpha and one logit per mode and category."""

        def __init__(self, width_in: int, n_cond: int, dims: tuple[int, ...], width_out: int):
            super().__init__()
            self.fcs = nn.ModuleList()
            self.bns = nn.ModuleList()
            for d in dims:
                self.fcs.append(CondLinear(width_in, n_cond, d))
                self.bns.append(nn.BatchNorm1d(d))
                width_in += d
            self.out = CondLinear(width_in, n_cond, width_out)

        def forward(self, z: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
            h = z
            for fc, bn in zip(self.fcs, self.bns):
                h = torch.cat([h, torch.relu(bn(fc(h, g)))], dim=1)
            return self.out(h, g)

    class LeakyDropout(nn.Module):
        """LeakyReLU(0.2) then dropout(p), as one product h * f with f = mask * (1 or 0.2) by the
        sign of h: the same function and derivatives (both are piecewise linear), in a third of
        the operations, and with a uniform draw (torch's bernoulli_ is slow on a CPU)."""

        def __init__(self, p: float):
            super().__init__()
            self.p = p

        def forward(self, h: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                factor = torch.where(h > 0, 1.0, 0.2)
                if self.training:
                    factor.mul_(torch.rand_like(h).ge_(self.p)).mul_(1 / (1 - self.p))
            return h * factor

    class Critic(nn.Module):
        """PacGAN critic: `pac` rows with their conditions side by side make one input;
        LeakyReLU(0.2) and dropout 0.5 after each hidden layer."""

        def __init__(self, width_in: int, n_cond: int, dims: tuple[int, ...], pac: int):
            super().__init__()
            self.first = CondLinear(width_in, n_cond, dims[0], pac)
            layers: list[nn.Module] = [LeakyDropout(0.5)]
            for a, b in zip(dims, dims[1:]):
                layers += [nn.Linear(a, b), LeakyDropout(0.5)]
            layers.append(nn.Linear(dims[-1], 1))
            self.rest = nn.Sequential(*layers)

        def forward(self, x: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
            return self.rest(self.first(x, g))

    class Adam:
        """Adam with L2 weight decay, as torch.optim.Adam computes it, without torch.optim: its
        first use imports torch._dynamo, seconds before the first epoch. One fused kernel for
        all parameters where torch has it (5x faster than a loop on a CPU)."""

        def __init__(
            self,
            params: Any,
            lr: float = 2e-4,
            betas: tuple[float, float] = (0.5, 0.9),
            weight_decay: float = 1e-6,
            eps: float = 1e-8,
        ):
            self.params = list(params)
            self.lr, self.betas, self.weight_decay, self.eps = lr, betas, weight_decay, eps
            self.first = [torch.zeros_like(p) for p in self.params]
            self.second = [torch.zeros_like(p) for p in self.params]
            self.steps = 0
            self.counts = [torch.zeros((), device=p.device) for p in self.params]
            self.fused = hasattr(torch, "_fused_adam_")

        def zero_grad(self) -> None:
            for p in self.params:
                p.grad = None

        @torch.no_grad()
        def step(self) -> None:
            self.steps += 1
            b1, b2 = self.betas
            if self.fused:
                for c in self.counts:
                    c.fill_(self.steps)
                torch._fused_adam_(
                    self.params,
                    [p.grad for p in self.params],
                    self.first,
                    self.second,
                    [],
                    self.counts,
                    lr=self.lr,
                    beta1=b1,
                    beta2=b2,
                    weight_decay=self.weight_decay,
                    eps=self.eps,
                    amsgrad=False,
                    maximize=False,
                )
                return
            step_size = self.lr / (1 - b1**self.steps)
            root = (1 - b2**self.steps) ** 0.5
            for p, m, v in zip(self.params, self.first, self.second):
                g = p.grad.add(p, alpha=self.weight_decay)
                m.lerp_(g, 1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                p.addcdiv_(m, v.sqrt().div_(root).add_(self.eps), value=-step_size)

    return Generator, Critic, Adam


class _Layout:
    """Where each part sits in the generator's output and the encoded training rows:
    [alphas of the p continuous parts | one-hot blocks (*spans*): modes, then categories].

    Spans are stored by width (shortest first), so that each run of spans of one width is one
    (rows, spans, width) view: gumbel-softmax over all spans takes one softmax per distinct width.
    The padded (spans, max width) `grid_index` addresses every span at once for sampling and for
    the cross-entropy of the conditioned part."""

    def __init__(
        self, mode_counts: np.ndarray, cardinalities: list[int], extra: list[int] | None = None
    ):
        self.p = len(mode_counts)
        self.q = len(cardinalities)
        self.widths = np.array(list(mode_counts) + list(cardinalities), dtype=np.int64)
        order = np.argsort(self.widths, kind="stable")
        self.offsets = np.empty(len(self.widths), dtype=np.int64)
        self.offsets[order] = np.concatenate([[0], np.cumsum(self.widths[order])])[:-1]
        self.runs: list[tuple[int, int, int]] = []  # (start, end, width) in the one-hot block
        for w in np.unique(self.widths):
            starts = self.offsets[self.widths == w]
            self.runs.append((int(starts.min()), int(starts.max() + w), int(w)))
        self.n_onehot = int(self.widths.sum())
        self.width = self.p + self.n_onehot
        # condition parts: the q discrete spans, then `extra` parts that are conditions only
        conditions = list(cardinalities) + list(extra or [])
        self.cond_width = int(sum(conditions))
        self.cond_offsets = np.concatenate([[0], np.cumsum(conditions, dtype=np.int64)])[:-1]
        self.max_width = int(self.widths.max()) if len(self.widths) else 0
        grid = np.arange(self.max_width)[None, :]
        # index into [one-hot logits..., pad] (the pad slot holds -inf)
        self.grid_index = np.where(
            grid < self.widths[:, None], self.offsets[:, None] + grid, self.n_onehot
        )

    def columns(self, codes: np.ndarray) -> np.ndarray:
        """Column of the one-hot 1 of each span, for (n, spans) codes."""
        return self.p + self.offsets[None, :] + codes


class CTGAN(Synthesizer):
    """Conditional tabular GAN (Xu et al. 2019), fast on a CPU, stopped on quality.

    Parameters:
        epochs: most passes over the training rows (the paper's 300).
        batch_size: rows per step, a multiple of `pac`. Default: the paper's 500, smaller for a
            table with fewer than 6 batches of 500 rows, so that an epoch has at least 6 steps
            (and batches at least 10 `pac` groups): at a fixed number of epochs, 1 step an epoch
            leaves a small table's model untrained (titanic at 100 epochs: 0.787 with 500,
            0.802 with 100, mean QualityReport of 4 seeds).
        device: "auto" (a CUDA GPU when there is one), "cpu" or "cuda".
        early_stop: hold out a validation split (10%, at most 2,000 rows; tables of 400 rows or
            more), score a sample every few epochs with the report's fidelity score, keep the best
            generator, and stop once `patience` epochs, and the second half of the epochs run so
            far, brought no better score (never before half of `epochs`).
        patience: the fewest epochs without a better validation score before stopping.
        embedding_dim: size of the generator's noise input.
        generator_dim, discriminator_dim: hidden layer widths.
        pac: rows the critic judges together (PacGAN).
        lr: Adam's learning rate, for both networks (the paper's 2e-4).
        threads: torch threads while training (default: every core this process may use).
        rare_threshold: categories seen in fewer rows are never written verbatim.
        on_epoch: called after every epoch as `on_epoch(epoch, total, losses)`, `losses` a dict
            of floats: "generator", "discriminator", and "validation" on epochs that were scored
            (the CLI draws its progress bar with it). Not saved with the model.
        by: a categorical or boolean column the generator is always conditioned on, besides the
            paper's one condition per row: every training step tells it each row's class, so
            rows asked for one class (`where`, `balance`) follow that class's real rows.

    Example:
        >>> import pandas as pd, synthgen
        >>> table = pd.DataFrame({"c": ["a", "b"] * 100, "x": [1.0, 5.0] * 100})
        >>> m = synthgen.fit(table, model="ctgan", seed=0, epochs=3, batch_size=50)
        >>> m.describe()["epochs_run"]
        3
    """

    name = "ctgan"

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int | None = None,
        device: str = "auto",
        early_stop: bool = True,
        patience: int = 30,
        embedding_dim: int = 128,
        generator_dim: tuple[int, ...] = (256, 256),
        discriminator_dim: tuple[int, ...] = (256, 256),
        pac: int = 10,
        lr: float = 2e-4,
        threads: int | None = None,
        rare_threshold: int = 5,
        on_epoch: Callable[[int, int, dict[str, float]], None] | None = None,
        by: str | None = None,
    ):
        generator_dim, discriminator_dim = tuple(generator_dim), tuple(discriminator_dim)
        for label, value in [
            ("epochs", epochs),
            ("batch size", batch_size or 1),
            ("pac", pac),
            ("embedding_dim", embedding_dim),
            ("patience", patience),
        ]:
            if not isinstance(value, int) or value < 1:
                raise UsageError(f"ctgan: {label} must be a whole number of 1 or more")
        if not discriminator_dim or not all(
            isinstance(d, int) and d > 0 for d in generator_dim + discriminator_dim
        ):
            raise UsageError(
                "ctgan: layer widths must be whole numbers above 0 (the "
                "discriminator needs at least one layer)"
            )
        if batch_size is not None and batch_size % pac:
            raise UsageError(
                f"ctgan: the batch size ({batch_size}) must be a multiple of pac ({pac})"
            )
        if device not in ("auto", "cpu", "cuda"):
            raise UsageError(f"ctgan: device must be auto, cpu or cuda, not {device!r}")
        if not lr > 0:
            raise UsageError("ctgan: the learning rate must be above 0")
        if threads is not None and threads < 1:
            raise UsageError("ctgan: threads must be 1 or more")
        super().__init__(
            rare_threshold=rare_threshold,
            epochs=epochs,
            batch_size=batch_size,
            device=device,
            early_stop=early_stop,
            patience=patience,
            embedding_dim=embedding_dim,
            generator_dim=list(generator_dim),
            discriminator_dim=list(discriminator_dim),
            pac=pac,
            lr=lr,
            threads=threads,
            **({} if by is None else {"by": str(by)}),
        )
        self.by = None if by is None else str(by)
        self.epochs, self.batch_size, self.device = epochs, batch_size, device
        self.early_stop, self.patience = early_stop, patience
        self.embedding_dim, self.pac, self.lr, self.threads = embedding_dim, pac, lr, threads
        self.generator_dim, self.discriminator_dim = generator_dim, discriminator_dim
        self.on_epoch = on_epoch

    # ---- fitting ------------------------------------------------------------------------------
    def _fit_encoded(self, data: Encoded, rng: np.random.Generator) -> None:
        import torch

        by_part(self, self.by)  # a bad --by fails before anything is fitted
        device = _resolve_device(self.device, training=True)
        n = data.n_rows
        n_val = min(n // 10, MAX_VALIDATION_ROWS) if self.early_stop else 0
        n_val = n_val if n_val >= MIN_VALIDATION_ROWS else 0
        order = rng.permutation(n)
        val, train = order[:n_val], order[n_val:]
        cont = data.continuous[train]
        values = [np.unique(cont[:, j]) for j in range(cont.shape[1])]
        # values must repeat (10 rows each on average): a short table's continuous column is
        # not copied value for value
        self.value_columns_ = np.array(
            [j for j, v in enumerate(values) if len(v) <= min(MAX_VALUES, len(train) // 10)],
            dtype=np.int64,
        )
        self.values_ = [values[j] for j in self.value_columns_]
        moded = cont[:, self._mode_columns()]
        self.links_ = find_links(moded)
        moded = unlink(moded, self.links_)
        self.mode_means_, self.mode_stds_, weights, self.mode_counts_ = fit_modes_with_spikes(
            moded, rng
        )
        self.cardinalities_ = [p.cardinality for p in self.encoder_.discrete_parts]
        every = self._discrete_codes(data, train)
        self.derived_ = _derived_parts(every, self._all_widths())
        self.by_part_ = self._by_cond_part()
        self.range_columns_, self.range_edges_ = np.zeros(0, np.int64), []
        if self.by_part_ is not None and len(self._kept()) > 1:
            linked = {b for b, _, _ in self.links_}  # modelled as a difference: not its value
            columns = [j for i, j in enumerate(self._mode_columns()) if i not in linked]
            self.range_columns_, self.range_edges_ = _ranges(cont, np.array(columns, np.int64))
        layout = self._layout()
        codes = every[:, self._kept()]
        self.category_counts_ = [
            np.bincount(codes[:, j], minlength=k).astype(np.int64)
            for j, k in enumerate(layout.widths[layout.p :])
        ]
        # each part's categories and each number's ranges per class of `by`, to draw a class and
        # its other conditions together as they occur in real rows
        ranges = self._range_codes(cont)
        self.by_counts_, self.range_counts_ = [], []
        if self.by_part_ is not None:
            widths = layout.widths[layout.p :]
            classes = (codes[:, self.by_part_], int(widths[self.by_part_]))
            self.by_counts_ = [
                _crosstab(*classes, codes[:, j], int(k)) for j, k in enumerate(widths)
            ]
            self.range_counts_ = [
                _crosstab(*classes, ranges[:, r], len(e) + 1)
                for r, e in enumerate(self.range_edges_)
            ]
        self.validation_rows_ = int(n_val)
        self.batch_size_ = _batch_size(self.batch_size, len(train), self.pac)
        self.generator_loss_: list[float] = []
        self.discriminator_loss_: list[float] = []
        self.validation_: list[tuple[int, float]] = []
        self.chosen_epoch_ = 0
        if layout.width == 0:  # nothing to learn (keys or constants only)
            self.generator_state_ = {}
            return
        rows = _training_matrix(moded, codes, self, weights, layout, rng)
        threads = self.threads or _cores()
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                torch.manual_seed(int(rng.integers(2**63)))
                scorer = _Scorer(self, data, val) if n_val else None
                _train(self, layout, rows, codes, device, scorer, ranges)
        finally:
            torch.set_num_threads(previous_threads)

    def _by_cond_part(self) -> int | None:
        """The `by` column's place among the condition parts (its source's, when the model
        derives it from another part); None without `by`."""
        j = by_part(self, self.by)
        if j is None:
            return None
        part = len(self.values_) + j
        source = {b: a for b, a, _ in self.derived_}
        return self._kept().index(source.get(part, part))

    def _mode_columns(self) -> np.ndarray:
        """The continuous parts modelled by mode-specific normalisation (the others by values)."""
        p = len(self.encoder_.continuous_parts)
        return np.setdiff1d(np.arange(p), self.value_columns_)

    def _discrete_codes(self, data: Encoded, rows: np.ndarray) -> np.ndarray:
        """The model's discrete parts for `rows`: the value-coded continuous parts, then the
        table's discrete parts."""
        valued = [
            np.searchsorted(v, data.continuous[rows, j])
            for j, v in zip(self.value_columns_, self.values_)
        ]
        return np.column_stack(valued + [data.discrete[rows]]).astype(np.int64)

    def _all_widths(self) -> list[int]:
        """Codes of every discrete part the model sees: value-coded numbers, then the table's."""
        return [len(v) for v in self.values_] + list(self.cardinalities_)

    def _kept(self) -> list[int]:
        """The discrete parts the generator makes (the others are derived from them)."""
        derived = {b for b, _, _ in self.derived_}
        return [i for i in range(len(self._all_widths())) if i not in derived]

    def _expand(self, codes: np.ndarray) -> np.ndarray:
        """Codes of every discrete part from those of the kept ones."""
        out = np.empty((len(codes), len(self._all_widths())), dtype=np.int64)
        out[:, self._kept()] = codes
        for b, a, mapping in self.derived_:
            out[:, b] = mapping[out[:, a]]
        return out

    def _layout(self) -> _Layout:
        widths = self._all_widths()
        # with ranges: each number's ranges, then one "no range" condition
        extra = [len(e) + 1 for e in self.range_edges_] + [1] if self.range_edges_ else []
        return _Layout(self.mode_counts_, [widths[i] for i in self._kept()], extra)

    def _range_codes(self, cont: np.ndarray) -> np.ndarray:
        """Each row's range of each number whose ranges are conditions, (rows, ranges)."""
        out = np.zeros((len(cont), len(self.range_edges_)), dtype=np.int64)
        for r, (j, edges) in enumerate(self._range_parts()):
            out[:, r] = np.searchsorted(edges, cont[:, j], side="right")
        return out

    def _range_parts(self) -> list[tuple[int, np.ndarray]]:
        return list(zip(self.range_columns_.tolist(), self.range_edges_))

    def _generator(self, layout: _Layout, device: Any) -> Any:
        generator_cls = _nets()[0]
        return generator_cls(
            self.embedding_dim, layout.cond_width, self.generator_dim, layout.width
        ).to(device)

    # ---- sampling -----------------------------------------------------------------------------
    def _sample_encoded(self, n: int, rng: np.random.Generator) -> Encoded:
        import torch

        layout = self._layout()
        if layout.width == 0:
            return Encoded(np.zeros((n, 0)), np.zeros((n, 0), np.int64), n)
        net = self._network()
        device = next(net.parameters()).device
        gen = torch.Generator(device=device)
        gen.manual_seed(int(rng.integers(2**63)))
        frequencies = [c / max(1, c.sum()) for c in self.category_counts_]
        return _generate(self, net, layout, n, gen, frequencies)

    def _sample_conditional(
        self, n: int, constraints: Constraints, rng: np.random.Generator
    ) -> Encoded:
        """Through the conditional vector, as the paper means it to be used: each condition on a
        category (or on a number the model keeps as its few values) becomes a condition of the
        generator, its categories drawn in their real proportions among the allowed ones (with
        several, the vector has a one in each part: the generator's condition rows are summed);
        the rows are then kept where they meet every condition (bounded rejection). Rows to
        fill, and conditions on numbers only, are met by rejection alone.

        Several conditions at once: on adult, `sex=Female, income=>50K, age>=50` (0.8% of the
        rows) cost 192x the unconditional time with the most selective one alone in the vector,
        4.4x with both (60-epoch model), and the conditioned rows' other categories came closer
        to the real ones (marital status TVD 0.39 -> 0.15, race 0.33 -> 0.07)."""
        import torch

        from synthgen.conditions import rejection_sample

        layout = self._layout()
        targets = self._condition_parts(constraints) if constraints.shared else {}
        ranges = self._range_conditions(constraints) if constraints.shared else {}
        if not (targets or ranges) or layout.width == 0:
            return super()._sample_conditional(n, constraints, rng)
        frequencies = [c / max(1, c.sum()) for c in self.category_counts_]
        for part, allowed in targets.items():
            counts = self.category_counts_[part] * allowed
            frequencies[part] = counts / counts.sum()
        net = self._network()
        device = next(net.parameters()).device

        def draw(b: int, r: np.random.Generator) -> Encoded:
            gen = torch.Generator(device=device)
            gen.manual_seed(int(r.integers(2**63)))
            return _generate(self, net, layout, b, gen, frequencies, list(targets), ranges)

        return rejection_sample(draw, n, constraints, rng, self.name)

    def _range_conditions(self, constraints: Constraints) -> dict[int, np.ndarray]:
        """Per range part the conditions reach, the ranges [e_(b-1), e_b) that meet the asked
        interval (a model with ranges only: one trained with `by`)."""
        found = {}
        for r, (j, edges) in enumerate(self._range_parts()):
            if j in constraints.intervals:
                lo, hi = constraints.intervals[j]
                below = np.concatenate([[-np.inf], edges])
                above = np.concatenate([edges, [np.inf]])
                mask = (below <= hi[0]) & (above > lo[0])
                if (self.range_counts_[r] * mask).sum() > 0:
                    found[r] = mask.astype(float)
        return found

    def _condition_parts(self, constraints: Constraints) -> dict[int, np.ndarray]:
        """The condition parts (positions in the conditional vector) the conditions are on, each
        with its allowed mask (a part named twice, through a derived part: both masks)."""
        found: dict[int, np.ndarray] = {}
        n_values = len(self.values_)
        options = [(n_values + j, mask[0]) for j, mask in constraints.allowed.items()]
        for k, (j, values) in enumerate(zip(self.value_columns_, self.values_)):
            if int(j) in constraints.intervals:
                lo, hi = constraints.intervals[int(j)]
                options.append((k, (values >= lo[0]) & (values <= hi[0])))
        source = {b: (a, mapping) for b, a, mapping in self.derived_}
        kept = self._kept()
        for part, mask in options:
            if part in source:  # a derived part: the codes of its source that map into the mask
                part, mapping = source[part]
                mask = mask[mapping]
            k = kept.index(part)
            if len(mask) != len(self.category_counts_[k]):
                continue
            found[k] = found.get(k, 1.0) * mask.astype(float)
        return {k: m for k, m in found.items() if (self.category_counts_[k] * m).sum() > 0}

    def _network(self) -> Any:
        """The generator, rebuilt from its saved weights on first use, in eval mode."""
        net = self.__dict__.get("_generator_net")
        if net is None:
            import torch

            device = _resolve_device(self.device, training=False)
            net = self._generator(self._layout(), device)
            try:
                net.load_state_dict(
                    {k: torch.from_numpy(np.array(v)) for k, v in self.generator_state_.items()}
                )
            except RuntimeError as exc:
                raise ModelFileError(f"the ctgan weights do not fit its layout: {exc}") from None
            net.eval()
            self._generator_net = net
        return net

    # ---- state --------------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        val = np.array(self.validation_, dtype=float).reshape(-1, 2)
        return {
            "mode_means": self.mode_means_,
            "mode_stds": self.mode_stds_,
            "mode_counts": self.mode_counts_,
            "value_columns": self.value_columns_,
            "values": list(self.values_),
            "cardinalities": list(self.cardinalities_),
            "category_counts": list(self.category_counts_),
            "derived": [[b, a, mapping] for b, a, mapping in self.derived_],
            "links": np.array(self.links_, dtype=float).reshape(-1, 3),
            "generator": dict(self.generator_state_),
            "generator_loss": np.array(self.generator_loss_, dtype=float),
            "discriminator_loss": np.array(self.discriminator_loss_, dtype=float),
            "validation_epochs": val[:, 0].astype(np.int64),
            "validation_scores": val[:, 1],
            "validation_rows": self.validation_rows_,
            "chosen_epoch": self.chosen_epoch_,
            "batch_size": self.batch_size_,
            **({"by_counts": list(self.by_counts_)} if self.by_part_ is not None else {}),
            **(
                {
                    "range_columns": self.range_columns_,
                    "range_edges": list(self.range_edges_),
                    "range_counts": list(self.range_counts_),
                }
                if self.range_edges_
                else {}
            ),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.mode_means_ = np.asarray(state["mode_means"], dtype=float)
        self.mode_stds_ = np.asarray(state["mode_stds"], dtype=float)
        self.mode_counts_ = np.asarray(state["mode_counts"], dtype=np.int64)
        self.value_columns_ = np.asarray(state["value_columns"], dtype=np.int64)
        self.values_ = [np.asarray(v, dtype=float) for v in state["values"]]
        self.cardinalities_ = [int(k) for k in state["cardinalities"]]
        self.category_counts_ = [np.asarray(c, dtype=np.int64) for c in state["category_counts"]]
        self.range_columns_ = np.asarray(state.get("range_columns", []), dtype=np.int64)
        self.range_edges_ = [np.asarray(e, dtype=float) for e in state.get("range_edges", [])]
        self.range_counts_ = [np.asarray(c, dtype=np.int64) for c in state.get("range_counts", [])]
        self.derived_ = [
            (int(b), int(a), np.asarray(m, dtype=np.int64)) for b, a, m in state.get("derived", [])
        ]
        self.links_ = [
            (int(b), int(a), float(beta))
            for b, a, beta in np.asarray(state.get("links", np.zeros((0, 3))), float).reshape(-1, 3)
        ]
        p = len(self.mode_counts_)
        linked = {b for b, _, _ in self.links_}
        if len(linked) != len(self.links_) or any(
            not (0 <= a < b < p) or a in linked or not np.isfinite(beta)
            for b, a, beta in self.links_
        ):
            raise ValueError("a linked part does not fit the model's parts")
        if (
            self.mode_means_.ndim != 2
            or self.mode_means_.shape != self.mode_stds_.shape
            or len(self.mode_means_) != p
            or (self.mode_counts_ < 1).any()
            or (self.mode_counts_ > self.mode_means_.shape[1]).any()
            or not (self.mode_stds_ >= 0).all()
        ):
            raise ValueError("the ctgan modes do not fit together")
        widths = self._all_widths()
        derived = [b for b, _, _ in self.derived_]
        if len(set(derived)) != len(derived):
            raise ValueError("a derived part does not fit the model's parts")
        for b, a, mapping in self.derived_:
            if (
                not (0 <= b < len(widths) and 0 <= a < len(widths))
                or a in derived
                or len(mapping) != widths[a]
                or (mapping < 0).any()
                or (mapping >= widths[b]).any()
            ):
                raise ValueError("a derived part does not fit the model's parts")
        self.generator_state_ = dict(state["generator"])
        self.generator_loss_ = [float(v) for v in state["generator_loss"]]
        self.discriminator_loss_ = [float(v) for v in state["discriminator_loss"]]
        self.validation_ = [
            (int(e), float(s))
            for e, s in zip(state["validation_epochs"], state["validation_scores"])
        ]
        self.validation_rows_ = int(state["validation_rows"])
        self.chosen_epoch_ = int(state["chosen_epoch"])
        self.batch_size_ = int(state["batch_size"])
        n_continuous = len(self.encoder_.continuous_parts)
        if len(self.mode_counts_) + len(self.values_) != n_continuous or (
            self.cardinalities_ != [part.cardinality for part in self.encoder_.discrete_parts]
        ):
            raise ValueError("ctgan state and schema disagree on the parts")
        self.by_part_ = self._by_cond_part()
        self.by_counts_ = [np.asarray(c, dtype=np.int64) for c in state.get("by_counts", [])]
        if self.by_part_ is not None:
            kept = [widths[i] for i in self._kept()]
            if [c.shape for c in self.by_counts_] != [(kept[self.by_part_], k) for k in kept] or (
                any((c < 0).any() for c in self.by_counts_)
            ):
                raise ValueError("the ctgan class counts do not fit the model's parts")
        classes = kept[self.by_part_] if self.by_part_ is not None else 0
        if (
            len(self.range_columns_) != len(self.range_edges_)
            or len(self.range_counts_) != len(self.range_edges_)
            or (self.range_edges_ and self.by_part_ is None)
            or not set(self.range_columns_.tolist()) <= set(self._mode_columns().tolist())
            or any(e.ndim != 1 or not (np.diff(e) > 0).all() for e in self.range_edges_)
            or any(
                c.shape != (classes, len(e) + 1) or (c < 0).any()
                for c, e in zip(self.range_counts_, self.range_edges_)
            )
        ):
            raise ValueError("the ctgan ranges do not fit the model's parts")

    def describe(self) -> dict[str, Any]:
        best = max(self.validation_, key=lambda v: v[1]) if self.validation_ else None
        last = {}
        if self.generator_loss_:
            last = {
                "generator": round(self.generator_loss_[-1], 4),
                "discriminator": round(self.discriminator_loss_[-1], 4),
            }
        names = [p.name.replace("\x1f", " ") for p in self.encoder_.continuous_parts]
        moded = self._mode_columns()
        shapes = {}
        for i, (j, k) in enumerate(zip(moded, self.mode_counts_)):
            exact = int((self.mode_stds_[i, :k] == 0).sum())
            shapes[names[j]] = f"{k} modes" + (f", {exact} of them exact values" if exact else "")
        for b, a, _ in self.links_:
            shapes[names[moded[b]]] += f", as its difference from {names[moded[a]]}"
        shapes.update(
            {names[j]: f"{len(v)} values" for j, v in zip(self.value_columns_, self.values_)}
        )
        return {
            **({"always_conditioned_on": self.by} if self.by_part_ is not None else {}),
            **(
                {"ranges_as_conditions": [names[j] for j in self.range_columns_.tolist()]}
                if self.range_edges_
                else {}
            ),
            "epochs_run": len(self.generator_loss_),
            "batch_size": self.batch_size_,
            "chosen_epoch": self.chosen_epoch_,
            "early_stopping": (
                f"on: {self.validation_rows_} validation rows"
                if self.validation_rows_
                else "off"
                if not self.early_stop
                else "off: too few rows for a validation split"
            ),
            "best_validation_score": round(best[1], 4) if best else None,
            "last_losses": last,
            "continuous_columns": {name: shapes[name] for name in names},
        }


# ---- training -----------------------------------------------------------------------------------


def _crosstab(a: np.ndarray, ka: int, b: np.ndarray, kb: int) -> np.ndarray:
    """The (ka, kb) counts of the rows' code pairs (a, b)."""
    return np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(np.int64)


def _cumulative_rows(table: np.ndarray) -> np.ndarray:
    """Each row of `table` as a cumulative distribution (an empty row: evenly spread)."""
    total = table.sum(axis=1, keepdims=True)
    share = np.where(total > 0, table / np.maximum(total, 1e-300), 1.0 / table.shape[1])
    return np.cumsum(share, axis=1)


def _ranges(cont: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The numbers whose ranges can be conditions, and their cut points: the deciles of their
    training values (distinct ones; a number with one decile value has none)."""
    kept, edges = [], []
    for j in columns.tolist():
        e = np.unique(np.quantile(cont[:, j], RANGE_QUANTILES))
        if len(e):
            kept.append(j)
            edges.append(e)
    return np.array(kept, dtype=np.int64), edges


def _batch_size(requested: int | None, rows: int, pac: int) -> int:
    """The rows per step: `requested`, or by default 500 made smaller so that an epoch has at
    least `MIN_STEPS` steps (not below 10 pac groups); never above the rows there are.

    Example:
        >>> _batch_size(None, 30_000, 10), _batch_size(None, 700, 10), _batch_size(200, 700, 10)
        (500, 110, 200)
    """
    if requested is None:
        requested = min(DEFAULT_BATCH // pac, max(10, rows // MIN_STEPS // pac)) * pac
    return min(requested, max(pac, rows // pac * pac))


def _cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _resolve_device(requested: str, *, training: bool) -> Any:
    """The torch device: "auto" picks CUDA when present. A model trained on a GPU samples on the
    CPU when no GPU is present; training on "cuda" without one is the user's mistake."""
    import torch

    has_cuda = torch.cuda.is_available()
    if requested == "cuda" and not has_cuda:
        if training:
            raise UsageError("ctgan: --device cuda was asked for, but no CUDA GPU is available")
        return torch.device("cpu")
    return torch.device(
        "cuda" if requested == "cuda" or (requested == "auto" and has_cuda) else "cpu"
    )


def _training_matrix(
    cont: np.ndarray,
    codes: np.ndarray,
    model: CTGAN,
    weights: np.ndarray,
    layout: _Layout,
    rng: np.random.Generator,
) -> np.ndarray:
    """The encoded training rows as one float32 matrix: alphas, then the one-hot spans."""
    stds = np.where(model.mode_stds_ > 0, model.mode_stds_, 1.0)  # spikes: weight 0 here
    alpha, modes = encode_modes(cont, model.mode_means_, stds, weights, rng)
    rows, cols, spike = spike_modes(cont, model.mode_means_, model.mode_stds_, model.mode_counts_)
    modes[rows, cols], alpha[rows, cols] = spike, 0.0
    out = np.zeros((len(cont), layout.width), dtype=np.float32)
    out[:, : layout.p] = alpha
    spans = np.concatenate([modes, codes], axis=1)
    out[np.arange(len(cont))[:, None], layout.columns(spans)] = 1.0
    return out


class _CondSampler:
    """Training-by-sampling, vectorised: a discrete part per row (uniform), a category of it (by
    log-frequency in training, by frequency when sampling), and a real row with that category."""

    def __init__(
        self, codes: np.ndarray, layout: _Layout, probabilities: list[np.ndarray], device: Any
    ):
        import torch

        self.n, self.q = codes.shape
        self.device = device
        self.cond_offsets = torch.as_tensor(layout.cond_offsets, device=device)
        # inverse-CDF tables: a zero-probability category has an empty interval; the padding's
        # 2.0 is never reached, and rounding at the top end falls back to the last category
        cum = np.full((self.q, max([len(p) for p in probabilities], default=0)), 2.0)
        for j, p in enumerate(probabilities):
            cum[j, : len(p)] = np.cumsum(p) / p.sum()
        self.cum = torch.as_tensor(cum, dtype=torch.float32, device=device)
        self.last = torch.as_tensor(
            [int(np.flatnonzero(p)[-1]) for p in probabilities], dtype=torch.long, device=device
        )
        if len(codes):
            # every (row, part) pair keyed by its condition g; sorted by g, the rows of condition
            # g are sorted[start[g] : start[g] + count[g]]
            keys = (codes + layout.cond_offsets[None, : self.q]).ravel(order="F")
            count = np.bincount(keys, minlength=layout.cond_width)
            rows = np.tile(np.arange(self.n), self.q)[np.argsort(keys, kind="stable")]
            self.sorted = torch.as_tensor(rows, device=device)
            self.start = torch.as_tensor(np.cumsum(count) - count, device=device)
            self.count = torch.as_tensor(count, device=device)

    def conditions(self, b: int, gen: Any = None, part: int | None = None) -> tuple[Any, Any, Any]:
        """b conditions: (the condition's position in the one-hot condition vector, the chosen
        part, the chosen category), each of shape (b,); all on condition part `part` if given."""
        import torch

        if part is None:
            part = torch.randint(self.q, (b,), device=self.device, generator=gen)
        else:
            part = torch.full((b,), part, dtype=torch.long, device=self.device)
        u = torch.rand(b, 1, device=self.device, generator=gen)
        category = torch.searchsorted(self.cum[part], u, right=True).squeeze(1)
        category = torch.minimum(category, self.last[part])
        return self.cond_offsets[part] + category, part, category

    def rows(self, g: Any) -> Any:
        """A random real row with the condition's category, for each condition `g`."""
        import torch

        pick = (torch.rand(len(g), device=self.device) * self.count[g]).long()
        return self.sorted[self.start[g] + torch.minimum(pick, self.count[g] - 1)]


def _activate(logits: Any, layout: _Layout, tau: float) -> Any:
    """tanh for the alphas; gumbel-softmax for modes and categories, one softmax per run of
    spans of one width."""
    import torch

    n = len(logits)
    onehot = (logits[:, layout.p :] + _gumbel((n, layout.n_onehot), logits.device)) / tau
    out = [torch.tanh(logits[:, : layout.p])]
    for start, end, w in layout.runs:
        out.append(torch.softmax(onehot[:, start:end].reshape(n, -1, w), dim=2).reshape(n, -1))
    return torch.cat(out, dim=1)


def _gumbel(shape: Any, device: Any, gen: Any = None) -> Any:
    """Standard Gumbel noise, -log(-log(U)) (faster on a CPU than torch's exponential_)."""
    import torch

    u = torch.rand(shape, device=device, generator=gen).clamp_(min=1e-12)
    return u.log_().neg_().log_().neg_()


def _grid(onehot: Any, pad: Any, index: Any) -> Any:
    """One-hot logits (rows, n_onehot) in the padded (rows, spans, width) grid of `index`, -inf
    in the padding."""
    return _padded(onehot, pad)[:, index]


def _padded(onehot: Any, pad: Any) -> Any:
    """The one-hot logits with a last column of -inf, where padding points."""
    import torch

    return torch.cat([onehot, pad.expand(len(onehot), 1)], dim=1)


class _Scorer:
    """Scores generator samples against the validation rows with the report's fidelity score."""

    SAMPLE_ROWS = 2_000

    def __init__(self, model: CTGAN, data: Encoded, rows: np.ndarray):
        from synthgen.report.fidelity import Reference

        self.model = model
        val = Encoded(data.continuous[rows], data.discrete[rows], len(rows))
        self.reference = Reference(model.encoder_.decode(val, seed=model.seed_), model.schema_)
        self.frequencies = [c / max(1, c.sum()) for c in model.category_counts_]

    def score(self, net: Any, layout: _Layout) -> float:
        import torch

        # the same noise at every evaluation, so that scores differ by the generator only
        gen = torch.Generator(device=next(net.parameters()).device)
        gen.manual_seed(self.model.seed_)
        net.eval()
        encoded = _generate(self.model, net, layout, self.SAMPLE_ROWS, gen, self.frequencies)
        net.train()
        return float(
            self.reference.quality_score(self.model.encoder_.decode(encoded, seed=self.model.seed_))
        )


def _derived_parts(codes: np.ndarray, widths: list[int]) -> list[tuple[int, int, np.ndarray]]:
    """Discrete parts that are a function of another one on (nearly) every training row (titanic's
    `alive` of `survived`, `class` of `pclass`; a taxi zone's borough), as (part, source, map
    from the source's codes to the part's). A GAN makes such pairs disagree now and then, and
    each disagreeing row is one no real row is near; derived, they always agree. A source must
    have at least 20 rows per code on average, so that a chance agreement of few rows does not
    count, and at most 2% of the rows may disagree with the map (a source's pooled
    rare categories); a code of the source never seen maps to the part's most frequent code."""
    n, q = codes.shape
    derived: list[tuple[int, int, np.ndarray]] = []
    taken: set[int] = set()
    sources: set[int] = set()
    for b in range(q):
        if b in sources:  # already the source of a derived part: kept
            continue
        for a in range(q):
            if a == b or a in taken or widths[a] * _DERIVE_ROWS > n:
                continue
            joint = np.bincount(
                codes[:, a] * widths[b] + codes[:, b], minlength=widths[a] * widths[b]
            ).reshape(widths[a], widths[b])
            # the pooled rare categories of a zone may lie in several boroughs: a few rows
            # (at most _DERIVE_MISS of them) may disagree with the map
            if n - joint.max(axis=1).sum() > _DERIVE_MISS * n:
                continue
            mapping = joint.argmax(axis=1)
            unseen = joint.sum(axis=1) == 0
            mapping[unseen] = joint.sum(axis=0).argmax()
            derived.append((b, a, mapping.astype(np.int64)))
            taken.add(b)
            sources.add(a)
            break
    return derived


def _generate(
    model: CTGAN,
    net: Any,
    layout: _Layout,
    n: int,
    gen: Any,
    frequencies: list[np.ndarray],
    parts: list[int] | None = None,
    ranges: dict[int, np.ndarray] | None = None,
) -> Encoded:
    """n encoded rows from the generator (in eval mode): conditions drawn from the real category
    frequencies (on each condition part of `parts` when given, from its `frequencies`: several
    parts make a conditional vector with a one in each), modes and categories drawn from the
    generator's softmax (gumbel-max)."""
    import torch

    device = next(net.parameters()).device
    sampler = _CondSampler(np.zeros((0, layout.q), np.int64), layout, frequencies, device)
    with torch.no_grad():
        z = torch.randn(n, model.embedding_dim, device=device, generator=gen)
        g = None
        if layout.q > 1 and model.by_part_ is not None:
            g = _class_conditions(
                model, layout, n, gen, frequencies, parts or [], device, ranges or {}
            )
        elif layout.q:
            drawn = [sampler.conditions(n, gen, part)[0] for part in (parts or [None])]
            g = drawn[0] if len(drawn) == 1 else torch.stack(drawn, dim=1)
        logits = net(z, g)
        alpha = torch.tanh(logits[:, : layout.p])
        codes = torch.zeros(n, 0, dtype=torch.long, device=device)
        if layout.n_onehot:
            pad = torch.full((1, 1), float("-inf"), device=device)
            index = torch.as_tensor(layout.grid_index, device=device)
            grid = _grid(logits[:, layout.p :], pad, index)
            if g is not None and g.ndim == 2 and model.by_part_ is not None:
                # a category no real row of the row's class has is not drawn for it
                classes = g[:, 0] - int(layout.cond_offsets[model.by_part_])
                unseen = torch.as_tensor(_unseen_in_class(model, layout), device=device)
                grid[:, layout.p :] = grid[:, layout.p :].masked_fill(
                    unseen[:, classes].transpose(0, 1), float("-inf")
                )
            codes = torch.argmax(grid + _gumbel(grid.shape, device, gen), dim=2)
        alpha, codes = alpha.double().cpu().numpy(), codes.cpu().numpy()
    cont = np.empty((n, len(model.encoder_.continuous_parts)))
    cont[:, model._mode_columns()] = relink(
        decode_modes(alpha, codes[:, : layout.p], model.mode_means_, model.mode_stds_),
        model.links_,
    )
    every = model._expand(codes[:, layout.p :])
    for k, (j, v) in enumerate(zip(model.value_columns_, model.values_)):
        cont[:, j] = v[every[:, k]]
    return Encoded(cont, every[:, len(model.values_) :], n)


def _unseen_in_class(model: CTGAN, layout: _Layout) -> np.ndarray:
    """(parts, classes, widest part) booleans: the categories of each part that no training row
    of each class of `by` has (the padding beyond a part's width is left alone)."""
    counts = model.by_counts_
    out = np.zeros((layout.q, counts[model.by_part_].shape[0], layout.max_width), dtype=bool)
    for j, c in enumerate(counts):
        # a class without rows (the rare pool, nulls) keeps every category
        seen = c.sum(axis=1, keepdims=True) > 0
        out[j, :, : c.shape[1]] = (c == 0) & seen
    return out


def _range_values(model: CTGAN, layout: _Layout, device: Any) -> Callable[..., Any]:
    """A function of a batch of fakes and its third conditions (a range's position in the
    conditional vector, or "none"): the mean distance (in the number's own spread) by which
    each conditioned number's expected value, under its mode probabilities, lies outside the
    asked range; 0 for rows without a range."""
    import torch

    n_ranges = len(model.range_edges_)
    offsets = torch.as_tensor(layout.cond_offsets[layout.q : layout.q + n_ranges], device=device)
    no_range = layout.cond_width - 1
    moded = model._mode_columns().tolist()
    cols = [moded.index(j) for j in model.range_columns_.tolist()]
    width = int(max(model.mode_counts_[cols]))
    means = np.zeros((len(cols), width))
    stds = np.zeros((len(cols), width))
    mode_cols = np.zeros((len(cols), width), dtype=np.int64)
    for r, i in enumerate(cols):
        k = int(model.mode_counts_[i])
        means[r, :k], stds[r, :k] = model.mode_means_[i, :k], model.mode_stds_[i, :k]
        mode_cols[r, :k] = layout.p + layout.offsets[i] + np.arange(k)
        mode_cols[r, k:] = mode_cols[r, 0]  # padding: a mode with weight 0 below
    weight = (np.arange(width)[None, :] < model.mode_counts_[cols][:, None]).astype(float)
    bounds = [np.concatenate([[-np.inf], e, [np.inf]]) for e in model.range_edges_]
    low = np.full((len(cols), max(len(b) for b in bounds) - 1), -np.inf)
    high = np.full_like(low, np.inf)
    for r, b in enumerate(bounds):
        low[r, : len(b) - 1], high[r, : len(b) - 1] = b[:-1], b[1:]
    spread = np.array([max(float(np.ptp(e)), 1e-9) for e in model.range_edges_])
    t = {
        name: torch.as_tensor(a, dtype=torch.float32, device=device)
        for name, a in dict(
            means=means, stds=stds, weight=weight, low=low, high=high, spread=spread
        ).items()
    }
    mode_cols_t = torch.as_tensor(mode_cols, device=device)
    alpha_cols = torch.as_tensor(cols, device=device)

    def loss(fake: Any, third: Any) -> Any:
        given = third != no_range
        at = torch.where(given, third, offsets[0])
        which = torch.searchsorted(offsets, at, right=True) - 1  # the number
        rng = at - offsets[which]  # and its range
        probs = fake.gather(1, mode_cols_t[which]) * t["weight"][which]
        alpha = fake.gather(1, alpha_cols[which][:, None])
        value = (probs * (t["means"][which] + 4 * t["stds"][which] * alpha)).sum(dim=1)
        value = value / probs.sum(dim=1).clamp_min(1e-9)
        low, high = t["low"][which, rng], t["high"][which, rng]
        out = torch.relu(low - value) + torch.relu(value - high)
        out = torch.nan_to_num(out / t["spread"][which], posinf=0.0)
        return (out * given).sum() / len(given)

    return loss


def _class_conditions(
    model: CTGAN,
    layout: _Layout,
    n: int,
    gen: Any,
    frequencies: list[np.ndarray],
    parts: list[int],
    device: Any,
    ranges: dict[int, np.ndarray] | None = None,
) -> Any:
    """Conditions for a model trained with `by` (n, 2 or more): a class of `by` and, for each
    conditioned part, its category, drawn together as they occur in real rows (the class by
    its frequency times its share of the allowed categories of each conditioned part, then each
    part's category by its frequency in that class); without conditions on other parts, one
    other part drawn uniformly with its category by its frequency in the row's class, as in
    training. `frequencies[j]` is zero outside a conditioned part's allowed categories."""
    import torch

    by, counts = model.by_part_, model.by_counts_
    offsets = torch.as_tensor(layout.cond_offsets, device=device)
    weights = np.asarray(frequencies[by], dtype=float).copy()
    others = [j for j in parts if j != by]
    tables = {}
    for j in others:
        table = counts[j] * (np.asarray(frequencies[j]) > 0)
        rows = counts[j].sum(axis=1)
        weights *= np.where(rows > 0, table.sum(axis=1) / np.maximum(rows, 1), 0.0)
        tables[j] = table
    # a condition on a range of a number: the most selective one as the third condition
    ranged = None
    if ranges:
        r, mask = min(ranges.items(), key=lambda kv: float(kv[1].mean()))
        ranged = (r, model.range_counts_[r] * mask)
        rows = model.range_counts_[r].sum(axis=1)
        weights *= np.where(rows > 0, ranged[1].sum(axis=1) / np.maximum(rows, 1), 0.0)
    if not weights.sum() > 0:  # conditions no real class meets together: each alone
        weights = np.asarray(frequencies[by], dtype=float).copy()
    classes = torch.multinomial(
        torch.as_tensor(weights / weights.sum(), device=device), n, replacement=True, generator=gen
    )
    drawn = [offsets[by] + classes]
    if others:
        chosen = torch.as_tensor(others, device=device)[None, :].expand(n, -1)
    else:
        chosen = torch.randint(layout.q - 1, (n, 1), device=device, generator=gen)
        chosen = chosen + (chosen >= by).long()
    # every part's categories given each class, as cumulative shares padded to one width
    width = max(c.shape[1] for c in counts)
    cum = np.full((layout.q, counts[by].shape[0], width), 2.0)
    for j, c in enumerate(counts):
        cum[j, :, : c.shape[1]] = _cumulative_rows(tables.get(j, c).astype(float))
    cum_t = torch.as_tensor(cum, dtype=torch.float32, device=device)
    last = torch.as_tensor([c.shape[1] - 1 for c in counts], device=device)
    for t in range(chosen.shape[1]):
        part = chosen[:, t]
        u = torch.rand(n, 1, device=device, generator=gen)
        category = torch.searchsorted(cum_t[part, classes], u, right=True).squeeze(1)
        drawn.append(offsets[part] + torch.minimum(category, last[part]))
    if model.range_edges_:  # the third condition: a range, or "none"
        third = torch.full((n,), layout.cond_width - 1, device=device)
        if ranged is not None:
            r, table = ranged
            cum_r = torch.as_tensor(
                _cumulative_rows(table.astype(float)), dtype=torch.float32, device=device
            )
            u = torch.rand(n, 1, device=device, generator=gen)
            pick = torch.searchsorted(cum_r[classes], u, right=True).squeeze(1)
            third = int(layout.cond_offsets[layout.q + r]) + torch.clamp(
                pick, max=table.shape[1] - 1
            )
        drawn.append(third)
    return torch.stack(drawn, dim=1)


def _train(
    model: CTGAN,
    layout: _Layout,
    rows_np: np.ndarray,
    codes: np.ndarray,
    device: Any,
    scorer: _Scorer | None,
    ranges: np.ndarray | None = None,
) -> None:
    """The WGAN-GP loop of the paper, with quality-based early stopping."""
    import torch
    import torch.nn.functional as F

    _, critic_cls, adam_cls = _nets()
    n = len(rows_np)
    pac = model.pac
    batch = model.batch_size_
    steps = max(1, n // batch)
    rows = torch.as_tensor(rows_np, device=device)
    log_freq = [np.log1p(c) for c in model.category_counts_]
    sampler = _CondSampler(codes, layout, [f / f.sum() for f in log_freq], device)
    net = model._generator(layout, device)
    critic = critic_cls(layout.width, layout.cond_width, model.discriminator_dim, pac).to(device)
    opt_g, opt_d = adam_cls(net.parameters(), model.lr), adam_cls(critic.parameters(), model.lr)
    pad = torch.full((1, 1), float("-inf"), device=device)
    index = torch.as_tensor(layout.grid_index, device=device)
    groups = batch // pac

    by = model.by_part_ if layout.q > 1 else None
    codes_t = torch.as_tensor(codes, device=device) if by is not None else None
    n_ranges = len(model.range_edges_)
    if n_ranges:
        ranges_t = torch.as_tensor(ranges, device=device)
        range_offsets = torch.as_tensor(
            layout.cond_offsets[layout.q : layout.q + n_ranges], device=device
        )
        no_range = layout.cond_width - 1
        value_of = _range_values(model, layout, device)

    def conditions() -> tuple[Any, Any, Any, Any]:
        """The conditions of a batch and its real rows. With `by`, every row has two: the
        paper's (a part, a category by log-frequency), and the real row's class of `by`, or,
        where the paper's part was `by` itself, the row's category of another part drawn
        uniformly; the generator pays the cross-entropy of both."""
        if not layout.q:
            return None, None, None, None
        g, part, category = sampler.conditions(batch)
        if by is None:  # the real rows are drawn after the noise, as always
            return g, part, category, None
        picked = sampler.rows(g)
        other = torch.randint(layout.q - 1, (batch,), device=device)
        other = other + (other >= by).long()
        second = torch.where(part == by, other, torch.full_like(part, by))
        second_category = codes_t[picked, second]
        g = torch.stack([g, sampler.cond_offsets[second] + second_category], dim=1)
        if n_ranges:  # half the rows: the real row's range of a random number; else "none"
            which = torch.randint(n_ranges, (batch,), device=device)
            third = range_offsets[which] + ranges_t[picked, which]
            use = torch.rand(batch, device=device) < 0.5
            third = torch.where(use, third, no_range)
            g = torch.cat([g, third[:, None]], dim=1)
        return (
            g,
            torch.stack([part, second], dim=1),
            torch.stack([category, second_category], dim=1),
            picked,
        )

    eval_every = max(1, min(5, model.epochs // 20))
    best, best_state = -np.inf, None
    model.chosen_epoch_ = model.epochs
    for epoch in range(1, model.epochs + 1):
        g_total = torch.zeros((), device=device)
        d_total = torch.zeros((), device=device)
        for _ in range(steps):
            # One batch of fakes serves both updates: the critic's (detached), then the
            # generator's, through the updated critic. The paper draws fresh fakes for the
            # generator; reusing them saves a quarter of the generator's work per step, with the
            # same quality measured on titanic (4 seeds).
            g, part, category, picked = conditions()
            z = torch.randn(batch, model.embedding_dim, device=device)
            logits = net(z, g)
            fake = _activate(logits, layout, 0.2)
            if picked is None:
                picked = sampler.rows(g) if layout.q else torch.randint(n, (batch,), device=device)
            real = rows[picked]
            # the gradient penalty on points between real and fake rows (same conditions)
            mix = torch.rand(groups, 1, 1, device=device)
            mixed = mix * real.view(groups, pac, -1) + (1 - mix) * fake.detach().view(
                groups, pac, -1
            )
            mixed = mixed.view(batch, -1).requires_grad_(True)
            grad = torch.autograd.grad(critic(mixed, g).sum(), mixed, create_graph=True)[0]
            penalty = ((grad.view(groups, -1).norm(2, dim=1) - 1) ** 2).mean()
            both = None if g is None else torch.cat([g, g])
            judged = critic(torch.cat([fake.detach(), real]), both)
            judged = judged.view(2, -1)
            loss_d = judged[0].mean() - judged[1].mean() + 10.0 * penalty
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            critic.requires_grad_(False)
            loss_g = -critic(fake, g).mean()
            critic.requires_grad_(True)
            if layout.q:
                padded = _padded(logits[:, layout.p :], pad)
                for t in range(1 if part.ndim == 1 else part.shape[1]):
                    on, cat = (part, category) if part.ndim == 1 else (part[:, t], category[:, t])
                    span = padded.gather(1, index[layout.p + on])
                    loss_g = loss_g + F.cross_entropy(span, cat)
            if n_ranges:  # the range's counterpart of the cross-entropy: the value's distance out
                loss_g = loss_g + value_of(fake, g[:, 2])
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            g_total += loss_g.detach()
            d_total += loss_d.detach()
        losses = {"generator": float(g_total) / steps, "discriminator": float(d_total) / steps}
        model.generator_loss_.append(losses["generator"])
        model.discriminator_loss_.append(losses["discriminator"])
        stop = False
        if scorer is not None and (epoch % eval_every == 0 or epoch == model.epochs):
            score = scorer.score(net, layout)
            losses["validation"] = score
            model.validation_.append((epoch, score))
            if score > best:
                best, model.chosen_epoch_ = score, epoch
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                # A GAN's quality plateaus and climbs again (titanic: flat from epoch 45 to 200,
                # then up from 0.80 to 0.85), so a stop also waits for as many epochs as the best
                # one took: it stops only once the second half of the run brought nothing.
                # Nor before half the epochs asked for: with a lucky early best (adult with
                # derived parts: 0.831 at epoch 5) the rule above stopped at 35 epochs and
                # kept epoch 5, while the run climbs to 0.88 by epoch 95.
                waited = epoch - model.chosen_epoch_
                stop = waited >= max(model.patience, epoch / 2) and epoch >= model.epochs / 2
        if model.on_epoch is not None:
            model.on_epoch(epoch, model.epochs, losses)
        if stop:
            break
    if scorer is None:
        model.chosen_epoch_ = len(model.generator_loss_)
    elif best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    model.generator_state_ = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    model._generator_net = net
