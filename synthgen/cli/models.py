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
    console = out_console()
    console.print(table)
    console.print(
        "--model auto fits gaussian-copula, gmm and cart (or --candidates) on 80% of the rows, "
        "scores each on the rest and keeps the best (see `synthgen fit --help`)."
    )
