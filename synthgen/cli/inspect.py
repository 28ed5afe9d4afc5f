"""`synthgen inspect`: what a model file holds, without sampling from it."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from synthgen.cli.common import example, out_console

HELP = "Show what a model file holds: model, schema, training rows, versions." + example(
    "synthgen inspect penguins.synthgen"
)


def summary(path: str) -> dict:
    """The facts `inspect` shows, as a plain dict (also its --json output)."""
    import synthgen
    from synthgen.modelfile import read_state

    state = read_state(path)
    model = synthgen.load(path)
    return {
        "file": path,
        "format_version": state["format_version"],
        "synthgen_version": state["synthgen_version"],
        "model": state["model"],
        "params": state["params"],
        "seed": state["seed"],
        "training_rows": state["training_rows"],
        "columns": [
            {"name": c.name, "kind": c.kind, "null_rate": c.null_rate}
            for c in model.schema_.columns
        ],
        "suppressed_rare": model.encoder_.suppressed(),
        "details": model.describe(),
    }


def inspect(
    model_file: Annotated[str, typer.Argument(help="A model file written by `synthgen fit`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    from rich.table import Table

    info = summary(model_file)
    console = out_console()
    if as_json:
        console.print_json(json.dumps(info, default=str))
        return
    console.print(
        f"[bold]{info['model']}[/] model, trained on {info['training_rows']:,} rows "
        f"(seed {info['seed']}); synthgen {info['synthgen_version']}, "
        f"file format {info['format_version']}"
    )
    console.print(f"parameters: {info['params']}")
    table = Table("column", "kind", "null rate", "rare values suppressed")
    for col in info["columns"]:
        rare = info["suppressed_rare"].get(col["name"], {})
        table.add_row(
            col["name"],
            col["kind"],
            f"{col['null_rate']:.1%}",
            ", ".join(f"{v} {k}" for k, v in rare.items()) or "",
        )
    console.print(table)
    if info["details"]:
        console.print("[bold]model details[/]")
        console.print_json(json.dumps(info["details"], default=str))
