"""The `synthgen` command line: a thin layer over the library.

Each command lives in its own module and only parses, calls the library and renders. Any
`SynthgenError` becomes one line on stderr and its exit code (see `synthgen.errors`); Ctrl-C exits
130 and leaves no partial output (every output is written to a temp file and renamed at the end).
"""

from __future__ import annotations

import sys

import typer

from synthgen.cli import commands
from synthgen.cli.common import err_console

app = typer.Typer(
    name="synthgen",
    help=(
        "Synthetic tabular data: fit a model to a real table, sample synthetic rows, and report "
        "how faithful and how private they are.\n\n"
        "Example: synthgen run sample_data/penguins.csv --output-dir out"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
commands.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and exits with) the exit code."""
    from synthgen.errors import SynthgenError

    usage_errors, exits, aborts = _parser_exceptions()

    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="synthgen", standalone_mode=False)
        code = 0
    except SynthgenError as exc:
        from rich.text import Text

        # plain text: a message quoting "[x]" from the user's data must not be read as markup
        err_console().print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        code = exc.exit_code
    except exits as exc:
        code = exc.exit_code
    except usage_errors as exc:
        exc.show()
        code = exc.exit_code
    except aborts:
        err_console().print("interrupted", style="yellow")
        code = 130
    except KeyboardInterrupt:
        err_console().print("interrupted: no output was written", style="yellow")
        code = 130
    except BrokenPipeError:
        code = 0
    sys.exit(code)


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
