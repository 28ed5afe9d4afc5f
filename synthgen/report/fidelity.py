"""Fidelity, as the report shows it: the score of columns and column pairs (from
`synthgen.compare.fidelity`, where models that stop on quality also read it) and the
classifier two-sample test.

Example:
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "c": list("abab") * 5})
    >>> synth = pd.DataFrame({"x": [1.0, 1.0, 1.0, 1.0] * 5, "c": list("aaaa") * 5})
    >>> Reference(real).summary(synth)["column_shapes"]
    0.375
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthgen.compare.fidelity import (
    REAL_ASSOCIATION_THRESHOLD,
    REAL_CORRELATION_THRESHOLD,
    Reference,
    column_pair_trends,
    column_shapes,
    quality_score,
    summarize,
)
from synthgen.compare.values import Prepared

__all__ = [
    "DETECTION_ROWS",
    "REAL_ASSOCIATION_THRESHOLD",
    "REAL_CORRELATION_THRESHOLD",
    "Reference",
    "column_pair_trends",
    "column_shapes",
    "detection",
    "quality_score",
    "summarize",
]

DETECTION_ROWS = 800


def detection(real: Prepared, synth: Prepared, seed: int = 0) -> dict[str, Any]:
    """How well a classifier tells real rows from synthetic ones: the cross-validated ROC AUC
    of gradient boosting on up to DETECTION_ROWS rows of each (0.5: it cannot; 1: always).

    Example:
        >>> import numpy as np, pandas as pd
        >>> from synthgen.compare.values import prepare
        >>> from synthgen.schema import detect
        >>> rng = np.random.default_rng(0)
        >>> real = pd.DataFrame({"x": rng.normal(size=800), "y": rng.normal(size=800)})
        >>> fake = pd.DataFrame({"x": rng.normal(size=800), "y": rng.normal(2, 1, size=800)})
        >>> schema = detect(real)
        >>> r = prepare(real, schema, "real")
        >>> detection(r, prepare(fake, schema, like=r))["auc"] > 0.8
        True
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from synthgen.report.utility import categorical_mask, features, learner, one_thread

    n = min(DETECTION_ROWS, real.n_rows, synth.n_rows)
    names = list(real)
    if n < 20 or not names:
        return {"auc": float("nan"), "rows": n}
    rng = np.random.default_rng(seed)
    x = np.vstack(
        [
            features(real, names, np.sort(rng.choice(real.n_rows, n, replace=False))),
            features(synth, names, np.sort(rng.choice(synth.n_rows, n, replace=False))),
        ]
    )
    y = np.r_[np.zeros(n), np.ones(n)]
    model = learner(True, categorical_mask(real, names), seed, iterations=30, leaves=15)
    folds = StratifiedKFold(3, shuffle=True, random_state=seed)
    with one_thread():
        p = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    return {"auc": float(roc_auc_score(y, p)), "rows": n}
