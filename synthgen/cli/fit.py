"""`synthgen fit`: learn a model of a table and save it as a model file."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from synthgen.cli.common import (
    DecimalMark,
    Delimiter,
    Encoding,
    Force,
    NaValues,
    Progress,
    Quiet,
    Seed,
    caught_warnings,
    display,
    na_list,
    status,
    warn_lines,
)
from synthgen.fitting import DEFAULT_MAX_ROWS

HELP = "Fit a model to a real table (CSV or Parquet, - for stdin) and save it."
EXAMPLE = "synthgen fit sample_data/penguins.csv -o penguins.synthgen"

Model = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="Model name (see `synthgen models`), or auto: fit each of --candidates on 80% of "
        "the rows (of at most 25,000; 5 times, each row held out once, up to 5,000 rows), score "
        "its fidelity and privacy on the other 20% and its detection C2ST against the 80%, "
        "keep the best and refit it on every row. Best: passing the "
        "report's privacy and rules gates (no fail verdict), then within 0.01 of the best "
        "fidelity, then the highest mean of detection C2ST and fidelity (within 0.005 a tie, "
        "won by the higher fidelity, then the first listed).",
    ),
]
Candidates = Annotated[
    str | None,
    typer.Option(
        "--candidates",
        help="With --model auto: the models to choose from, comma-separated, in order of "
        "preference where two tie on both their mean and their fidelity (default "
        "gaussian-copula,gmm,cart; ctgan is slow and needs torch).",
    ),
]
RareThreshold = Annotated[
    int,
    typer.Option(
        "--rare-threshold",
        help="Categories seen in fewer rows than this are never written verbatim, nor a "
        "number or date beyond what this many rows reach (0 = keep all).",
    ),
]
SchemaFile = Annotated[
    Path | None,
    typer.Option("--schema", help="A schema JSON (from `synthgen schema`, edited) to use."),
]


def _models_taking(option: str) -> dict[str, list[str]]:
    """The registered models that take `option`, grouped by what each one's registration says
    of it (its default, or what the option does there), in registry order."""
    from synthgen.models import REGISTRY

    groups: dict[str, list[str]] = {}
    for info in REGISTRY.values():
        if option in info.options:
            groups.setdefault(info.options[option], []).append(info.name)
    return groups


def model_help(option: str, text: str) -> str:
    """A model option's help: `text`, then the models that take it, from the registry (with
    what each one's registration adds): "Training epochs (ctgan)."."""
    scopes = [
        ", ".join(names) + (f"; {note}" if note else "")
        for note, names in _models_taking(option).items()
    ]
    return f"{text} ({'; '.join(scopes)})."


def _by_help(text: str) -> str:
    """--by's help: `text`, then what the option does for each model that takes it."""
    uses = [f"{what} ({', '.join(names)})" for what, names in _models_taking("by").items()]
    return f"{text}: {', or '.join(uses)}."


