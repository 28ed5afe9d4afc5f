"""Rows from CTGAN's generator: noise and conditions in, encoded rows out (`generate`), on the
device a model trains or samples on (`resolve_device`).

Modes and categories are drawn from the generator's softmax (gumbel-max), alphas through tanh;
the numbers are decoded from their modes and alphas, derived parts read off their sources.
Sampling, conditional sampling and early stopping's validation samples all draw here.

Example:
    >>> import pandas as pd, synthgen, torch
    >>> table = pd.DataFrame({"c": ["a", "b"] * 100, "x": [1.0, 5.0, 3.0, 2.0, 4.0] * 40})
    >>> m = synthgen.fit(table, model="ctgan", seed=0, epochs=2, batch_size=50)
    >>> rows = generate(m, m._network(), m._layout(), 7, torch.Generator().manual_seed(0),
    ...                 [c / c.sum() for c in m.category_counts_])
    >>> rows.n_rows, rows.continuous.shape, rows.discrete.shape
    (7, (7, 1), (7, 1))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.columns import Encoded
from synthgen.errors import UsageError
from synthgen.models.ctgan.conditioning import CondSampler, class_conditions, unseen_in_class
from synthgen.models.ctgan.modes import decode_modes, relink
from synthgen.models.ctgan.networks import gumbel, span_grid

if TYPE_CHECKING:
    from synthgen.models.ctgan.layout import Layout
    from synthgen.models.ctgan.model import CTGAN


def generate(
    model: CTGAN,
    net: Any,
    layout: Layout,
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
    sampler = CondSampler(np.zeros((0, layout.q), np.int64), layout, frequencies, device)
    with torch.no_grad():
        z = torch.randn(n, model.embedding_dim, device=device, generator=gen)
        g = None
        if layout.q > 1 and model.by_part_ is not None:
            g = class_conditions(
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
            grid = span_grid(logits[:, layout.p :], pad, index)
            if g is not None and g.ndim == 2 and model.by_part_ is not None:
                # a category no real row of the row's class has is not drawn for it
                classes = g[:, 0] - int(layout.cond_offsets[model.by_part_])
                unseen = torch.as_tensor(unseen_in_class(model, layout), device=device)
                grid[:, layout.p :] = grid[:, layout.p :].masked_fill(
                    unseen[:, classes].transpose(0, 1), float("-inf")
                )
            codes = torch.argmax(grid + gumbel(grid.shape, device, gen), dim=2)
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


def resolve_device(requested: str, *, training: bool) -> Any:
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
