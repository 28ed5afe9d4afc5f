"""What a fitted CTGAN keeps in its model file, and the checks that a file's state fits the
model's parts before anything is sampled from it.

The state is arrays and numbers only (no pickle): the modes, the numbers kept as values, the
derived and linked parts, the category counts (with `by`: per class, and each number's ranges),
the generator's weights and the training history. `from_state` refuses a state whose parts do
not fit together with a ValueError that names what failed.

Example:
    >>> import pandas as pd, synthgen
    >>> table = pd.DataFrame({"c": ["a", "b"] * 100, "x": [1.0, 5.0] * 100})
    >>> model = synthgen.fit(table, model="ctgan", seed=0, epochs=2, batch_size=50)
    >>> state = to_state(model)
    >>> sorted(state)[:4]
    ['batch_size', 'cardinalities', 'category_counts', 'chosen_epoch']
    >>> from_state(model, {**state, "links": [[1, 0, 1.0]]})  # numbers the model does not have
    Traceback (most recent call last):
    ...
    ValueError: a linked part does not fit the model's parts
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.models import checks

if TYPE_CHECKING:
    from synthgen.models.ctgan.model import CTGAN


def to_state(model: CTGAN) -> dict[str, Any]:
    """The fitted model's arrays and numbers, for the model file."""
    val = np.array(model.validation_, dtype=float).reshape(-1, 2)
    return {
        "mode_means": model.mode_means_,
        "mode_stds": model.mode_stds_,
        "mode_counts": model.mode_counts_,
        "value_columns": model.value_columns_,
        "values": list(model.values_),
        "cardinalities": list(model.cardinalities_),
        "category_counts": list(model.category_counts_),
        "derived": [[b, a, mapping] for b, a, mapping in model.derived_],
        "links": np.array(model.links_, dtype=float).reshape(-1, 3),
        "generator": dict(model.generator_state_),
        "generator_loss": np.array(model.generator_loss_, dtype=float),
        "discriminator_loss": np.array(model.discriminator_loss_, dtype=float),
        "validation_epochs": val[:, 0].astype(np.int64),
        "validation_scores": val[:, 1],
        "validation_rows": model.validation_rows_,
        "chosen_epoch": model.chosen_epoch_,
        "batch_size": model.batch_size_,
        **({"by_counts": list(model.by_counts_)} if model.by_part_ is not None else {}),
        **(
            {
                "range_columns": model.range_columns_,
                "range_edges": list(model.range_edges_),
                "range_counts": list(model.range_counts_),
            }
            if model.range_edges_
            else {}
        ),
    }


