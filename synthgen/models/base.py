"""The contract every model keeps, and the registry that names them.

Hyper-parameters are set in `__init__` and only stored there; `fit` learns attributes ending in `_`
and returns self; `sample(n, seed=...)` returns a table shaped like the training one; `to_state()`
and `from_state()` carry a fitted model through the model file (JSON and arrays, never pickle).

A model implements four small methods on encoded parts (see `synthgen.columns`):
`_fit_encoded`, `_sample_encoded`, `_get_state`, `_set_state`. The base class does the rest:
schema, encoding, seeding, chunking, decoding and saving.

Example:
    >>> import synthgen, pandas as pd
    >>> table = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "c": list("abab") * 5})
    >>> model = synthgen.fit(table, model="gaussian-copula", seed=0)
    >>> model.sample(3, seed=1).shape
    (3, 2)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from synthgen.columns import Encoded, TableEncoder
from synthgen.errors import MissingDependencyError, SynthgenError, UsageError
from synthgen.schema import Schema, detect, validate

if TYPE_CHECKING:
    from synthgen.conditions import Constraints

# Rows generated per random stream: row i always comes from stream (seed, i // BLOCK_ROWS), so the
# output for a seed is the same however it is chunked.
BLOCK_ROWS = 10_000


class Synthesizer:
    """Base class of synthgen's models."""

    name: ClassVar[str] = ""
    # True for a model whose file holds another library's pickle (SDV's): loading it can run
    # code, so `synthgen.load` refuses it unless the caller trusts the file.
    requires_pickle: ClassVar[bool] = False
    params: dict[str, Any]

    def __init__(self, *, rare_threshold: int = 5, **params: Any):
        self.rare_threshold = rare_threshold
        self.params = params

    # ---- to implement -----------------------------------------------------------------------
    def _fit_encoded(self, data: Encoded, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _sample_encoded(self, n: int, rng: np.random.Generator) -> Encoded:
        raise NotImplementedError

    def _sample_conditional(
        self, n: int, constraints: Constraints, rng: np.random.Generator
    ) -> Encoded:
        """`n` encoded rows meeting `constraints` exactly (see `synthgen.conditions`): row i meets
        row i's, or all meet the same when `constraints.shared`; the parts they don't name are
        free. The default keeps unconditional draws that meet them (bounded rejection); a model
        that can condition exactly overrides this."""
        from synthgen.conditions import rejection_sample

        if type(self)._sample_encoded is Synthesizer._sample_encoded:
            raise UsageError(f"the {self.name} model can't sample conditionally")
        return rejection_sample(self._sample_encoded, n, constraints, rng, self.name)

    def _get_state(self) -> dict[str, Any]:
        """The fitted parameters: JSON values and numpy arrays, nested in dicts and lists."""
        raise NotImplementedError

    def _set_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What a person wants to know about the fitted model (shown by `synthgen inspect`)."""
        return {}

    # ---- shared -----------------------------------------------------------------------------
    def fit(
        self, table: pd.DataFrame, schema: Schema | None = None, *, seed: int | None = None
    ) -> Synthesizer:
        """Learn the table; `schema` defaults to the detected one."""
        if len(table) < 2:
            from synthgen.errors import InputError

            raise InputError(
                "the table has no rows to learn from"
                if len(table) == 0
                else "the table has only 1 row: a model of it could only copy it; give at least 2"
            )
        schema = schema if schema is not None else detect(table)
        validate(table, schema)
        self.seed_ = _seed(seed)
        rng = np.random.default_rng(self.seed_)
        self.schema_ = schema
        self.encoder_ = TableEncoder(schema, self.rare_threshold).fit(table, rng)
        self.training_rows_ = len(table)
        self._fit_table(table, rng)
        return self

    def _fit_table(self, table: pd.DataFrame, rng: np.random.Generator) -> None:
        """Learn from the table once schema and encoder are set; a model that needs the table
        itself rather than its encoded parts (an adapter for another library) overrides this."""
        self._fit_encoded(self.encoder_.encode(table, rng), rng)

    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise UsageError(f"the {self.name} model is not fitted yet; call fit() first")

    def iter_sample(
        self,
        n: int | None = None,
        *,
        seed: int | None = None,
        chunk_rows: int = 100_000,
        where: Any = None,
        balance: str | None = None,
        allow_unseen: bool = False,
    ) -> Iterator[pd.DataFrame]:
        """Yield the rows of `sample(n, seed, ...)` in chunks of about `chunk_rows` (bounded
        memory)."""
        self._check_fitted()
        n = self.training_rows_ if n is None else int(n)
        if n < 0:
            raise UsageError("the number of rows must be 0 or more")
        plan = None
        if where is not None or balance is not None:
            from synthgen.conditions import SamplePlan

            plan = SamplePlan(self, where, balance, allow_unseen)
        seed = _seed(seed)
        per_chunk = max(1, chunk_rows // BLOCK_ROWS)
        n_blocks = max(1, -(-n // BLOCK_ROWS))
        for first in range(0, n_blocks, per_chunk):
            blocks = [
                plan.block(self, b * BLOCK_ROWS, _block_rows(b, n), [seed, b, 1])
                if plan
                else self._sample_block(b, n, seed)
                for b in range(first, min(n_blocks, first + per_chunk))
            ]
            encoded = Encoded(
                np.concatenate([b.continuous for b in blocks]),
                np.concatenate([b.discrete for b in blocks]),
                sum(b.n_rows for b in blocks),
            )
            frame = self.encoder_.decode(encoded, seed, start=first * BLOCK_ROWS)
            yield plan.finish(frame, seed, first * BLOCK_ROWS) if plan else frame

    def _sample_block(self, block: int, n: int, seed: int) -> Encoded:
        """Block `block` of the row stream for `seed` (cut short at row `n`)."""
        rows = _block_rows(block, n)
        encoded = self._sample_encoded(BLOCK_ROWS, np.random.default_rng([seed, block]))
        if rows < BLOCK_ROWS:
            encoded = Encoded(encoded.continuous[:rows], encoded.discrete[:rows], rows)
        return encoded

    def _conditional(self, n: int, constraints: Constraints, rng: np.random.Generator) -> Encoded:
        """`n` rows meeting `constraints` through the model's hook, checked: every row must meet
        them. Rows to fill go in one call, each leaving free the parts it does not constrain."""
        constraints = constraints.trimmed()
        if n == 0 or constraints.empty:
            return self._sample_encoded(n, rng)
        encoded = self._sample_conditional(n, constraints, rng)
        if encoded.n_rows != n or not constraints.matches(encoded).all():
            raise RuntimeError(f"the {self.name} model broke a condition: {constraints.label}")
        return encoded

    def sample(
        self,
        n: int | None = None,
        *,
        seed: int | None = None,
        where: Any = None,
        balance: str | None = None,
        allow_unseen: bool = False,
    ) -> pd.DataFrame:
        """`n` synthetic rows (default: as many as the training table had).

        `where`: only rows meeting conditions (`"age>=40"`, a list of such, or a dict such as
        `{"income": ">50K", "age": (">=", 40)}`); `balance`: equal counts of each class of a
        categorical or boolean column; `allow_unseen`: accept values never seen in training (the
        model extrapolates). See `synthgen.conditions`. The same seed gives the same rows, however
        they are chunked.
        """
        frames = list(
            self.iter_sample(n, seed=seed, where=where, balance=balance, allow_unseen=allow_unseen)
        )
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def iter_fill(
        self,
        rows: pd.DataFrame | Iterable[pd.DataFrame],
        *,
        seed: int | None = None,
        allow_unseen: bool = False,
    ) -> Iterator[pd.DataFrame]:
        """Yield `fill(rows)` block by block; `rows` may be an iterator of chunks (any sizes: they
        are re-cut into the model's blocks, so the output does not depend on them)."""
        from synthgen.conditions import fill_constraints, merge

        self._check_fitted()
        seed = _seed(seed)
        chunks = [rows] if isinstance(rows, pd.DataFrame) else rows
        for block, part in enumerate(_reblock(chunks, BLOCK_ROWS)):
            start = block * BLOCK_ROWS
            constraints, cells = fill_constraints(self.encoder_, part, allow_unseen, start)
            encoded = self._conditional(
                len(part), constraints, np.random.default_rng([seed, block, 2])
            )
            frame = self.encoder_.decode(encoded, seed, start)
            for name, given, values in cells:
                frame[name] = merge(frame[name], values, given)
            yield frame

    def fill(
        self, rows: pd.DataFrame, *, seed: int | None = None, allow_unseen: bool = False
    ) -> pd.DataFrame:
        """The rows with their empty cells filled by the model, conditional on the given cells,
        which are kept as they are. `rows` may hold any of the model's columns (a missing column
        is all empty).

        Example:
            >>> import pandas as pd, synthgen
            >>> real = pd.DataFrame({"g": ["a", "b"] * 50, "x": [1.0, 9.0] * 50})
            >>> model = synthgen.fit(real, seed=0)
            >>> bool(model.fill(pd.DataFrame({"g": ["b", None]}), seed=0)["g"].notna().all())
            True
        """
        frames = list(self.iter_fill(rows, seed=seed, allow_unseen=allow_unseen))
        if not frames:
            return self.sample(0)
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def save(self, path: str, *, force: bool = False) -> None:
        """Write the safe model file (see `synthgen.modelfile`)."""
        from synthgen import modelfile

        modelfile.save(self, path, force=force)

    def to_state(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "model": self.name,
            "params": {"rare_threshold": self.rare_threshold, **self.params},
            "schema": self.schema_.to_dict(),
            "seed": self.seed_,
            "training_rows": self.training_rows_,
            "encoder": self.encoder_.to_state(),
            "fitted": self._get_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Synthesizer:
        """The fitted model a state (from a model file) holds. A state that does not make a
        working model raises ValueError naming what failed: a file with a valid checksum can
        still be damaged or crafted, so two rows are drawn here rather than fail later."""
        try:
            model = cls(**state["params"])
            model.schema_ = Schema.from_dict(state["schema"])
            model.seed_ = int(state["seed"])
            model.training_rows_ = int(state["training_rows"])
            model.encoder_ = TableEncoder.from_state(model.schema_, state["encoder"])
            model._set_state(state["fitted"])
            model._check_state()
        except MissingDependencyError:
            raise
        # what a bad state makes the model's code raise (a bad schema is a SynthgenError)
        except (
            LookupError,
            TypeError,
            ValueError,
            AttributeError,
            ArithmeticError,
            SynthgenError,
        ) as exc:
            reason = str(exc).strip().splitlines()
            raise ValueError(
                f"{type(exc).__name__}: {reason[0][:200]}" if reason else type(exc).__name__
            ) from None
        return model

    def _check_state(self) -> None:
        """Draw and decode two rows (not a whole block: cheap for a wide model). A model that
        only samples whole blocks its own way is checked when it samples."""
        try:
            encoded = self._sample_encoded(2, np.random.default_rng(0))
        except NotImplementedError:
            return
        self.encoder_.decode(encoded, seed=0)


def _block_rows(block: int, n: int) -> int:
    return max(0, min(BLOCK_ROWS, n - block * BLOCK_ROWS))


def _seed(seed: int | None) -> int:
    return seed if seed is not None else int(np.random.SeedSequence().entropy % 2**32)


def _reblock(chunks: Iterable[pd.DataFrame], size: int) -> Iterator[pd.DataFrame]:
    """The rows of `chunks` again, in frames of exactly `size` rows (the last may be shorter)."""
    pending: list[pd.DataFrame] = []
    held = 0
    for chunk in chunks:
        chunk = chunk.reset_index(drop=True)
        while len(chunk):
            take = chunk.iloc[: size - held]
            chunk = chunk.iloc[len(take) :]
            pending.append(take)
            held += len(take)
            if held == size:
                yield pd.concat(pending, ignore_index=True)
                pending, held = [], 0
    if held:
        yield pd.concat(pending, ignore_index=True)


# ---- registry -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInfo:
    name: str
    target: str  # "module:Class", imported only when the model is used
    summary: str
    needs: tuple[str, ...] = ()  # importable modules the model needs
    extra: str | None = None  # the pip extra that installs them
    licence: str = "MIT (synthgen)"

    def available(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.needs)


REGISTRY: dict[str, ModelInfo] = {}


def register(info: ModelInfo) -> None:
    REGISTRY[info.name] = info


def model_class(name: str) -> type[Synthesizer]:
    """The class registered under `name`; a clear error when unknown or not installed."""
    info = REGISTRY.get(name)
    if info is None:
        raise UsageError(f"unknown model {name!r}; choose one of: {', '.join(REGISTRY)}")
    if not info.available():
        raise MissingDependencyError(
            f"model {name!r} needs {', '.join(info.needs)}: pip install 'synthgen[{info.extra}]'"
        )
    module, cls = info.target.split(":")
    return getattr(importlib.import_module(module), cls)


def create(name: str, **params: Any) -> Synthesizer:
    try:
        return model_class(name)(**params)
    except TypeError as exc:
        raise UsageError(f"model {name!r}: {exc}") from None
