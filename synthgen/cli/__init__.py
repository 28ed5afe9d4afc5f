"""The `synthgen` command line: a thin layer over the library.

Each command lives in its own module and only parses, calls the library and renders. Any
`SynthgenError` becomes one line on stderr and its exit code (see `synthgen.errors`). Ctrl-C
(SIGINT), SIGTERM and SIGHUP stop the command where it is and exit 128 + the signal's number
(130, 143, 129), leaving no partial output: every output is written to a temp file that is
removed on the way out, and renamed onto its destination only when complete.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from synthgen.cli.common import err_console, silence_stdout


def _print_example(example: str) -> None:
    from rich.text import Text

    from synthgen.cli.common import out_console

    console = out_console()
    console.print(" Example:")
    # never wrapped: the line copies as one command, however narrow the terminal
    console.print(Text(f"   {example}"), soft_wrap=True)
    console.print()


class _Behaviour:
    """A command whose help ends with its example (its epilog) on one line, and for which a
    reader of stdout that goes away (`| head`) is not a failure: the option parser would exit
    1 on it, the code of a failed gate."""

    epilog: str | None

    def format_help(self, ctx: Any, formatter: Any) -> None:
        example, self.epilog = self.epilog, None
        try:
            super().format_help(ctx, formatter)  # type: ignore[misc]
            if example:
                _print_example(example)
        except SystemExit as exc:  # rich's console exits 1 on a closed stdout
            if exc.code != 1:
                raise
            silence_stdout()
        except BrokenPipeError:
            silence_stdout()
        finally:
            self.epilog = example

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except BrokenPipeError:
            silence_stdout()
            return None


class Command(_Behaviour, TyperCommand):
    pass


class Group(_Behaviour, TyperGroup):
    pass


app = typer.Typer(
    name="synthgen",
    help=(
        "Synthetic tabular data: fit a model to a real table, sample synthetic rows, and report "
        "how faithful and how private they are."
    ),
    epilog="synthgen run sample_data/penguins.csv --output-dir out",
    cls=Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _add_commands(app: typer.Typer) -> None:
    """One module per command, each with its function, its HELP and its EXAMPLE (the help's
    last line)."""
    from synthgen.cli import fit, inspect, models, report, run, sample, schema

    for name, module in (
        ("fit", fit),
        ("sample", sample),
        ("run", run),
        ("report", report),
        ("schema", schema),
        ("inspect", inspect),
        ("models", models),
    ):
        command = getattr(module, name)
        app.command(name, help=module.HELP, epilog=module.EXAMPLE, cls=Command)(command)


_add_commands(app)


class Stopped(BaseException):
    """A stop signal, raised wherever the command is. Not a KeyboardInterrupt, which the option
    parser would swallow (typer turns it into a return value); a BaseException, so that only the
    cleanups (`finally`, `except BaseException`) on the way out see it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


# the signal that stopped the command: a `Stopped` raised inside a lock's release (a thread
# pool's) surfaces as the lock's RuntimeError instead, and is still a stop
_stopped_by: list[int] = []


def _stop(signum: int, frame: Any) -> None:
    _stopped_by.append(signum)
    if _in_native_callback(frame):
        # Python prints and drops an exception raised in a callback from native code, which
        # then ran on and aborted (`free(): invalid pointer`, after a traceback: mst on a wide
        # table stopped by `timeout`). The command ends here: such a callback runs inside a
        # model's fit, before any output is opened.
        name = signal.Signals(signum).name
        err_console().print(
            f"interrupted ({name}): no partial output was left behind", style="yellow"
        )
        sys.stderr.flush()
        import os

        os._exit(128 + signum)
    raise Stopped(signum)


def _in_native_callback(frame: Any) -> bool:
    """Whether `frame` runs inside a callback opendp's native code made (its MST's scoring)."""
    while frame is not None:
        if frame.f_code.co_name == "_invoke_py_callback" and str(
            frame.f_globals.get("__name__", "")
        ).startswith("opendp"):
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def _stop_signals() -> Iterator[None]:
    """While a command runs, SIGINT, SIGTERM and SIGHUP raise `Stopped` (the default SIGTERM
    would end the process at once, leaving its temp files behind)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    signums = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {s: signal.signal(s, _stop) for s in signums}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and exits with) the exit code."""
    from synthgen.errors import SynthgenError, command_line

    usage_errors, exits, aborts = _parser_exceptions()

    command = typer.main.get_command(app)
    _stopped_by.clear()
    try:
        with _stop_signals(), command_line():
            result = command.main(args=argv, prog_name="synthgen", standalone_mode=False)
        # typer returns (rather than raises) the code of an exit it caught: 130 for a
        # KeyboardInterrupt raised by code rather than by a signal
        code = result if isinstance(result, int) else 0
        if code == 130:
            err_console().print("interrupted: no partial output was left behind", style="yellow")
    except SynthgenError as exc:
        _error(str(exc))
        code = exc.exit_code
    except exits as exc:
        code = exc.exit_code
    except usage_errors as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # plain `synthgen`: the help, as asked
            exc.show()
        else:  # one line, as for every other refusal
            ctx = getattr(exc, "ctx", None)
            see = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            _error(" ".join(exc.format_message().split()) + see)
        code = exc.exit_code
    except aborts:
        err_console().print("interrupted", style="yellow")
        code = 130
    except (KeyboardInterrupt, Stopped) as exc:
        name = signal.Signals(exc.signum).name if isinstance(exc, Stopped) else "SIGINT"
        err_console().print(
            f"interrupted ({name}): no partial output was left behind", style="yellow"
        )
        code = 128 + (exc.signum if isinstance(exc, Stopped) else signal.SIGINT)
    except BrokenPipeError:  # the reader of stdout went away (`| head`): not a failure
        silence_stdout()
        code = 0
    except Exception:
        if not _stopped_by:
            raise
        name = signal.Signals(_stopped_by[0]).name
        err_console().print(
            f"interrupted ({name}): no partial output was left behind", style="yellow"
        )
        code = 128 + _stopped_by[0]
    sys.exit(code)


def _error(message: str) -> None:
    from rich.text import Text

    # plain text: a message quoting "[x]" from the user's data must not be read as markup
    err_console().print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)


def _parser_exceptions() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """The option parser's exception classes: typer vendors click from 0.29 on, before that it
    uses click itself."""
    usage, exits, aborts = [], [typer.Exit], [typer.Abort]
    try:
        from typer._click import exceptions as vendored

        usage.append(vendored.ClickException)
    except ImportError:
        pass
    try:
        import click

        usage.append(click.ClickException)
        exits.append(click.exceptions.Exit)
        aborts.append(click.exceptions.Abort)
    except ImportError:
        pass
    return tuple(usage), tuple(exits), tuple(aborts)