def from_state(model: CTGAN, state: dict[str, Any]) -> None:
    """Set the fitted attributes of `model` from a model file's `state`, checked: parts that do
    not fit together raise ValueError (a file can be damaged or crafted)."""
    model.mode_means_ = np.asarray(state["mode_means"], dtype=float)
    model.mode_stds_ = np.asarray(state["mode_stds"], dtype=float)
    model.mode_counts_ = np.asarray(state["mode_counts"], dtype=np.int64)
    model.value_columns_ = np.asarray(state["value_columns"], dtype=np.int64)
    model.values_ = [np.asarray(v, dtype=float) for v in state["values"]]
    model.cardinalities_ = [int(k) for k in state["cardinalities"]]
    model.category_counts_ = [np.asarray(c, dtype=np.int64) for c in state["category_counts"]]
    model.range_columns_ = np.asarray(state.get("range_columns", []), dtype=np.int64)
    model.range_edges_ = [np.asarray(e, dtype=float) for e in state.get("range_edges", [])]
    model.range_counts_ = [np.asarray(c, dtype=np.int64) for c in state.get("range_counts", [])]
    model.derived_ = [
        (int(b), int(a), np.asarray(m, dtype=np.int64)) for b, a, m in state.get("derived", [])
    ]
    model.links_ = [
        (int(b), int(a), float(beta))
        for b, a, beta in np.asarray(state.get("links", np.zeros((0, 3))), float).reshape(-1, 3)
    ]
    p = len(model.mode_counts_)
    linked = {b for b, _, _ in model.links_}
    if len(linked) != len(model.links_) or any(
        not (0 <= a < b < p) or a in linked or not np.isfinite(beta) for b, a, beta in model.links_
    ):
        raise ValueError("a linked part does not fit the model's parts")
    if (
        model.mode_means_.ndim != 2
        or model.mode_means_.shape != model.mode_stds_.shape
        or len(model.mode_means_) != p
        or (model.mode_counts_ < 1).any()
        or (model.mode_counts_ > model.mode_means_.shape[1]).any()
        or not (model.mode_stds_ >= 0).all()
    ):
        raise ValueError("the ctgan modes do not fit together")
    widths = model._all_widths()
    derived = [b for b, _, _ in model.derived_]
    if len(set(derived)) != len(derived):
        raise ValueError("a derived part does not fit the model's parts")
    for b, a, mapping in model.derived_:
        if (
            not (0 <= b < len(widths) and 0 <= a < len(widths))
            or a in derived
            or len(mapping) != widths[a]
            or (mapping < 0).any()
            or (mapping >= widths[b]).any()
        ):
            raise ValueError("a derived part does not fit the model's parts")
    model.generator_state_ = dict(state["generator"])
    model.generator_loss_ = [float(v) for v in state["generator_loss"]]
    model.discriminator_loss_ = [float(v) for v in state["discriminator_loss"]]
    model.validation_ = [
        (int(e), float(s)) for e, s in zip(state["validation_epochs"], state["validation_scores"])
    ]
    model.validation_rows_ = int(state["validation_rows"])
    model.chosen_epoch_ = int(state["chosen_epoch"])
    model.batch_size_ = int(state["batch_size"])
    n_continuous = len(model.encoder_.continuous_parts)
    if len(model.mode_counts_) + len(model.values_) != n_continuous or (
        model.cardinalities_ != [part.cardinality for part in model.encoder_.discrete_parts]
    ):
        raise ValueError("ctgan state and schema disagree on the parts")
    _check_numbers(model, n_continuous)
    model.by_part_ = model._by_cond_part()
    model.by_counts_ = [np.asarray(c, dtype=np.int64) for c in state.get("by_counts", [])]
    if model.by_part_ is not None:
        kept = [widths[i] for i in model._kept()]
        if [c.shape for c in model.by_counts_] != [(kept[model.by_part_], k) for k in kept] or (
            any((c < 0).any() for c in model.by_counts_)
        ):
            raise ValueError("the ctgan class counts do not fit the model's parts")
    classes = kept[model.by_part_] if model.by_part_ is not None else 0
    if (
        len(model.range_columns_) != len(model.range_edges_)
        or len(model.range_counts_) != len(model.range_edges_)
        or (model.range_edges_ and model.by_part_ is None)
        or not set(model.range_columns_.tolist()) <= set(model._mode_columns().tolist())
        or any(e.ndim != 1 or not (np.diff(e) > 0).all() for e in model.range_edges_)
        or any(
            c.shape != (classes, len(e) + 1) or (c < 0).any()
            for c, e in zip(model.range_counts_, model.range_edges_)
        )
    ):
        raise ValueError("the ctgan ranges do not fit the model's parts")


def _check_numbers(model: CTGAN, n_continuous: int) -> None:
    """Every number sampling reads is one a fit could have made (see synthgen.models.checks)."""
    checks.finite("ctgan mode means", model.mode_means_)
    checks.finite("ctgan mode spreads", model.mode_stds_)
    columns = model.value_columns_.tolist()
    if len(set(columns)) != len(columns) or not all(0 <= c < n_continuous for c in columns):
        raise ValueError("the ctgan value-coded parts do not fit the model's parts")
    for values in model.values_:
        checks.ascending("ctgan part values", values)
        if len(values) and not (np.diff(values) > 0).all():
            raise ValueError("ctgan part values repeat")
    for counts in model.category_counts_:
        if counts.ndim != 1 or (counts < 0).any() or counts.sum() <= 0:
            raise ValueError("the ctgan category counts are not counts of rows")
    for name, weights in model.generator_state_.items():
        checks.finite(f"ctgan generator weights ({name})", weights)
    checks.finite("ctgan validation scores", [s for _, s in model.validation_])
