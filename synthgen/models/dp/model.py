"""AIM and MST, differentially private: the model of a table is a set of noisy marginals over
binned columns, fitted by OpenDP (`opendp.extras.mbi`, on private-pgm's `mbi`), and sampled from
the graphical model they estimate.

Everything the model file holds comes from differentially private releases or from what the user
gave as public (`public_schema`): the bounds, categories and null presence of each column
(`synthgen.models.dp.domain`), the shape of numbers inside their bins, the row count, and the
marginals. What is read off the file without privacy is its layout: the column names and kinds,
how values are written (integers, decimals, date formats, true/false spellings). Table rules
found in the data are not kept (they would leak); the rules of the public schema are, exactly:
everything they learn (a dependency's table, an order's gap, a monotone curve) is learned from
rows drawn from the fitted model, never from the data (post-processing: no budget spent), and
every drawn row goes through the same `synthgen.rules.keep.RuleEncoder` as other models' rows
do, so every kept rule holds on every row. Key columns are made anew, not learned.
The fit's noise is OpenDP's, from the operating system's randomness, not from `seed` (seeded
noise would be predictable): the same seed gives the same rows from one fitted model, but two
fits differ.

Example:
    >>> import synthgen
    >>> table = synthgen.read_table("sample_data/penguins.csv")
    >>> model = synthgen.fit(table, model="mst", epsilon=10, seed=0)  # doctest: +SKIP
    >>> model.describe()["differential_privacy"]["epsilon"]  # doctest: +SKIP
    10
"""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from synthgen.columns import KINDS, Encoded, TableEncoder
from synthgen.columns.base import null_mask
from synthgen.models import checks
from synthgen.models.base import Synthesizer
from synthgen.models.dp.accounting import Budget
from synthgen.models.dp.domain import (
    cell_codes,
    draw_in_bins,
    noisy_histogram,
    number_cells,
    number_domain,
    released_keys,
)

if TYPE_CHECKING:
    from synthgen.schema import Schema

# gradient steps of mbi's mirror descent per estimate (its default, 1,000, takes minutes each)
_ITERS = {"aim": 300, "mst": 1000}
# Rows drawn from the fitted model to learn the public rules' state from: the table's (noisy)
# row count, within these bounds (enough rows for each source category's commonest target).
_RULE_ROWS = (20_000, 100_000)