Epochs = Annotated[
    int | None, typer.Option("--epochs", help=model_help("epochs", "Training epochs"))
]
BatchSize = Annotated[
    int | None, typer.Option("--batch-size", help=model_help("batch_size", "Batch size"))
]
Device = Annotated[
    str | None, typer.Option("--device", help=model_help("device", "auto, cpu or cuda"))
]
Components = Annotated[
    int | None,
    typer.Option("--components", help=model_help("components", "Mixture components")),
]
EarlyStop = Annotated[
    bool | None,
    typer.Option(
        "--early-stop/--no-early-stop",
        help=model_help("early_stop", "Stop when quality stops improving"),
    ),
]
MinLeaf = Annotated[
    int | None,
    typer.Option("--min-leaf", help=model_help("min_leaf", "Least real rows in a tree leaf")),
]
Smoothing = Annotated[
    float | None,
    typer.Option(
        "--smoothing",
        help=model_help(
            "smoothing",
            "Noise on a number fewer than 5 training rows hold, in half-spans of its 5 "
            "nearest rows' values; 0 = real values only",
        ),
    ),
]
SplitAlpha = Annotated[
    float | None,
    typer.Option(
        "--split-alpha",
        help=model_help(
            "split_alpha",
            "The p-value a tree split must reach to be kept (1 keeps every split)",
        ),
    ),
]
AllowCopies = Annotated[
    bool | None,
    typer.Option(
        "--allow-copies/--no-allow-copies",
        help=model_help("allow_copies", "Keep synthetic rows identical to a training row"),
    ),
]
Order = Annotated[
    str | None,
    typer.Option(
        "--order", help=model_help("order", "Columns to synthesise first, comma-separated")
    ),
]
By = Annotated[
    str | None,
    typer.Option(
        "--by",
        help=_by_help("A categorical column you will condition on (--where, --balance)"),
    ),
]
Epsilon = Annotated[
    float | None,
    typer.Option(
        "--epsilon",
        help=model_help(
            "epsilon", "Differential privacy: the privacy loss allowed (smaller is more private)"
        ),
    ),
]
Delta = Annotated[
    float | None,
    typer.Option(
        "--delta",
        help=model_help("delta", "Differential privacy: the chance the epsilon bound fails"),
    ),
]
DomainShare = Annotated[
    float | None,
    typer.Option(
        "--domain-share",
        help=model_help(
            "domain_share",
            "Share of the privacy budget spent finding bounds, categories and the shape of "
            "numbers (nothing for what --schema gives as public)",
        ),
    ),
]
MaxRows = Annotated[
    int,
    typer.Option(
        "--max-rows",
        help="Fit on a uniform random sample of at most this many rows of a bigger table, read "
        "in one pass with bounded memory (null rates, category frequencies, bounds and the "
        "distributions of columns of few values still come from all rows).",
    ),
]


def default_model_path(data: str) -> str:
    return "model.synthgen" if data == "-" else f"{Path(data).stem}.synthgen"


#: The options `fit` and `run` pass on to the model (a model refuses one it does not take).
MODEL_OPTIONS = (
    "rare_threshold",
    "epochs",
    "batch_size",
    "device",
    "early_stop",
    "components",
    "min_leaf",
    "smoothing",
    "split_alpha",
    "allow_copies",
    "order",
    "by",
    "epsilon",
    "delta",
    "domain_share",
)


def model_params(arguments: dict[str, object]) -> dict[str, object]:
    """The model options among a command's arguments that the user set, so each model keeps
    its own defaults.

    >>> model_params({"epochs": 5, "components": None, "output": "m.synthgen"})
    {'epochs': 5}
    """
    return {k: arguments[k] for k in MODEL_OPTIONS if arguments.get(k) is not None}


