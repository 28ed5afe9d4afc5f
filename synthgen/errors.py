"""Errors a user can cause, each with the exit code the CLI returns for it.

The CLI turns any `SynthgenError` into one line on stderr and `exit_code`; nothing else escapes as a
traceback. Codes (documented in README, "Exit codes"):

| code | meaning |
|------|---------|
| 0    | success |
| 1    | a quality gate failed (`report --fail-under`, `--fail-on`) |
| 2    | bad command-line usage (unknown option, bad value) |
| 3    | bad input data (missing file, empty table, undecodable text, unparsable column) |
| 4    | bad model file (not a synthgen model, corrupt, tampered, newer format; or a fitted model that would not load back, which is not written) |
| 5    | output problem (exists without --force, unwritable path, disk full) |
| 6    | a needed optional dependency is not installed |
| 130  | interrupted (Ctrl-C); no partial output is left behind |
| 143  | stopped by SIGTERM (129: SIGHUP); no partial output is left behind |
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

# Whether errors speak to a command-line user (flags) or to a Python caller (keyword arguments).
_COMMAND_LINE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "synthgen_command_line", default=False
)


def option(flag: str, keyword: str) -> str:
    """How a message names an option in the user's language: the flag on the command line,
    the keyword argument in Python.

    Example:
        >>> f"out.csv exists; pass {option('--force', 'force=True')} to overwrite"
        'out.csv exists; pass force=True to overwrite'
        >>> with command_line():
        ...     option("--force", "force=True")
        '--force'
    """
    return flag if _COMMAND_LINE.get() else keyword


@contextlib.contextmanager
def command_line() -> Iterator[None]:
    """While it lasts, messages name options as flags (the CLI runs each command in it)."""
    token = _COMMAND_LINE.set(True)
    try:
        yield
    finally:
        _COMMAND_LINE.reset(token)


class SynthgenError(Exception):
    """Base class: a problem the user can fix. `str(err)` is the one line shown."""

    exit_code = 3


class InputError(SynthgenError):
    """The input table can't be read or used as it is."""

    exit_code = 3


class SchemaError(InputError):
    """A schema file is invalid or disagrees with the table."""


class UsageError(SynthgenError):
    """A bad option value, caught after parsing (e.g. an unknown model name)."""

    exit_code = 2


class ConditionError(UsageError):
    """A sampling condition (--where, --balance, --from-rows) that can't be parsed or met."""


class ModelFileError(SynthgenError):
    """A model file is not a valid, untampered synthgen model this version can load."""

    exit_code = 4


class OutputError(SynthgenError):
    """The output can't be written where asked."""

    exit_code = 5


class MissingDependencyError(SynthgenError):
    """An optional extra is needed (e.g. `pip install 'synthgen[ctgan]'`)."""

    exit_code = 6


class GateFailed(SynthgenError):
    """A report gate (--fail-under, --fail-on) was not met."""

    exit_code = 1


class SynthgenWarning(UserWarning):
    """Something the user should know, that is not an error (e.g. the model extrapolates)."""
