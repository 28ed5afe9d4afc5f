"""Choosing a model for a table (`--model auto`): fit each candidate on 80% of the rows, score
its fidelity and privacy on the 20% it never saw and how well a classifier tells its rows from
those it was fitted on, keep the best that passes privacy and keeps the rules, and refit that
one on every row.

The rule (README, `synthgen fit --help`):

1. Split the rows 80/20 at random (the seed); a table over `SELECT_ROWS` rows is first
   subsampled to that many, so the candidates cost the same on any table past it. A table of
   at most `FOLD_ROWS` rows, whose 20% is too few for a steady score, is split `FOLDS` times
   instead (each row held out once) and each score is the mean over the folds (each verdict
   the worst).
2. Fit each candidate (default `CORE`: gaussian-copula, gmm, cart; ctgan or any registered
   model only when named) on the 80% and draw as many rows.
3. Score the draw: the report's detection test against the 80% it was fitted on (C2ST, 2 x
   (1 - AUC) of a boosted classifier telling those rows from as many synthetic ones: 1 =
   indistinguishable), as the field's protocol and the report measure it; the report's
   fidelity score (column shapes and pair trends) against the held-out 20%, their numbers
   binned on the range of the rows fitted on, as the report will bin those; and, with the 20%
   as holdout, the report's privacy verdict (DCR, exact copies, membership and attribute
   inference), which keeps a model that repeats its rows out, and its rules verdict. Detection
   read on the held-out fifth (before session 16) gave the classifier a few dozen to a few
   hundred real rows to learn from: it told little apart, and over 135 real tables the model
   it chose read C2ST 0.941 on average under the field's protocol, against 0.964 now
   (docs/benchmarks.md).
4. Keep the candidates that pass the report's privacy and rules gates (`synthgen report
   --fail-on privacy,rules`: no `fail` verdict; a `warn` passes), or all of them when none
   does; among them those within `FIDELITY_SLACK` of the best fidelity; among those the
   highest mean of C2ST and fidelity. Means within `TIE` of the best are a tie, won by the
   higher fidelity (then by the candidate listed first; by default the registry's order:
   gaussian-copula, gmm, cart). On small tables every candidate's C2ST saturates near 1 and
   the means tie; the fidelity then decides, not the registry's order (over 135 real tables
   the choice moved on 28, the chosen model's quality the same on average: docs/benchmarks.md,
   session 17).

The chosen model is refitted on every row with the same seed (so its file is the one
`synthgen fit --model NAME --seed S` writes, plus the record of the choice: each candidate's
scores, kept as `selection` in the model file and shown by `synthgen inspect`). Fit times are
shown but not kept, so that a seed still gives the same bytes.

Example:
    >>> import synthgen
    >>> from synthgen.choose import fit
    >>> table = synthgen.read_table("sample_data/penguins.csv")
    >>> model = fit(table, seed=0)
    >>> model.name in CORE, model.selection_["chosen"] == model.name
    (True, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthgen.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.models.base import Synthesizer
    from synthgen.schema import Schema
    from synthgen.stream import StreamStats

#: The candidates when none are named: the core models in the registry's order (a tie goes to
#: the first).
CORE = ("gaussian-copula", "gmm", "cart")
#: Rows the candidates see at most (80% to fit, 20% held out), whatever the table's size.
SELECT_ROWS = 25_000
HOLDOUT_SHARE = 0.2
#: A table of at most this many rows is scored over FOLDS splits (each row held out once):
#: detection on a few hundred held-out rows moves by 0.2 from one split to the next.
FOLD_ROWS = 5_000
FOLDS = 5
#: Below this many rows the held-out part is too small to tell models apart: the first
#: candidate is taken unscored.
MIN_ROWS = 50
#: A candidate more than this below the best fidelity is not chosen, whatever its C2ST.
FIDELITY_SLACK = 0.01
#: Means of C2ST and fidelity this close to the best are a tie (the higher fidelity wins).
TIE = 0.005
RULE = (
    "the privacy and rules gates first (no fail verdict); then within "
    f"{FIDELITY_SLACK} of the best fidelity; then the highest mean of C2ST and fidelity "
    f"(within {TIE} a tie, won by the higher fidelity, then the first listed); scored on "
    "held-out rows"
)
#: The verdicts that pass a gate (`synthgen report --fail-on privacy,rules`).
_PASSING = ("pass", "warn")


@dataclass
class Scored:
    """One candidate's scores on the held-out rows (NaN where they could not be computed);
    `error` when it failed to fit or sample, `fit_seconds` its fit's wall time."""

    model: str
    c2st: float = math.nan
    fidelity: float = math.nan
    privacy: str = "not checked"
    rules: str = "not checked"
    fit_seconds: float = math.nan
    error: str | None = None

    @property
    def score(self) -> float:
        """The mean of C2ST and fidelity: what ranks candidates of the same verdicts (fidelity
        alone where C2ST could not be computed: a table of no column it compares)."""
        return self.fidelity if math.isnan(self.c2st) else (self.c2st + self.fidelity) / 2

    @property
    def passes(self) -> bool:
        """Whether the privacy and rules verdicts pass the report's gates (a warn does)."""
        return self.privacy in _PASSING and self.rules in _PASSING

    def record(self) -> dict[str, Any]:
        """The scores as the model file keeps them (rounded; no time, so a seed's bytes hold)."""
        out: dict[str, Any] = {"model": self.model}
        if self.error is not None:
            return {**out, "error": self.error}
        for key in ("c2st", "fidelity", "score"):
            value = getattr(self, key)
            out[key] = None if math.isnan(value) else round(value, 4)
        return {**out, "privacy": self.privacy, "rules": self.rules}


