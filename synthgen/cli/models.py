"""`synthgen models`: the models available, and what each needs installed."""

from __future__ import annotations

from synthgen.cli.common import out_console

HELP = "List the models, whether each is installed, and their licences."
EXAMPLE = "synthgen models"


def models() -> None:
    from rich.table import Table

    from synthgen.models import REGISTRY

    table = Table("model", "what it is", "installed", "licence")
    for info in REGISTRY.values():
        ready = "yes" if info.available() else f"no: pip install 'synthgen[{info.extra}]'"
        table.add_row(info.name, info.summary, ready, info.licence)
    out_console().print(table)
