"""Registers every command with the app (one module per command)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from synthgen.cli import fit, inspect, models, report, run, sample, schema

    app.command("fit", help=fit.HELP)(fit.fit)
    app.command("sample", help=sample.HELP)(sample.sample)
    app.command("run", help=run.HELP)(run.run)
    app.command("report", help=report.HELP)(report.report)
    app.command("schema", help=schema.HELP)(schema.schema)
    app.command("inspect", help=inspect.HELP)(inspect.inspect)
    app.command("models", help=models.HELP)(models.models)