@dataclass
class Choice:
    """The outcome of `select`: the chosen model's name, why, and every candidate's scores."""

    model: str
    why: str
    candidates: list[Scored]
    fit_rows: int
    held_out_rows: int
    folds: int = 1

    def record(self) -> dict[str, Any]:
        """What the model file keeps (`selection`), as JSON values."""
        return {
            "chosen": self.model,
            "why": self.why,
            "rule": RULE,
            "fit_rows": self.fit_rows,
            "held_out_rows": self.held_out_rows,
            "folds": self.folds,
            "candidates": [s.record() for s in self.candidates],
        }


def candidate_names(names: str | Iterable[str] | None) -> tuple[str, ...]:
    """The candidates, checked: a comma-separated string or a list of registered model names
    (each installed), in the order given, each once; `CORE` when None.

    Example:
        >>> candidate_names("cart, gmm,cart")
        ('cart', 'gmm')
    """
    from synthgen.models.registry import model_class

    if names is None:
        return CORE
    if isinstance(names, str):
        names = names.split(",")
    out = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not out:
        raise UsageError("--candidates names no model")
    for name in out:
        if name == "auto":
            raise UsageError("--candidates lists models to choose from; auto is not one")
        model_class(name)  # unknown or not installed: a clear error before any fit
    return out