def fit_table(
    data: str,
    model: str,
    seed: int | None,
    schema_file: Path | None,
    na_values: list[str] | None,
    encoding: str | None,
    delimiter: str | None,
    params: dict[str, object],
    quiet: bool,
    decimal: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    candidates: str | None = None,
    holdout: float = 0.0,
):
    """Read (streaming, sampling at most `max_rows` rows) and fit with the library
    (`synthgen.fitting`; `synthgen.choose` for auto), showing progress: what `fit` and `run`
    share. `holdout`: the share of the rows read to keep out of the fit (`hold_out`). Returns
    (model, the rows fitted on, the rows held out or None)."""
    from synthgen import choose
    from synthgen.errors import SynthgenWarning, UsageError
    from synthgen.fitting import read_rows
    from synthgen.models import model_class
    from synthgen.models.base import new_seed

    if max_rows < 1:
        raise UsageError("--max-rows must be at least 1")
    if not 0 <= holdout <= MAX_HOLDOUT:
        raise UsageError(f"--holdout must be between 0 and {MAX_HOLDOUT} (got {holdout})")
    if model == "auto":  # unknown candidates or options fail before reading a big file
        names = choose.candidate_names(candidates)
        choose.check_params(names, params)
    elif candidates is not None:
        raise UsageError("--candidates chooses among models for --model auto; drop one of them")
    else:
        cls = model_class(model)  # fail on an unknown model before reading a big file
    seed = new_seed() if seed is None else seed
    with caught_warnings(quiet), Progress(f"reading {display(data)}", total=None, quiet=quiet):
        rows = read_rows(
            data,
            max_rows=max_rows,
            seed=seed,
            schema=schema_file,
            decimal=decimal,
            na_values=na_list(na_values),
            encoding=encoding,
            delimiter=delimiter,
        )
    table = rows.table
    if rows.sampled:
        status(
            f"read {rows.stream.rows:,} rows of {display(data)}: fitting on a uniform random "
            f"sample of {len(table):,} (--max-rows); null rates, category frequencies and the "
            f"distributions of {len(rows.counted)} of {table.shape[1]} columns come from all "
            "rows",
            quiet,
        )
    table, held = hold_out(table, holdout, seed, quiet)
    # the counts of every row read hold the held-out ones: a model given them would learn the
    # rows the report checks privacy against (a sample of a bigger table keeps them: the held-out
    # rows are a small part of what was counted)
    stream = rows.stream if held is None or rows.sampled else None
    if model == "auto":
        return _choose(table, rows, stream, names, seed, params, quiet), table, held
    try:
        synth = cls(**params)
    except TypeError:
        import inspect

        takes = inspect.signature(cls.__init__).parameters
        bad = [k for k in params if k not in takes] or list(params)
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in bad)
        raise UsageError(f"model {model!r} does not take {flags}") from None
    with Progress(f"fitting {model}", total=None, quiet=quiet) as bar:
        if hasattr(synth, "on_epoch"):
            synth.on_epoch = lambda epoch, total, losses: bar.update(
                completed=epoch,
                total=total,
                extra=" ".join(f"{k} {v:.3f}" for k, v in losses.items()),
            )
        public = {}
        if schema_file is not None and getattr(synth, "takes_public_schema", False):
            from synthgen.schema import Schema

            public = {"public_schema": Schema.load(schema_file)}  # a DP model: costs no budget
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SynthgenWarning)
            synth.fit(table, rows.schema, seed=seed, stream=stream, **public)
        elapsed = bar.elapsed
    status(
        f"fitted [bold]{model}[/] on {len(table):,} rows x {table.shape[1]} columns "
        f"of {display(data)} in {elapsed:.1f} s",
        quiet,
    )
    warn_lines(caught, quiet)
    _say_suppressed(synth, quiet)
    _say_copies(synth, quiet)
    return synth, table, held


#: The largest share of rows `--holdout` may keep out of the fit.
MAX_HOLDOUT = 0.5
#: Tables of fewer rows hold none out: a fifth of 100 rows is the 20 rows the report's distance
#: checks need at the least.
HOLDOUT_MIN_ROWS = 100


def hold_out(table, share: float, seed: int, quiet: bool):
    """The rows to fit on and the rows kept out of the fit, a random `share` of them (the same
    for the same seed), against which the report checks privacy; None held out where `share`
    is 0 or the table has fewer than `HOLDOUT_MIN_ROWS` rows."""
    import numpy as np

    if not share:
        return table, None
    if len(table) < HOLDOUT_MIN_ROWS:
        status(
            f"holding out no rows: the table has {len(table):,}, fewer than "
            f"{HOLDOUT_MIN_ROWS}; the report cannot check privacy (--holdout)",
            quiet,
        )
        return table, None
    held = max(1, round(share * len(table)))
    order = np.random.default_rng([seed, 0x401D]).permutation(len(table))
    status(
        f"holding {held:,} of {len(table):,} rows ({held / len(table):.0%}) out of the fit: the "
        "report checks privacy against them (--holdout 0 fits every row)",
        quiet,
    )
    part = lambda rows: table.iloc[np.sort(rows)].reset_index(drop=True)  # noqa: E731
    return part(order[held:]), part(order[:held])


