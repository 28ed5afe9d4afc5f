"""The parts CTGAN's generator makes and is conditioned on, and where they sit.

The generator's output is [alphas of the numbers modelled by their modes | one-hot spans:
modes, then categories] (`Layout`); the training rows are encoded the same way
(`training_matrix`). A discrete part that is a function of another on nearly every row is not
made but derived from it (`derived_parts`). With `by`, each number's decile ranges are
conditions only (`decile_ranges`): a third place in the conditional vector, after the categories.

Example:
    >>> layout = Layout(np.array([2, 3]), [2, 4])
    >>> layout.width, layout.cond_width, layout.runs
    (13, 6, [(0, 4, 2), (4, 7, 3), (7, 11, 4)])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from synthgen.models.ctgan.modes import encode_modes, spike_modes

if TYPE_CHECKING:
    from synthgen.models.ctgan.model import CTGAN

# With `by`, a number modelled by its modes can also be a condition through the range its value
# falls in, cut at these quantiles: a third condition, given in half of the training rows (the
# row's range of a random such number) and "none" otherwise, so that a condition such as
# age >= 50 steers the generator instead of being met by rejection alone.
RANGE_QUANTILES = np.linspace(0.1, 0.9, 9)
# A source of a derived part has at least this many training rows per code on average.
_DERIVE_ROWS = 20
_DERIVE_MISS = 0.02


class Layout:
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


def training_matrix(
    cont: np.ndarray,
    codes: np.ndarray,
    model: CTGAN,
    weights: np.ndarray,
    layout: Layout,
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


def derived_parts(codes: np.ndarray, widths: list[int]) -> list[tuple[int, int, np.ndarray]]:
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


def decile_ranges(cont: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The numbers whose ranges can be conditions, and their cut points: the deciles of their
    training values (distinct ones; a number with one decile value has none)."""
    kept, edges = [], []
    for j in columns.tolist():
        e = np.unique(np.quantile(cont[:, j], RANGE_QUANTILES))
        if len(e):
            kept.append(j)
            edges.append(e)
    return np.array(kept, dtype=np.int64), edges