def _params_for(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The options among `params` that model `name` takes (each candidate keeps its defaults
    for the rest)."""
    import inspect

    from synthgen.models.registry import model_class

    takes = inspect.signature(model_class(name).__init__).parameters
    return {k: v for k, v in params.items() if k in takes or k == "rare_threshold"}


def check_params(names: tuple[str, ...], params: dict[str, Any]) -> None:
    """A UsageError naming the options (`params`) that no candidate in `names` takes."""
    taken = {k for name in names for k in _params_for(name, params)}
    unused = [k for k in params if k not in taken]
    if unused:
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in unused)
        raise UsageError(f"no candidate model ({', '.join(names)}) takes {flags}")


def split(table: pd.DataFrame, seed: int) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """The rows the candidates fit on and the rows they are scored on, per fold: at most
    `SELECT_ROWS` rows of `table`, drawn with `seed`, split 80/20 once, or `FOLDS` times (each
    row held out once) when there are at most `FOLD_ROWS`.

    Example:
        >>> import pandas as pd
        >>> folds = split(pd.DataFrame({"x": range(100)}), seed=0)
        >>> [(len(a), len(b)) for a, b in folds][:2], set(folds[0][0].x) & set(folds[0][1].x)
        ([(80, 20), (80, 20)], set())
    """
    import numpy as np

    order = np.random.default_rng(seed).permutation(len(table))[:SELECT_ROWS]
    if len(order) > FOLD_ROWS:
        held_parts = [order[: int(round(HOLDOUT_SHARE * len(order)))]]
    else:
        held_parts = np.array_split(order, FOLDS)
    return [
        (
            table.iloc[np.sort(np.setdiff1d(order, held))].reset_index(drop=True),
            table.iloc[np.sort(held)].reset_index(drop=True),
        )
        for held in held_parts
    ]


def score(
    name: str,
    params: dict[str, Any],
    folds: list[tuple[pd.DataFrame, pd.DataFrame]],
    schema: Schema,
    seed: int,
) -> Scored:
    """`name` scored on each fold (`split`): the mean C2ST, fidelity and fit time, the worst
    privacy and rules verdicts; the first fold's `error` if it fails on one."""
    import numpy as np

    each = []
    for fit_rows, held_out in folds:
        each.append(_score_one(name, params, fit_rows, held_out, schema, seed))
        if each[-1].error is not None:
            return each[-1]
    worst = ("pass", "warn", "not checked", "fail")
    return Scored(
        name,
        c2st=_mean([s.c2st for s in each]),
        fidelity=float(np.mean([s.fidelity for s in each])),
        privacy=max((s.privacy for s in each), key=worst.index),
        rules=max((s.rules for s in each), key=worst.index),
        fit_seconds=float(np.mean([s.fit_seconds for s in each])),
    )


def _score_one(
    name: str,
    params: dict[str, Any],
    fit_rows: pd.DataFrame,
    held_out: pd.DataFrame,
    schema: Schema,
    seed: int,
) -> Scored:
    """Fit `name` on `fit_rows`, draw as many rows, and score them (see the module's rule);
    a candidate that fails to fit or sample is returned with its `error`."""
    from synthgen.compare.fidelity import Reference, spans
    from synthgen.compare.values import prepare
    from synthgen.models.registry import create
    from synthgen.report import privacy, rules
    from synthgen.report.fidelity import detection
    from synthgen.report.space import Space
    from synthgen.report.utility import one_thread

    out = Scored(name)
    start = time.perf_counter()
    try:
        model = create(name, **_params_for(name, params)).fit(fit_rows, schema, seed=seed)
        out.fit_seconds = time.perf_counter() - start
        synth = model.sample(len(fit_rows), seed=seed)
    except Exception as exc:  # a candidate that cannot model this table leaves the others
        reason = str(exc).strip().splitlines()
        out.error = f"{type(exc).__name__}: {reason[0][:200]}" if reason else type(exc).__name__
        return out
    with one_thread():
        # the held-out rows' numbers binned on the range of the rows fitted on, as the report
        # will bin those (its real rows): a draw that reaches their extremes is not marked down
        # for passing the held-out rows' narrower range
        train = prepare(fit_rows, schema, "real")
        held = Reference(held_out, schema, spans=spans(train))
        synth_like_held = held.prepare(synth)
        out.fidelity = held.summary(synth_like_held)["score"]
        # detection against the rows it fitted, as the field's protocol and the report test
        # (the held-out fifth gave the classifier too few real rows to learn from: see step 3)
        synth_like_train = prepare(synth, schema, like=train)
        out.c2st = detection(train, synth_like_train, seed, repeats=0)["c2st"]
        found = privacy.assess(
            train,
            synth_like_train,
            prepare(held_out, schema, "holdout", like=train),
            Space(train),
            text=privacy.text_cells(fit_rows, synth, schema),
            rare_rows=model.rare_threshold,
            seed=seed,
        )
    out.privacy = found["verdict"]
    out.rules = rules.assess(fit_rows, synth, held_out, schema)["verdict"]
    return out


def _mean(values: list[float]) -> float:
    """The mean of the folds' values that could be computed; NaN where none could."""
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


def _key(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def rank(scored: list[Scored]) -> tuple[str, str]:
    """The chosen candidate's name and why, by the module's rule (`scored` in the order
    given; at least one without an error).

    Example:
        >>> a = Scored("a", c2st=0.50, fidelity=0.95, privacy="pass", rules="pass")
        >>> b = Scored("b", c2st=0.80, fidelity=0.945, privacy="pass", rules="pass")
        >>> c = Scored("c", c2st=0.95, fidelity=0.97, privacy="fail", rules="pass")
        >>> rank([a, b, c])[0]
        'b'
    """
    ok = [s for s in scored if s.error is None]
    pool = [s for s in ok if s.passes] or ok
    best_fidelity = max(_key(s.fidelity) for s in pool)
    close = [s for s in pool if _key(s.fidelity) >= best_fidelity - FIDELITY_SLACK]
    best = max(_key(s.score) for s in close)
    chosen = max((s for s in close if _key(s.score) >= best - TIE), key=lambda s: _key(s.fidelity))
    mean = f"the best mean ({chosen.score:.3f})"
    if _key(chosen.score) < best:
        mean = f"a mean ({chosen.score:.3f}) within {TIE} of the best ({best:.3f})"
    why = [
        f"{chosen.model}: C2ST {chosen.c2st:.3f}, fidelity {chosen.fidelity:.3f}, {mean} "
        "of the candidates that pass the privacy and rules gates"
    ]
    if not chosen.passes:
        why[0] = why[0].replace("that pass", "(none passes)")
    if len(close) < len(pool):
        far = [s.model for s in pool if s not in close]
        why.append(f"{', '.join(far)} more than {FIDELITY_SLACK} below the best fidelity")
    tied = [s for s in close if s is not chosen and _key(s.score) >= best - TIE]
    if tied:
        lower = all(_key(s.fidelity) < _key(chosen.fidelity) for s in tied)
        why.append(
            f"tied within {TIE} with {', '.join(s.model for s in tied)}, "
            + ("of lower fidelity" if lower else "of no higher fidelity, listed later")
        )
    failed = [f"{s.model} (privacy {s.privacy}, rules {s.rules})" for s in ok if s not in pool]
    if failed:
        why.append(f"left out by the gates: {', '.join(failed)}")
    return chosen.model, "; ".join(why)


def select(
    table: pd.DataFrame,
    schema: Schema | None = None,
    *,
    candidates: str | Iterable[str] | None = None,
    seed: int = 0,
    on_candidate: Callable[[str], None] | None = None,
    **params: Any,
) -> Choice:
    """Score every candidate on `table` (see the module's rule) and say which to fit.
    `on_candidate(name)` is called as each one starts; `params` are the models' options, each
    passed to the candidates that take it.

    Example:
        >>> import synthgen
        >>> table = synthgen.read_table("sample_data/penguins.csv")
        >>> choice = select(table, candidates="gaussian-copula,cart", seed=0)
        >>> [s.model for s in choice.candidates], choice.fit_rows, choice.held_out_rows
        (['gaussian-copula', 'cart'], 275, 69)
        >>> choice.folds  # 344 rows: each held out once, in one of 5 folds
        5
    """
    from synthgen.schema import detect

    names = candidate_names(candidates)
    check_params(names, params)
    schema = schema if schema is not None else detect(table)
    if len(table) < MIN_ROWS:
        why = (
            f"{names[0]}: the table has {len(table)} rows, too few to hold some out and tell "
            f"models apart (at least {MIN_ROWS}); the first candidate, unscored"
        )
        return Choice(names[0], why, [Scored(n) for n in names], len(table), 0)
    folds = split(table, seed)
    scored = []
    for name in names:
        if on_candidate is not None:
            on_candidate(name)
        scored.append(score(name, params, folds, schema, seed))
    if all(s.error is not None for s in scored):
        raise UsageError(
            "no candidate model could be fitted: "
            + "; ".join(f"{s.model}: {s.error}" for s in scored)
        )
    chosen, why = rank(scored)
    fit_rows, held_out = folds[0]
    return Choice(chosen, why, scored, len(fit_rows), len(held_out), len(folds))


def fit(
    table: pd.DataFrame,
    schema: Schema | None = None,
    *,
    candidates: str | Iterable[str] | None = None,
    seed: int | None = None,
    stream: StreamStats | None = None,
    on_candidate: Callable[[str], None] | None = None,
    **params: Any,
) -> Synthesizer:
    """`select` a model, then fit it on every row of `table` with the same seed (`stream`: the
    whole file's counts when `table` samples it, as `Synthesizer.fit` takes them). The model
    keeps the choice as `selection_` (a dict: `Choice.record`), saved in its file; the
    candidates' `Scored` rows, fit times included, are on `choice_`.

    Example:
        >>> import synthgen
        >>> table = synthgen.read_table("sample_data/penguins.csv")
        >>> model = fit(table, candidates=["gaussian-copula"], seed=0)
        >>> model.name, model.selection_["candidates"][0]["model"]
        ('gaussian-copula', 'gaussian-copula')
    """
    from synthgen.models.base import new_seed
    from synthgen.models.registry import create
    from synthgen.schema import detect

    seed = new_seed() if seed is None else seed
    schema = schema if schema is not None else detect(table)
    choice = select(
        table, schema, candidates=candidates, seed=seed, on_candidate=on_candidate, **params
    )
    model = create(choice.model, **_params_for(choice.model, params))
    model.fit(table, schema, seed=seed, stream=stream)
    model.selection_ = choice.record()
    model.choice_ = choice
    return model