class DPSynthesizer(Synthesizer):
    """The shared machinery of AIM and MST (`mechanism`)."""

    mechanism: ClassVar[str] = ""
    #: `synthgen fit --schema` passes the user's schema as public (see `fit`).
    takes_public_schema: ClassVar[bool] = True

    def __init__(
        self,
        *,
        epsilon: float = 1.0,
        delta: float = 1e-6,
        domain_share: float = 0.1,
        max_bins: int = 32,
        iters: int | None = None,
        rare_threshold: int = 5,
        **params: Any,
    ):
        super().__init__(
            rare_threshold=rare_threshold,
            epsilon=epsilon,
            delta=delta,
            domain_share=domain_share,
            max_bins=max_bins,
            iters=iters,
            **params,
        )
        self.epsilon, self.delta, self.domain_share = epsilon, delta, domain_share
        self.max_bins, self.iters = max_bins, iters
        self.on_epoch = None  # progress: called with (step, total, {})
        Budget.of(epsilon, delta, domain_share)  # a bad budget fails before any reading

    def fit(
        self,
        table: pd.DataFrame,
        schema: Schema | None = None,
        *,
        seed: int | None = None,
        stream: Any = None,
        public_schema: Schema | None = None,
    ) -> DPSynthesizer:
        """Learn the table with (epsilon, delta)-differential privacy. `public_schema`: a schema
        whose columns' bounds (min, max), categories and null rates are public knowledge, not
        read from the data (what `synthgen fit --schema` gives); the rest is found privately with
        `domain_share` of the budget. Its rules are kept (learned from the model's own rows, see
        the module's docstring); rules in `schema` are not, unless public too. `stream` (exact
        counts of a bigger table) is not used: it is not private."""
        from synthgen.rules.rows import validate
        from synthgen.schema import detect

        schema = copy.deepcopy(schema if schema is not None else detect(table))
        schema.rules = []  # rules read off the data are not private
        self.public_rules_ = list(public_schema.rules) if public_schema is not None else []
        validate(self.public_rules_, schema)
        for col in schema.columns:
            if _role(col) == "categories":  # a constant's value, free text: as categories
                col.kind, col.value = "categorical", None
        self.public_ = {c.name: c for c in public_schema.columns} if public_schema else {}
        return super().fit(table, schema, seed=seed, stream=None)

    # ---- fitting ---------------------------------------------------------------------------
    def _fit_table(self, table: pd.DataFrame, rng: np.random.Generator) -> None:
        columns, states = self.schema_.columns, self.encoder_.states
        # values as the model counts them: floats (NaN for null) or typed keys
        values = [self._values(c, s, table[c.name], rng) for c, s in zip(columns, states)]
        find = {c.name: self._query_of(c, s, v) for c, s, v in zip(columns, states, values)}
        find = {k: v for k, v in find.items() if v is not None}
        budget = Budget.of(self.epsilon, self.delta, self.domain_share if find else 0.0)
        progress = _Steps(self.on_epoch, len(find) + self._estimates(len(columns)))
        found = _find(find, budget, progress)
        self.domains_ = [
            self._domain(c, s, v, found.get(c.name)) for c, s, v in zip(columns, states, values)
        ]
        # what the noise hid: said once, not kept in the model file
        hidden = [
            (c.name, d["role"]) for c, d in zip(columns, self.domains_) if not d.pop("found", True)
        ]
        _warn_hidden(hidden, self.epsilon, len(table))
        modelled = [i for i, d in enumerate(self.domains_) if d["role"] != "made"]
        codes = {columns[i].name: _codes(values[i], self.domains_[i]) for i in modelled}
        sizes = [_size(self.domains_[i]) for i in modelled]
        release = _release(self.mechanism, codes, sizes, budget.rho_model, self._iters(), progress)
        self.sampler_ = _sampler(release.model, {columns[i].name: i for i in modelled})
        self.modelled_ = modelled
        self.budget_ = budget
        self.training_rows_ = self.source_rows_ = max(2, int(round(float(release.model.total))))
        self._private_encoder(table, rng)
        self._keep_rules(rng)

    def _keep_rules(self, rng: np.random.Generator) -> None:
        """Keep the public rules: a `RuleEncoder` (on the columns' private states) learns its
        state from rows drawn from the fitted model, never from the table. `user_encoder_`
        encodes the columns the model draws; `encoder_` decodes them through the rules."""
        self.user_encoder_ = self.encoder_
        if not self.public_rules_:
            return
        from synthgen.rules.keep import RuleEncoder

        drawn = self.sample(
            min(max(self.training_rows_, _RULE_ROWS[0]), _RULE_ROWS[1]),
            seed=int(rng.integers(2**32)),
        )
        self.schema_.rules = self.public_rules_
        self.encoder_ = RuleEncoder(self.schema_, self.rare_threshold, self.seed_).fit(
            drawn, rng, given=self.user_encoder_
        )
        self.encoder_.modelled_table(drawn)  # let go of the drawn rows it keeps for encode()

    def _estimates(self, n_columns: int) -> int:
        # mbi's estimates: MST one after the one-way marginals and one at the end; AIM one
        # more per round
        return 2 if self.mechanism == "mst" else 2 + _rounds(n_columns)

    def _iters(self) -> int:
        return int(self.iters or _ITERS[self.mechanism])

    def _values(self, col, state, values: pd.Series, rng) -> Any:
        """A column's values as the model counts them: a number's value part (floats, NaN for
        null), or the typed keys (None for null)."""
        kind, role = KINDS[col.kind], _role(col)
        if role in ("number", "time"):
            x = np.array(kind.encode(values, col, state, rng)[0], dtype=float)
            x[null_mask(values)] = np.nan
            return x
        return _keys(kind.typed(values, col)) if role == "keys" else None

    def _query_of(self, col, state, values) -> tuple | None:
        """What finding a column's domain counts: ("cells", each value's cell, cells) for a
        histogram on public cells, ("keys", polars Series) for values named privately; None
        when the public schema leaves nothing to find."""
        import polars as pl

        role = _role(col)
        if role in ("number", "time"):
            lo, hi, _ = self._cells(col, state)
            return "cells", cell_codes(values, hi), len(lo)
        if role != "keys" or _public_keys(self.public_.get(col.name)) is not None:
            return None  # made anew, or public categories
        return "keys", pl.Series([None if v is None else str(v) for v in values], dtype=pl.String)

    def _cells(self, col, state) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        bounds = self._public_bounds(col, state)
        integer = KINDS[col.kind].grid(state) == 1
        return number_cells(integer, *bounds, dates=_role(col) == "time")

    def _public_bounds(self, col, state) -> tuple[float | None, float | None]:
        public = self.public_.get(col.name)
        if public is None or public.min is None or public.max is None:
            return None, None
        bounds = (public.min, public.max)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bounds):
            # a schema's bounds are in the model's own units (a date's: seconds since 1970), as
            # every column kind's fit reads them
            return float(public.min), float(public.max)
        # bounds written as the column writes its values ("2020-01-01", "1.234,5")
        parsed = KINDS[col.kind].parse(pd.Series(list(bounds)), col, state)
        return float(parsed[0]), float(parsed[1])

    def _domain(self, col, state, values, found) -> dict[str, Any]:
        """A column's domain from what was found (`_find`) or from the public schema."""
        public = self.public_.get(col.name)
        public_nulls = public is not None and public.null_rate > 0
        role = _role(col)
        if role in ("number", "time"):
            counts, scale = found
            public_bounds = self._public_bounds(col, state)[0] is not None
            domain = number_domain(
                counts, self._cells(col, state), scale, self.max_bins, public_bounds
            )
            if public is not None:
                domain["nulls"] = public_nulls
            return {"role": "number", "integer": KINDS[col.kind].grid(state) == 1, **domain}
        if role == "made":
            return {"role": "made", "nulls": public_nulls}
        keys = _public_keys(public)
        if keys is not None:
            shares = [1 / len(keys)] * len(keys)
            return {"role": "keys", "keys": keys, "shares": shares, "nulls": public_nulls}
        originals: dict[str, Any] = {}
        for v in values:
            if v is not None:
                originals.setdefault(str(v), v)
        named = sorted(((v, k) for k, v in found.items() if k is not None), key=lambda t: -t[0])
        named = [(v, k) for v, k in named if k in originals]
        shares = np.maximum([v for v, _ in named], 1.0)
        return {
            "role": "keys",
            "keys": [_plain(originals[k]) for _, k in named],
            "shares": (shares / shares.sum()).tolist() if named else [],
            "nulls": None in found,
            "found": bool(named),
        }

    def _private_encoder(self, table: pd.DataFrame, rng: np.random.Generator) -> None:
        """The encoder's and schema's facts from the private domain, never from the data: a
        number's bounds and nulls; a key column's state fitted again on its released keys (one
        value written as the data writes it for each, weighted by its noisy share)."""
        columns, states = self.schema_.columns, self.encoder_.states
        for i, (col, domain) in enumerate(zip(columns, self.domains_)):
            col.null_rate, col.min, col.max = 0.0, None, None
            kind = KINDS[col.kind]
            if domain["role"] == "keys":
                shown = _as_written(table[col.name], kind.typed(table[col.name], col), domain)
                weights = np.round(np.asarray(domain["shares"]) * 1000).astype(int) + 1
                real = shown.iloc[np.repeat(np.arange(len(weights)), weights)]
                if domain["nulls"]:
                    real = pd.concat([real, shown.iloc[-1:]])
                states[i] = kind.fit(real.reset_index(drop=True), col)
                domain["codes"] = kind.encode(shown, col, states[i], rng)[0].tolist()
            state = states[i]
            state["has_nulls"] = bool(domain["nulls"])
            state.pop("seen", None)  # the real range: not part of the private release
            # the real keys' hashes are read off the data, outside the private release
            if domain["role"] == "made":
                state.pop("taken", None)
                state.pop("taken_bits", None)
            if domain["role"] == "number":
                lo, hi = domain["lo"][0], domain["hi"][-1]
                low = np.floor(lo) + 1 if domain["integer"] else (hi if domain["point"][0] else lo)
                state["min"], state["max"] = float(low), float(hi)

    # ---- sampling --------------------------------------------------------------------------
    def _sample_encoded(self, n: int, rng: np.random.Generator) -> Encoded:
        codes = _sample(self.sampler_, n, rng)
        columns = self.user_encoder_
        arrays: list[np.ndarray] = []
        for i, (state, domain) in enumerate(zip(columns.states, self.domains_)):
            arrays.extend(_parts(state, domain, codes.get(i), n, rng))
        drawn = Encoded.from_parts(columns.parts, arrays, n)
        if self.encoder_ is columns:
            return drawn
        # the drawn rows as the rules' model sees them: decoding then keeps every rule
        rows = columns.decode(drawn, seed=int(rng.integers(2**32)))
        return self.encoder_.encode_rows(rows, rng)

    # ---- state ------------------------------------------------------------------------------
    def privacy(self) -> dict[str, Any]:
        """What the model guarantees and how its budget was spent."""
        found = [c.name for c in self.schema_.columns if c.name not in self.public_]
        share = self.budget_.domain_share if self.budget_.rho_domain > 0 else 0.0
        if not self.public_:
            source = f"private, epsilon share {share:g}"
        elif self.budget_.rho_domain == 0:
            source = "schema"
        else:
            source = f"schema and private, epsilon share {share:g}"
        return {
            "mechanism": self.mechanism,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "domain": source,
            "private_domain_columns": found,
            "budget": self.budget_.to_dict(),
        }

    def describe(self) -> dict[str, Any]:
        return {"differential_privacy": self.privacy()}

    def guarantee(self) -> dict[str, Any]:
        """The report's words for it: "differentially private, epsilon = 1, delta = 1e-6"."""
        facts = self.privacy()
        statement = (
            f"differentially private, epsilon = {_g(self.epsilon)}, delta = {_g(self.delta)}"
        )
        keep = ("mechanism", "epsilon", "delta", "domain")
        return {"statement": statement, **{k: facts[k] for k in keep}}

    def _get_state(self) -> dict[str, Any]:
        kept = {} if self.encoder_ is self.user_encoder_ else {"columns": self.user_encoder_.states}
        return {
            **kept,
            "privacy": self.privacy(),
            "public_columns": sorted(self.public_),
            "domains": self.domains_,
            "modelled": self.modelled_,
            "sampler": [
                {"column": c, "parents": p, "sizes": s, "cdf": cdf}
                for c, p, s, cdf in self.sampler_
            ],
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.budget_ = Budget(**state["privacy"]["budget"])
        self.public_ = {name: None for name in state["public_columns"]}
        self.domains_ = state["domains"]
        self.user_encoder_ = self.encoder_
        if "columns" in state:  # the rules are kept: the columns drawn have their own encoder
            self.user_encoder_ = TableEncoder.from_state(
                self.schema_, {"rare_threshold": self.rare_threshold, "columns": state["columns"]}
            )
            checks.encoder(self.schema_.names, self.user_encoder_.states)
        if len(self.domains_) != len(self.user_encoder_.states):
            raise ValueError("the model's domains disagree with its columns")
        self.modelled_ = [int(i) for i in state["modelled"]]
        self.sampler_ = [
            (
                int(s["column"]),
                [int(p) for p in s["parents"]],
                [int(k) for k in s["sizes"]],
                np.asarray(s["cdf"], dtype=float),
            )  # fmt: skip
            for s in state["sampler"]
        ]
        for column, parents, sizes, cdf in self.sampler_:
            if cdf.shape != (int(np.prod(sizes[:-1])), sizes[-1]) or not np.isfinite(cdf).all():
                raise ValueError(f"the sampler of column {column} does not fit its sizes")
            if column not in self.modelled_ or any(p not in self.modelled_ for p in parents):
                raise ValueError("the sampler names a column the model does not model")


def _role(col) -> str:
    return KINDS[col.kind].private


def _public_keys(public) -> list[Any] | None:
    """A public column's categories, if it lists them."""
    return list(public.categories) if public is not None and public.categories else None


def _as_written(values: pd.Series, typed: pd.Series, domain: dict[str, Any]) -> pd.Series:
    """Each key of the domain as the data writes it (the first value typed as that key; the
    key itself for a public key the data lacks), then a null."""
    first: dict[str, int] = {}
    for row, key in enumerate(_keys(typed)):
        if key is not None:
            first.setdefault(str(key), row)
    pieces = [
        values.iloc[[first[str(k)]]] if str(k) in first else pd.Series([k], dtype=object)
        for k in domain["keys"]
    ]
    pieces.append(pd.Series([None], dtype=object))
    return pd.concat(pieces, ignore_index=True)


def _size(domain: dict[str, Any]) -> int:
    """Codes of a modelled column (opendp adds one more: nulls, or values outside them)."""
    if domain["role"] == "number":
        return int(max(domain["bin_of_cell"])) + 1
    return len(domain["keys"]) + int(domain["nulls"])


def _codes(values, domain: dict[str, Any]) -> np.ndarray:
    """The model's code of each value: float, NaN for opendp's own last cell (a number's
    nulls; a key column's values not among its keys)."""
    if domain["role"] == "number":
        cell = cell_codes(values, np.asarray(domain["hi"]))
        return np.where(cell < 0, np.nan, np.asarray(domain["bin_of_cell"])[cell])
    keys = domain["keys"]
    index = pd.Index([str(k) for k in keys], dtype=object)
    text = pd.Series([None if v is None else str(v) for v in values], dtype=object)
    code = index.get_indexer(text).astype(float)
    code[code < 0] = np.nan
    code[text.isna().to_numpy()] = len(keys) if domain["nulls"] else np.nan
    return code


def _parts(state, domain, code, n, rng) -> list[np.ndarray]:
    """A column's encoded parts from the model's codes."""
    if domain["role"] == "made":
        return [np.zeros(n, dtype=np.int64)] if state["has_nulls"] else []
    if domain["role"] == "number":
        bins = int(max(domain["bin_of_cell"])) + 1
        missing = code >= bins
        if not state["has_nulls"]:  # opendp's null cell of a column found without nulls
            mass = np.bincount(domain["bin_of_cell"], weights=domain["mass"])
            code = np.where(missing, int(np.argmax(mass)), code)
            missing = np.zeros(n, dtype=bool)
        u = rng.random((n, 2))
        x = draw_in_bins(np.minimum(code, bins - 1), domain, domain["integer"], u)
        x[missing] = state["min"]
        return [x, missing.astype(np.int64)] if state["has_nulls"] else [x]
    k = len(domain["keys"])
    table = np.asarray(domain["codes"], dtype=np.int64)  # encoder codes: keys, then null
    # opendp's last cell (values outside the keys): a key drawn by its noisy share
    other = code >= k + int(domain["nulls"])
    if k:
        drawn = rng.choice(k, size=n, p=np.asarray(domain["shares"]) / np.sum(domain["shares"]))
        code = np.where(other, drawn, code)
    elif other.any():
        code = np.where(other, k, code)
    return [table[np.minimum(code, len(table) - 1)]]


class AIM(DPSynthesizer):
    """AIM (McKenna et al. 2022): marginals chosen round by round where the model errs most."""

    name = "aim"
    mechanism = "aim"


class MST(DPSynthesizer):
    """MST (McKenna et al. 2021): the one-way marginals and a maximum spanning tree of pairs."""

    name = "mst"
    mechanism = "mst"


class _Steps:
    """Progress over the domain's queries and the model's estimates (the CLI's bar)."""

    def __init__(self, report, total: int):
        self.report, self.total, self.done = report, total, 0

    def step(self, fraction: float = 1.0) -> None:
        self.done += fraction
        if self.report is not None:
            self.report(min(round(self.done, 2), self.total), self.total, {})


def _warn_hidden(hidden: list[tuple[str, str]], epsilon: float, rows: int) -> None:
    """Say which columns (name, role) the private domain found nothing of, too few rows for
    the noise: a number is drawn over the whole grid, a key column with no value named is null."""
    if not hidden:
        return
    import warnings

    from synthgen.errors import SynthgenWarning

    numbers = [name for name, role in hidden if role == "number"]
    keys = [name for name, role in hidden if role == "keys"]
    parts = [f"no bounds for {', '.join(numbers)} (drawn over the whole grid)"] if numbers else []
    parts += [f"no category of {', '.join(keys)} (all null)"] if keys else []
    warnings.warn(
        f"at epsilon {_g(epsilon)} on {rows:,} rows the noise hid the domain: "
        f"{'; '.join(parts)}. Give these columns' min and max or categories in a --schema "
        "(public, no budget spent), or raise --epsilon",
        SynthgenWarning,
        stacklevel=3,
    )


def _g(x: float) -> str:
    """A budget as people write it: 1, 0.3, 1e-6."""
    return f"{x:g}".replace("e-0", "e-").replace("e+0", "e+")


def _find(queries: dict[str, tuple], budget: Budget, progress: _Steps) -> dict[str, Any]:
    """Each query's release (`_query_of`), the domain's rho split evenly over the columns: a
    histogram's (noisy counts, scale), or the values named (value -> noisy count)."""
    if not queries:
        return {}
    each = budget.rho_domain / len(queries)
    out: dict[str, Any] = {}
    for name, query in queries.items():
        if query[0] == "cells":
            out[name] = noisy_histogram(query[1], query[2], each)
            progress.step()
    named = {name: q[1] for name, q in queries.items() if q[0] == "keys"}
    if named:
        out |= released_keys(named, each * len(named), budget.delta_keys, progress.step)
    return out


def _keys(values: pd.Series) -> list[Any]:
    return values.astype(object).where(values.notna(), None).tolist()


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


# ---- opendp and mbi -----------------------------------------------------------------------------
def _patch_mst_split() -> None:
    """opendp 0.16's MST asks its selection steps for a budget that, summed in floats, is a
    hair over what it gave them ("insufficient budget for query: 0.000785 > 0.000785"): its
    selection is asked for one part in a billion less (it spends a little less, never more)."""
    import opendp.extras.mbi._mst as mst

    if getattr(mst._make_mst_select, "synthgen_patched", False):
        return
    original = mst._make_mst_select

    def select(*args, d_in, d_out, **kwargs):
        return original(*args, d_in=d_in, d_out=d_out * (1 - 1e-9), **kwargs)

    select.synthgen_patched = True
    mst._make_mst_select = select


def _rounds(n_columns: int) -> int:
    """AIM's rounds: one per column (its default, 16 per column, takes hours on a laptop)."""
    return max(2, n_columns)


@contextlib.contextmanager
def _quiet(logger: str):
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _release(mechanism: str, codes: dict[str, np.ndarray], sizes: list[int], rho: float,
             iters: int, progress: _Steps):  # fmt: skip
    """opendp's contingency table of the coded columns (every key public: rho only)."""
    import opendp.prelude as dp
    import polars as pl
    from mbi.estimation import mirror_descent

    dp.enable_features("contrib")
    _patch_mst_split()
    frame = pl.LazyFrame(
        {
            name: pl.Series(np.nan_to_num(c, nan=-1).astype(np.int64)).set(
                pl.Series(np.isnan(c)), None
            )
            for name, c in codes.items()
        }  # fmt: skip
    )
    step = 1.0 / iters

    def estimator(*args, **kwargs):
        kwargs.setdefault("iters", iters)
        kwargs["callback_fn"] = lambda _: progress.step(step)
        return mirror_descent(*args, **kwargs)

    if mechanism == "aim":
        algorithm = dp.mbi.AIM(queries=2, rounds=_rounds(len(codes)), estimator=estimator)
    else:
        algorithm = dp.mbi.MST(estimator=estimator)
    with _quiet("opendp.context"):  # its advice that rho past 0.5 is a weak guarantee
        context = dp.Context.compositor(
            data=frame,
            privacy_unit=dp.unit_of(contributions=1),
            privacy_loss=dp.loss_of(rho=rho),
            split_evenly_over=1,
        )
    keys = {name: list(range(k)) for name, k in zip(codes, sizes)}
    return context.query().contingency_table(keys=keys, algorithm=algorithm).release()


def _sampler(model, index: dict[str, int]) -> list[tuple[int, list[int], list[int], np.ndarray]]:
    """The graphical model as a sequence of conditional tables: each column (by its index in
    the schema, `index`) drawn given the columns before it that share a clique with it, in the order of
    mbi's own sampler (the junction tree's elimination order, reversed)."""
    from mbi import junction_tree, marginal_oracles

    cliques = [set(c) for c in model.cliques]
    tree, elimination = junction_tree.make_junction_tree(model.domain, cliques)
    marginals = marginal_oracles.message_passing_stable(model.potentials.expand(list(tree.nodes)))
    out, used = [], set()
    for col in elimination[::-1]:
        near = set().union(*[c for c in cliques if col in c]) if cliques else set()
        parents = tuple(sorted(used & near, key=index.get))
        used.add(col)
        table = np.asarray(marginals.project(parents + (col,)).datavector(flatten=False), float)
        table = np.maximum(table, 0.0)
        sizes = [model.domain[a] for a in (*parents, col)]
        table = table.reshape(-1, sizes[-1])
        total = table.sum(axis=1, keepdims=True)
        table = np.where(total > 0, table / np.where(total > 0, total, 1), 1.0 / sizes[-1])
        out.append((index[col], [index[p] for p in parents], sizes, np.cumsum(table, axis=1)))
    return out


def _sample(sampler, n: int, rng: np.random.Generator) -> dict[int, np.ndarray]:
    """`n` rows of codes, column by column from the conditional tables."""
    codes: dict[int, np.ndarray] = {}
    for column, parents, sizes, cdf in sampler:
        row = np.zeros(n, dtype=np.int64)
        for p, k in zip(parents, sizes[:-1]):
            row = row * k + codes[p]
        u = rng.random(n)[:, None]
        codes[column] = np.minimum((cdf[row] < u * cdf[row, -1:]).sum(axis=1), sizes[-1] - 1)
    return codes
