"""synthgen: synthetic tabular data from a real table, with a report that says if it is fit to use.

The Python API mirrors the command line:

    >>> import pandas as pd, synthgen
    >>> real = pd.DataFrame({"age": [23, 35, 47, 59] * 25, "smoker": ["yes", "no"] * 50})
    >>> model = synthgen.fit(real, model="gaussian-copula", seed=0)
    >>> rows = model.sample(10, seed=1)
    >>> list(rows.columns)
    ['age', 'smoker']

A file too big to load twice is fitted as `synthgen fit big.csv --max-rows N` does it, in one
pass with bounded memory:

    >>> model = synthgen.fit_file("big.csv", max_rows=1_000_000, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthgen._version import __version__
from synthgen.errors import SynthgenError

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.fitting import fit_file
    from synthgen.models.base import Synthesizer
    from synthgen.report import Report
    from synthgen.schema import Column, Schema, detect

_LAZY = {"Column", "Schema", "detect"}


def __getattr__(name: str) -> Any:
    # pandas loads only when used, so `synthgen --help` starts fast
    if name in _LAZY:
        from synthgen import schema

        return getattr(schema, name)
    if name == "fit_file":  # a file of any size, read once (synthgen.fitting)
        from synthgen.fitting import fit_file

        return fit_file
    raise AttributeError(f"module 'synthgen' has no attribute {name!r}")


def fit(
    table: pd.DataFrame,
    model: str = "gaussian-copula",
    *,
    schema: Schema | None = None,
    seed: int | None = None,
    **params: Any,
) -> Synthesizer:
    """Fit `model` to `table` and return it (`.sample(n, seed=...)`, `.save(path)`). For a file
    too big to load, `synthgen.fit_file(path, max_rows=...)` reads it once with bounded memory.

    `model="auto"` fits the core models on 80% of the rows, scores each on the other 20% and
    refits the best on every row (`synthgen.choose`; `candidates=["cart", "ctgan"]` to choose
    among others); the model's `selection_` says what it chose and why.

    Example:
        >>> import pandas as pd, synthgen
        >>> real = pd.DataFrame({"x": [1.0, 2.5, 3.0, 4.5] * 25, "c": list("abcd") * 25})
        >>> model = synthgen.fit(real, model="auto", seed=0)
        >>> model.selection_["chosen"] == model.name
        True
    """
    if model == "auto":
        from synthgen.choose import fit as choose_and_fit

        return choose_and_fit(table, schema, seed=seed, **params)
    from synthgen.models import create

    return create(model, **params).fit(table, schema, seed=seed)


def load(path: str, *, trust_pickle: bool = False) -> Synthesizer:
    """Load a model file written by `model.save(path)` or `synthgen fit`.

    `trust_pickle=True` is needed only for an SDV peer model's file (SDV saves its models as a
    pickle, and unpickling can run code): pass it only for files you made yourself.
    """
    from synthgen.modelfile import load as _load

    return _load(path, trust_pickle=trust_pickle)


def report(real: pd.DataFrame, synth: pd.DataFrame, **options: Any) -> Report:
    """The quality report of `synth` against `real` (see `synthgen.report.build` for the
    options: schema, holdout, target, model), with `.score`, the verdicts, `.to_json()` and
    `.to_html()`."""
    from synthgen.report import build

    return build(real, synth, **options)


def read_table(source: str, **options: Any) -> pd.DataFrame:
    """Read a CSV or Parquet file as synthgen does (see `synthgen.io.read_table`)."""
    from synthgen.io import read_table as _read

    return _read(source, **options)


__all__ = [
    "Column",
    "Schema",
    "SynthgenError",
    "detect",
    "fit",
    "fit_file",
    "load",
    "read_table",
    "report",
    "__version__",
]
