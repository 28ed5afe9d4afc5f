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

from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from synthgen.blas import one_thread
from synthgen.columns import Encoded
from synthgen.errors import ConditionError, MissingDependencyError, SynthgenError, UsageError
from synthgen.models import checks
from synthgen.schema import Schema, detect, validate

if TYPE_CHECKING:
    from synthgen.conditions import Constraints
    from synthgen.stream import StreamStats

# Rows generated per random stream: row i always comes from stream (seed, i // BLOCK_ROWS), so the
# output for a seed is the same however it is chunked.
BLOCK_ROWS = 10_000
# The key of the random stream that picks rare categories' stand-ins (synthgen.columns.stand_ins).
_STAND_IN_STREAM = 0x57A1D
_PROBE_STREAM = 0xC0B1E  # the copy guard's trial draws


def new_seed() -> int:
    """A fresh random seed (for when the user gives none)."""
    return int(np.random.SeedSequence().entropy % 2**32)


def chunk_bounds(start: int, n: int, chunk_rows: int) -> list[tuple[int, int]]:
    """The (first, stop) rows of the chunks that cover rows start .. start + n - 1: about
    `chunk_rows` each, ending on block boundaries of the row stream so no block is made twice.
    Zero rows give one empty chunk (a frame with the columns and no rows).

    Example:
        >>> chunk_bounds(15_000, 30_000, 10_000)
        [(15000, 20000), (20000, 30000), (30000, 40000), (40000, 45000)]
    """
    if n < 0 or start < 0:
        raise UsageError("the number of rows and the first row must be 0 or more")
    step = max(1, chunk_rows // BLOCK_ROWS) * BLOCK_ROWS
    cuts = [start, *range((start // BLOCK_ROWS) * BLOCK_ROWS + step, start + n, step), start + n]
    return list(zip(cuts[:-1], cuts[1:]))


class Synthesizer:
    """Base class of synthgen's models."""

    name: ClassVar[str] = ""
    # True for a model whose file holds another library's pickle (SDV's): loading it can run
    # code, so `synthgen.load` refuses it unless the caller trusts the file.
    requires_pickle: ClassVar[bool] = False
    # False for a model whose sampling touches process-wide state (SDV's seeds the global random
    # generators around each block): the engines then make its blocks one at a time.
    thread_safe_sampling: ClassVar[bool] = True
    params: dict[str, Any]
    # how `--model auto` chose this model (`synthgen.choose.Choice.record`); None when named
    selection_: dict[str, Any] | None = None
    # True for a model that draws whole rows and redraws copies of unique training rows
    # (`synthgen.models.copy_guard`); its guard, fitted (None for a file from before it)
    guards_copies: ClassVar[bool] = False
    copy_guard_: Any = None
    # keep copies of unique training rows: no guard (the models that take `allow_copies`)
    allow_copies: bool = False
    # the share of the rows drawn at fit written as a training row no other repeats, which a
    # guard draws again (None: not measured, or a loaded model; not saved)
    copy_share_: float | None = None
    # True for a model that draws each column given the ones drawn before it (cart): it learns
    # a column a number decides by value as it is too, so that the later columns follow it
    # (`synthgen.rules.categories.Dependency`); a joint model learns it through the number
    learns_decided_codes: ClassVar[bool] = False

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

    def guarantee(self) -> dict[str, Any] | None:
        """A formal privacy guarantee the fitted model gives (a DP model's epsilon and delta,
        with a `statement` in words); None for a model that gives none (the report says so)."""
        return None

    def _set_marginals(self, marginals: list[tuple[np.ndarray, np.ndarray] | None]) -> bool:
        """Optional: after fitting on a sample of a big table, take each part's distribution
        over the whole table, `(distinct values, rows)` per part (None where unknown), in the
        order of `encoder_.parts`. Returns whether the model used them (default: it can't)."""
        return False

    # ---- shared -----------------------------------------------------------------------------
    def fit(
        self,
        table: pd.DataFrame,
        schema: Schema | None = None,
        *,
        seed: int | None = None,
        stream: StreamStats | None = None,
    ) -> Synthesizer:
        """Learn the table; `schema` defaults to the detected one.

        `stream`: when `table` is a uniform sample of a bigger table, that table's exact counts
        (`synthgen.stream.reservoir_sample` gives both); nulls, category frequencies and, where
        the model can use them, the marginals of the counted columns then come from all rows.
        """
        if len(table) < 2:
            from synthgen.errors import InputError

            raise InputError(
                "the table has no rows to learn from"
                if len(table) == 0
                else "the table has only 1 row: a model of it could only copy it; give at least 2"
            )
        schema = schema if schema is not None else detect(table)
        validate(table, schema)
        if stream is not None and stream.rows <= len(table):
            stream = None  # the sample is the whole table: nothing more to learn
        self.seed_ = _seed(seed)
        rng = np.random.default_rng(self.seed_)
        self.schema_ = schema
        from synthgen.rules.keep import table_encoder

        # a rule may not decide a column the model is told to split by (--by) or to draw first
        named = [getattr(self, "by", None), *(getattr(self, "order", None) or [])]
        self.encoder_ = table_encoder(
            schema, self.rare_threshold, self.seed_, named, self.learns_decided_codes
        ).fit(table, rng, stream)
        self.training_rows_ = len(table)
        self.source_rows_ = len(table) if stream is None else stream.rows
        self._fit_table(table, rng)
        self.whole_table_marginals_ = stream is not None and self._set_marginals(
            self.encoder_.exact_marginals(stream)
        )
        return self

    def _fit_table(self, table: pd.DataFrame, rng: np.random.Generator) -> None:
        """Learn from the table once schema and encoder are set; a model that needs the table
        itself rather than its encoded parts (an adapter for another library) overrides this."""
        from synthgen.columns.stand_ins import stand_ins

        # its own generator: a table with no rare category learns and draws the same rows
        own = np.random.default_rng([self.seed_, _STAND_IN_STREAM])
        context = self.encoder_.fit_context()  # (before encode, which lets go of it)
        data = self.encoder_.encode(table, rng)
        guarded = self.guards_copies and not self.allow_copies
        if guarded:  # the training rows as written (`synthgen.models.copy_guard`)
            from synthgen.models.copy_guard import PROBE_ROWS, CopyGuard, row_hashes

            full = row_hashes(self.encoder_, data, 64)
        self._fit_encoded(stand_ins(self.encoder_, data, own, context), rng)
        if guarded:
            probe = np.random.default_rng([self.seed_, _PROBE_STREAM])
            self.copy_guard_, self.copy_share_ = CopyGuard.fit(
                full, self.encoder_, self._sample_encoded(PROBE_ROWS, probe)
            )

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
        start: int = 0,
        total: int | None = None,
        categorical: bool = False,
    ) -> Iterator[pd.DataFrame]:
        """Yield the rows of `sample(n, seed, ...)` in chunks of about `chunk_rows` (bounded
        memory).

        Without conditions, the rows are rows `start` .. `start + n - 1` of the endless row
        stream for `seed`, so any worker can make any slice of a big sample: the slices [0, a)
        and [a, b) together are exactly the rows [0, b). `total` is the size of the whole sample
        the slice belongs to (default `start + n`; it decides only how wide new text keys are).
        With `categorical`, text columns of few values come back as pandas Categoricals (see
        `TableEncoder.decode`), the fast way to write them out.

        Example:
            >>> model.iter_sample(25_000, seed=1, chunk_rows=10_000)  # doctest: +SKIP
        """
        self._check_fitted()
        n = self.training_rows_ if n is None else int(n)
        if n < 0:
            raise UsageError("the number of rows must be 0 or more")
        seed = _seed(seed)
        if where is not None or balance is not None:
            if start or total is not None or categorical:
                raise UsageError(
                    "a conditional sample is made whole: no start, total or categorical"
                )
            yield from self._iter_planned(n, seed, chunk_rows, where, balance, allow_unseen)
            return
        total = start + n if total is None else total
        for lo, hi in chunk_bounds(start, n, chunk_rows):
            yield self.sample_rows(lo, hi, seed=seed, total=total, categorical=categorical)

    def _iter_planned(
        self,
        n: int,
        seed: int,
        chunk_rows: int,
        where: Any,
        balance: str | None,
        allow_unseen: bool,
    ) -> Iterator[pd.DataFrame]:
        """The chunks of a sample under conditions (`synthgen.conditions.SamplePlan`)."""
        from synthgen.rules.keep import sample_plan

        plan = sample_plan(self, where, balance, allow_unseen)
        per_chunk = max(1, chunk_rows // BLOCK_ROWS)
        n_blocks = max(1, -(-n // BLOCK_ROWS))
        for first in range(0, n_blocks, per_chunk):
            with one_thread():
                blocks = [
                    plan.block(self, b * BLOCK_ROWS, _block_rows(b, n), [seed, b, 1])
                    for b in range(first, min(n_blocks, first + per_chunk))
                ]
            encoded = Encoded(
                np.concatenate([b.continuous for b in blocks]),
                np.concatenate([b.discrete for b in blocks]),
                sum(b.n_rows for b in blocks),
            )
            frame = self.encoder_.decode(encoded, seed, start=first * BLOCK_ROWS)
            yield plan.finish(frame, seed, first * BLOCK_ROWS)

    def sample_rows(
        self,
        start: int,
        stop: int,
        *,
        seed: int,
        total: int | None = None,
        categorical: bool = False,
    ) -> pd.DataFrame:
        """Rows `start` .. `stop - 1` of the row stream for `seed`, as one frame (see
        `iter_sample`, which yields these in chunks).

        Example:
            >>> model.sample_rows(10_000, 20_000, seed=1)  # doctest: +SKIP
        """
        self._check_fitted()
        total = stop if total is None else total
        if not 0 <= start <= stop <= total:
            raise UsageError("the rows to sample must run from a first row >= 0 to a later one")
        with one_thread():  # the same floats however many threads BLAS or the caller has
            encoded = self._sample_rows(start, stop, seed, total)
        return self.encoder_.decode(
            encoded, seed, start=start, total=total, categorical=categorical
        )

    def _sample_rows(self, lo: int, hi: int, seed: int, total: int) -> Encoded:
        """Rows lo .. hi-1 of the sample of `total` rows for `seed`: row i always comes from
        block i // BLOCK_ROWS (`_sample_block`), so any slice of the sample can be made alone."""
        blocks = []
        for block in range(lo // BLOCK_ROWS, max(lo // BLOCK_ROWS + 1, -(-hi // BLOCK_ROWS))):
            first = block * BLOCK_ROWS
            with one_thread():
                encoded = self._sample_block(block, total, seed)
            a, b = max(lo - first, 0), min(hi - first, encoded.n_rows)
            if (a, b) != (0, encoded.n_rows):
                encoded = Encoded(encoded.continuous[a:b], encoded.discrete[a:b], b - a)
            blocks.append(encoded)
        if len(blocks) == 1:
            return blocks[0]
        return Encoded(
            np.concatenate([b.continuous for b in blocks]),
            np.concatenate([b.discrete for b in blocks]),
            sum(b.n_rows for b in blocks),
        )

    def _sample_block(self, block: int, n: int, seed: int) -> Encoded:
        """Block `block` of the row stream for `seed`, cut short at row `n` (the sample's
        end): drawn from its own random stream (seed, block). A model that draws rows in its
        own way (an adapter for another library) overrides this."""
        rows = _block_rows(block, n)
        rng = np.random.default_rng([seed, block])
        encoded = self._sample_encoded(BLOCK_ROWS, rng)
        if self.copy_guard_ is not None:
            encoded = self.copy_guard_.redraw(
                self.encoder_, encoded, lambda rows: self._sample_encoded(len(rows), rng)
            )
        if rows < BLOCK_ROWS:
            encoded = Encoded(encoded.continuous[:rows], encoded.discrete[:rows], rows)
        return encoded

    def _conditional(self, n: int, constraints: Constraints, rng: np.random.Generator) -> Encoded:
        """`n` rows meeting `constraints` through the model's hook, checked: every row must meet
        them. Rows to fill go in one call, each leaving free the parts it does not constrain."""
        constraints = constraints.trimmed()
        if n == 0 or constraints.empty:
            encoded = self._sample_encoded(n, rng)
        else:
            encoded = self._sample_conditional(n, constraints, rng)
        if self.copy_guard_ is not None:  # conditional rows are guarded as the others are
            encoded = self.copy_guard_.redraw(
                self.encoder_, encoded, partial(self._again, constraints, encoded, rng)
            )
        if encoded.n_rows != n or not constraints.matches(encoded).all():
            raise RuntimeError(f"the {self.name} model broke a condition: {constraints.label}")
        return encoded

    def _again(
        self, constraints: Constraints, drawn: Encoded, rng: np.random.Generator, rows: np.ndarray
    ) -> Encoded:
        """Fresh rows in place of `drawn`'s `rows` (copies), each meeting its constraints; where
        a condition is too rare to draw so few rows again, the rows as they were."""
        from synthgen.conditions import take_rows

        if constraints.empty:
            return self._sample_encoded(len(rows), rng)
        try:
            return self._sample_conditional(len(rows), constraints.take(rows), rng)
        except ConditionError:
            return take_rows(drawn, rows)

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
            if hasattr(self.encoder_, "keepers"):  # the encoder keeps rules: so must filling
                from synthgen.rules.conditioned import fill_block

                with one_thread():
                    kept = fill_block(self, part, seed, block, allow_unseen, start)
                yield kept
                continue
            constraints, cells = fill_constraints(self.encoder_, part, allow_unseen, start)
            with one_thread():
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
            "source_rows": self.source_rows_,
            "whole_table_marginals": bool(self.whole_table_marginals_),
            "encoder": self.encoder_.to_state(),
            "fitted": self._get_state(),
            **({"selection": self.selection_} if self.selection_ else {}),
            **({"copy_guard": self.copy_guard_.to_state()} if self.copy_guard_ else {}),
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
            # files from before sampling big tables were fitted on every row they saw
            model.source_rows_ = int(state.get("source_rows", model.training_rows_))
            model.whole_table_marginals_ = bool(state.get("whole_table_marginals", False))
            model.selection_ = _selection(state.get("selection"))
            if model.guards_copies:  # files from before the guard have none
                from synthgen.models.copy_guard import CopyGuard

                model.copy_guard_ = CopyGuard.from_state(state.get("copy_guard"))
            elif "copy_guard" in state:
                raise ValueError(f"a {model.name} model has no copy guard")
            from synthgen.rules.keep import encoder_from_state

            model.encoder_ = encoder_from_state(model.schema_, state["encoder"])
            # a model that keeps rules decodes its user columns through a second encoder
            for enc in (model.encoder_, getattr(model.encoder_, "inner", None)):
                if enc is not None:
                    checks.encoder(enc.schema.names, enc.states)
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


def _selection(record: Any) -> dict[str, Any] | None:
    """The record of how `--model auto` chose a model, as its file holds it, checked to be what
    `synthgen inspect` reads: a dict whose candidates are dicts, each naming its model."""
    if record is None:
        return None
    candidates = record.get("candidates") if isinstance(record, dict) else None
    if not isinstance(candidates, list) or not all(
        isinstance(c, dict) and isinstance(c.get("model"), str) for c in candidates
    ):
        raise TypeError("the record of how the model was chosen is not one")
    return record


def _block_rows(block: int, n: int) -> int:
    return max(0, min(BLOCK_ROWS, n - block * BLOCK_ROWS))


def _seed(seed: int | None) -> int:
    return seed if seed is not None else new_seed()


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
