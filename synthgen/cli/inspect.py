"""`synthgen inspect`: what a model file holds, without sampling from it."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from synthgen.cli.common import TrustPickle, out_console

HELP = (
    "Show what a model file holds: model, schema, training (and source) rows, versions, and "
    "how --model auto chose it."
)
EXAMPLE = "synthgen inspect penguins.synthgen"


def summary(path: str, trust_pickle: bool = False) -> dict:
    """The facts `inspect` shows, as a plain dict (also its --json output). Everything but the
    model's own details comes from the manifest, so a pickled peer model is described without
    unpickling it."""
    from synthgen.modelfile import consistent, load, read_state
    from synthgen.rules.keep import encoder_from_state, rules_summary
    from synthgen.schema import Schema

    state = read_state(path)
    with consistent(path, state):  # as `load` reads a model's state
        schema = Schema.from_dict(state["schema"])
        encoder = encoder_from_state(schema, state["encoder"])
    name = state["model"]
    if state.get("requires_pickle") and not trust_pickle:
        details = {"note": "an SDV model stored as a pickle; pass --trust-pickle to describe it"}
    else:
        model = load(path, trust_pickle=trust_pickle)
        details, name = model.describe(), model.name
        if model.guards_copies:  # `synthgen.models.copy_guard`
            guard = model.copy_guard_
            details["copies"] = (
                "kept (--allow-copies)"
                if model.allow_copies
                else "kept (a file from before the copy guard)"
                if guard is None
                else "drawn again, unless of a row other training rows repeat"
                if len(guard.unique)
                else "none in 10,000 rows drawn at fit: not guarded"
            )
    fitted = state.get("fitted")
    return {
        "file": path,
        "format_version": state["format_version"],
        "synthgen_version": state["synthgen_version"],
        # the model that loads it: a file of synthgen 0.1's gmm is a gmm-gaussian now
        "model": name,
        "saved_as": state["model"],
        "params": state["params"],
        "seed": state["seed"],
        "training_rows": state["training_rows"],
        "source_rows": state.get("source_rows", state["training_rows"]),
        "whole_table_marginals": state.get("whole_table_marginals", False),
        # a DP model's guarantee (mechanism, epsilon, delta, the domain's source); else null
        "differential_privacy": fitted.get("privacy") if isinstance(fitted, dict) else None,
        "columns": [
            {"name": c.name, "kind": c.kind, "null_rate": c.null_rate} for c in schema.columns
        ],
        "suppressed_rare": encoder.suppressed(),
        "rules": rules_summary(encoder),
        "details": details,
        "selection": state.get("selection"),
    }


def inspect(
    model_file: Annotated[str, typer.Argument(help="A model file written by `synthgen fit`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    trust_pickle: TrustPickle = False,
) -> None:
    from rich.table import Table

    info = summary(model_file, trust_pickle)
    console = out_console()
    if as_json:
        console.print_json(json.dumps(info, default=str))
        return
    rows = f"{info['training_rows']:,} rows"
    if info["source_rows"] > info["training_rows"]:
        exact = ", marginals of columns of few values" if info["whole_table_marginals"] else ""
        rows = (
            f"a uniform sample of {rows} of {info['source_rows']:,} (null rates, category "
            f"frequencies{exact} from all rows)"
        )
    saved = f" (saved as {info['saved_as']})" if info["saved_as"] != info["model"] else ""
    console.print(
        f"[bold]{info['model']}[/] model{saved}, trained on {rows} "
        f"(seed {info['seed']}); synthgen {info['synthgen_version']}, "
        f"file format {info['format_version']}"
    )
    console.print(f"parameters: {info['params']}")
    if info["selection"]:
        _show_selection(info["selection"], console)
    dp = info["differential_privacy"]
    if dp:
        console.print(
            f"differentially private ({dp['mechanism']}): epsilon = {dp['epsilon']:g}, "
            f"delta = {dp['delta']:g}; domain: {dp['domain']}"
        )
    table = Table("column", "kind", "null rate", "rare values suppressed")
    for col in info["columns"]:
        rare = info["suppressed_rare"].get(col["name"], {})
        table.add_row(
            col["name"],
            col["kind"],
            f"{col['null_rate']:.1%}",
            ", ".join(f"{v} {k}" for k, v in rare.items() if k != "made")
            + (", made-up words in their place" if rare.get("made") else ""),
        )
    console.print(table)
    for text in info["rules"]["kept"]:
        console.print(f"rule kept: {text}")
    for entry in info["rules"]["not_kept"]:
        console.print(f"rule not kept: {entry['rule']} ({entry['why']})")
    if info["details"]:
        console.print("[bold]model details[/]")
        console.print_json(json.dumps(info["details"], default=str))


def _show_selection(selection: dict, console) -> None:
    """How `--model auto` chose the model: why, and each candidate's scores."""
    from rich.table import Table
    from rich.text import Text

    console.print(f"chosen by --model auto: {selection.get('why', '')}", markup=False)
    table = Table("candidate", "C2ST", "fidelity", "privacy", "rules")
    for c in selection.get("candidates", []):
        # the file's text, shown as text (never read as rich markup)
        if "error" in c:
            table.add_row(Text(c["model"]), Text(f"failed: {c['error']}"), "", "", "")
            continue
        scores = [_figure(c.get(k)) for k in ("c2st", "fidelity")]
        verdicts = [Text(str(c.get(k, ""))) for k in ("privacy", "rules")]
        table.add_row(Text(c["model"]), *scores, *verdicts)
    console.print(table)


def _figure(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else ""
