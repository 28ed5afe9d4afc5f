"""What the commands share: consoles, progress bars, and the options for reading tables."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

NaValues = Annotated[
    list[str] | None,
    typer.Option(
        "--na-values",
        help='Extra text that marks a missing value (repeatable, or comma separated), e.g. "?". '
        "Empty cells, NA, N/A, null, NaN, None, ? and . (Stata's and SAS's mark) are missing "
        "by default.",
    ),
]
Encoding = Annotated[
    str | None,
    typer.Option("--encoding", help="Text encoding of a CSV (default utf-8), e.g. latin-1."),
]
Delimiter = Annotated[
    str | None, typer.Option("--delimiter", help="CSV delimiter (default: sniffed from , ; tab |).")
]
DecimalMark = Annotated[
    str | None,
    typer.Option(
        "--decimal",
        help="Decimal mark of numbers written as text: . or , (default: detected per column, "
        '"1,5" reads as 1.5 and "1,234" as 1234; pass , for "1.234,5" style files).',
    ),
]
Force = Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing output file.")]
Seed = Annotated[
    int | None, typer.Option("--seed", help="Random seed; the same seed gives the same output.")
]
TrustPickle = Annotated[
    bool,
    typer.Option(
        "--trust-pickle",
        help="Load a model file that holds a pickle (SDV peer models only). Unpickling can run "
        "code: use it only for files you made yourself.",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield


_ERR: Console | None = None


def err_console() -> Console:
    """Messages and progress go to stderr, so stdout can carry data (`-o -`)."""
    global _ERR
    if _ERR is None:
        _ERR = Console(stderr=True)
    return _ERR


class _Stdout(Console):
    """The console on stdout: when its reader goes away (`synthgen inspect m | head`) it falls
    silent and the command goes on (a report still applies its gates), where rich's own
    exits 1, the code of a failed gate."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        silence_stdout()


def silence_stdout() -> None:
    """Point stdout at /dev/null, so later writes and the interpreter's last flush are quiet."""
    import os
    import sys

    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def out_console() -> Console:
    return _Stdout()


def na_list(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        out.extend(v for v in value.split(",") if v != "") if "," in value else out.append(value)
    return out


def read(
    path: str,
    na_values: list[str] | None,
    encoding: str | None,
    delimiter: str | None,
    quiet: bool = False,
):
    """The table at `path`, what reading it noticed said as `warning:` lines."""
    from synthgen.io import read_table

    with caught_warnings(quiet):
        return read_table(
            str(path), na_values=na_list(na_values), encoding=encoding, delimiter=delimiter
        )


@contextlib.contextmanager
def caught_warnings(quiet: bool) -> Iterator[None]:
    """synthgen's warnings in the block as `warning:` lines when it ends (`warn_lines`)."""
    import warnings

    from synthgen.errors import SynthgenWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SynthgenWarning)
        yield
    warn_lines(caught, quiet)


def display(path: str | Path) -> str:
    return "stdin" if str(path) == "-" else str(path)


class Progress:
    """A rich progress bar on stderr that shows only on a terminal and only past one second."""

    def __init__(self, description: str, total: float | None, unit: str = "", quiet: bool = False):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        console = err_console()
        self.enabled = console.is_terminal and not quiet
        self.started = time.perf_counter()
        self._bar = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[extra]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not self.enabled,
        )
        self._task = self._bar.add_task(description, total=total, extra=unit)
        self._shown = False

    def update(self, advance: float = 0, extra: str | None = None, **fields: Any) -> None:
        if not self.enabled:
            return
        if not self._shown and time.perf_counter() - self.started > 1.0:
            self._bar.start()
            self._shown = True
        kwargs = {"extra": extra} if extra is not None else {}
        self._bar.update(self._task, advance=advance, **kwargs, **fields)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._shown:
            self._bar.stop()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def status(message: str, quiet: bool = False) -> None:
    if not quiet:
        err_console().print(message, highlight=False, soft_wrap=True)


def warn_lines(caught: list, quiet: bool) -> None:
    """Each caught warning (`warnings.catch_warnings(record=True)`) of synthgen's as one
    `warning:` line; another library's as Python would have shown it."""
    import warnings

    from rich.markup import escape

    from synthgen.errors import SynthgenWarning

    for warning in caught:
        if issubclass(warning.category, SynthgenWarning):
            status(f"[yellow]warning:[/] {escape(str(warning.message))}", quiet)
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
