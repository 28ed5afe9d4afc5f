"""CTGAN's conditional vector: which condition each row of a step or a sample is given.

Training-by-sampling (`CondSampler`): a discrete part per row, one of its categories by
log-frequency, and a real row with that category. With `by`, every row also gets its class
(`class_conditions`), drawn with its other conditions as real rows have them (the class-by-
category counts, read through `synthgen.models.strata`), and a category no row of the class has
is not drawn for it (`unseen_in_class`). A user's conditions (`where`, `fill`) reach the vector
through `condition_parts` (categories, and numbers kept as their few values) and
`range_conditions` (a number's decile ranges, a model trained with `by`).

Example:
    >>> import torch
    >>> from synthgen.models.ctgan.layout import Layout
    >>> layout = Layout(np.zeros(0, np.int64), [2, 3])
    >>> sampler = CondSampler(np.zeros((0, 2), np.int64), layout,
    ...                       [np.array([0.5, 0.5]), np.array([0.0, 0.0, 1.0])], "cpu")
    >>> g, part, category = sampler.conditions(6, torch.Generator().manual_seed(0), part=1)
    >>> g.tolist()  # the third category of the second part: position 2 + 2 in the vector
    [4, 4, 4, 4, 4, 4]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.models.strata import class_shares, cumulative_rows, unseen

if TYPE_CHECKING:
    from synthgen.conditions import Constraints
    from synthgen.models.ctgan.layout import Layout
    from synthgen.models.ctgan.model import CTGAN


class CondSampler:
    """Training-by-sampling, vectorised: a discrete part per row (uniform), a category of it (by
    log-frequency in training, by frequency when sampling), and a real row with that category."""

    def __init__(
        self, codes: np.ndarray, layout: Layout, probabilities: list[np.ndarray], device: Any
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


def class_conditions(
    model: CTGAN,
    layout: Layout,
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
        tables[j], share = class_shares(counts[j], np.asarray(frequencies[j]) > 0)
        weights *= share
    # a condition on a range of a number: the most selective one as the third condition
    ranged = None
    if ranges:
        r, mask = min(ranges.items(), key=lambda kv: float(kv[1].mean()))
        table, share = class_shares(model.range_counts_[r], mask)
        ranged = (r, table)
        weights *= share
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
        cum[j, :, : c.shape[1]] = cumulative_rows(tables.get(j, c).astype(float))
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
                cumulative_rows(table.astype(float)), dtype=torch.float32, device=device
            )
            u = torch.rand(n, 1, device=device, generator=gen)
            pick = torch.searchsorted(cum_r[classes], u, right=True).squeeze(1)
            third = int(layout.cond_offsets[layout.q + r]) + torch.clamp(
                pick, max=table.shape[1] - 1
            )
        drawn.append(third)
    return torch.stack(drawn, dim=1)


def unseen_in_class(model: CTGAN, layout: Layout) -> np.ndarray:
    """(parts, classes, widest part) booleans: the categories of each part that no training row
    of each class of `by` has (the padding beyond a part's width is left alone)."""
    counts = model.by_counts_
    out = np.zeros((layout.q, counts[model.by_part_].shape[0], layout.max_width), dtype=bool)
    for j, c in enumerate(counts):
        out[j, :, : c.shape[1]] = unseen(c)
    return out


def condition_parts(model: CTGAN, constraints: Constraints) -> dict[int, np.ndarray]:
    """The condition parts (positions in the conditional vector) the conditions are on, each
    with its allowed mask (a part named twice, through a derived part: both masks)."""
    found: dict[int, np.ndarray] = {}
    n_values = len(model.values_)
    options = [(n_values + j, mask[0]) for j, mask in constraints.allowed.items()]
    for k, (j, values) in enumerate(zip(model.value_columns_, model.values_)):
        if int(j) in constraints.intervals:
            lo, hi = constraints.intervals[int(j)]
            options.append((k, (values >= lo[0]) & (values <= hi[0])))
    source = {b: (a, mapping) for b, a, mapping in model.derived_}
    kept = model._kept()
    for part, mask in options:
        if part in source:  # a derived part: the codes of its source that map into the mask
            part, mapping = source[part]
            mask = mask[mapping]
        k = kept.index(part)
        if len(mask) != len(model.category_counts_[k]):
            continue
        found[k] = found.get(k, 1.0) * mask.astype(float)
    return {k: m for k, m in found.items() if (model.category_counts_[k] * m).sum() > 0}


def range_conditions(model: CTGAN, constraints: Constraints) -> dict[int, np.ndarray]:
    """Per range part the conditions reach, the ranges [e_(b-1), e_b) that meet the asked
    interval (a model with ranges only: one trained with `by`)."""
    found = {}
    for r, (j, edges) in enumerate(model._range_parts()):
        if j in constraints.intervals:
            lo, hi = constraints.intervals[j]
            below = np.concatenate([[-np.inf], edges])
            above = np.concatenate([edges, [np.inf]])
            mask = (below <= hi[0]) & (above > lo[0])
            if (model.range_counts_[r] * mask).sum() > 0:
                found[r] = mask.astype(float)
    return found
