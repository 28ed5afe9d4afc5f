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
    import click

    from synthgen.errors import SynthgenError

    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="synthgen", standalone_mode=False)
        code = 0
    except SynthgenError as exc:
        from rich.text import Text

        # plain text: a message quoting "[x]" from the user's data must not be read as markup
        err_console().print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        code = exc.exit_code
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.exceptions.Abort:
        err_console().print("interrupted", style="yellow")
        code = 130
    except KeyboardInterrupt:
        err_console().print("interrupted: no output was written", style="yellow")
        code = 130
    except BrokenPipeError:
        code = 0
    sys.exit(code)