def _choose(table, rows, stream, names: tuple[str, ...], seed: int, params: dict, quiet: bool):
    """`--model auto`: the candidates scored (a table on stderr), the chosen one refitted."""
    from rich.table import Table
    from rich.text import Text

    from synthgen import choose
    from synthgen.cli.common import err_console

    with Progress("choosing a model", total=len(names), quiet=quiet) as bar:
        synth = choose.fit(
            table,
            rows.schema,
            candidates=names,
            seed=seed,
            stream=stream,
            on_candidate=lambda name: bar.update(advance=1, description=f"scoring {name}"),
            **params,
        )
        elapsed = bar.elapsed
    choice = synth.choice_
    if not quiet and choice.held_out_rows:
        shown = Table(
            "model",
            "C2ST",
            "fidelity",
            "privacy",
            "rules",
            "fit s",
            title=f"candidates fitted on {choice.fit_rows:,} rows, scored on "
            f"{choice.held_out_rows:,} held out"
            + (f", {choice.folds} times (each row held out once)" if choice.folds > 1 else ""),
        )
        for s in choice.candidates:
            mark = f"[bold]{s.model}[/] (chosen)" if s.model == choice.model else s.model
            if s.error is not None:  # an exception's text, never read as rich markup
                shown.add_row(s.model, Text(f"failed: {s.error}"), "", "", "", "")
                continue
            cells = (f"{s.c2st:.3f}", f"{s.fidelity:.3f}", s.privacy, s.rules)
            shown.add_row(mark, *cells, f"{s.fit_seconds:.1f}")
        err_console().print(shown)
    status(f"chose {choice.why}", quiet)
    status(
        f"fitted [bold]{synth.name}[/] (auto) on {len(table):,} rows x {table.shape[1]} "
        f"columns in {elapsed:.1f} s, choosing included",
        quiet,
    )
    _say_suppressed(synth, quiet)
    _say_copies(synth, quiet)
    return synth


def _say_copies(synth, quiet: bool) -> None:
    """A note where the copy guard draws again so many rows that the table changes
    (`synthgen.models.copy_guard.SKEWS`), with the option that keeps them."""
    from synthgen.models.copy_guard import SKEWS

    share = synth.copy_share_
    if share is not None and share > SKEWS:
        status(
            f"note: {share:.0%} of the rows {synth.name} draws are written as a training row no "
            "other repeats; each is drawn again, which changes the table (the report's column "
            "shapes show how much). Where rows name no person (a grid of seasons, of "
            "countries' years), --allow-copies keeps them",
            quiet,
        )


def _say_suppressed(synth, quiet: bool) -> None:
    suppressed = synth.encoder_.suppressed()
    if suppressed:
        parts = [
            f"{name} ({v.get('categories', v.get('words'))} rare "
            f"{'categories' if 'categories' in v else 'words'}"
            f"{', made-up words in their place' if v.get('made') else ''})"
            for name, v in suppressed.items()
        ]
        status(f"not written verbatim (rare): {', '.join(parts)}", quiet)


def fit(
    data: Annotated[
        str, typer.Argument(help="The real table: CSV or Parquet path, or - for stdin.")
    ],
    model: Model = "gaussian-copula",
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Model file to write (default: DATA's name with .synthgen, data.csv -> "
            "data.synthgen; model.synthgen when DATA is - for stdin).",
        ),
    ] = None,
    seed: Seed = None,
    schema_file: SchemaFile = None,
    na_values: NaValues = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    decimal: DecimalMark = None,
    rare_threshold: RareThreshold = 5,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    device: Device = None,
    early_stop: EarlyStop = None,
    components: Components = None,
    min_leaf: MinLeaf = None,
    smoothing: Smoothing = None,
    split_alpha: SplitAlpha = None,
    allow_copies: AllowCopies = None,
    order: Order = None,
    by: By = None,
    epsilon: Epsilon = None,
    delta: Delta = None,
    domain_share: DomainShare = None,
    max_rows: MaxRows = DEFAULT_MAX_ROWS,
    candidates: Candidates = None,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    from synthgen.io import check_writable

    output = output or default_model_path(data)
    check_writable(output, force, inputs=[data])  # fail before a long fit, not after
    params = model_params(locals())
    synth, _, _ = fit_table(
        data,
        model,
        seed,
        schema_file,
        na_values,
        encoding,
        delimiter,
        params,
        quiet,
        decimal,
        max_rows,
        candidates,
    )
    synth.save(output, force=force)
    status(f"model written to [bold]{output}[/]", quiet)
