"""The promises README makes to a pipeline, kept by every command and every model, checked from
outside as a user's command sees them (`python -m synthgen ...` in a subprocess): exit codes with
fixed meanings, nothing left behind by a refused or interrupted command, `--force`, the same
bytes for a seed, refusals that name the thing and the fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def synthgen_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        **extra,
    }


def synthgen_cli(
    args: list[str], cwd: Path, *, stdin: bytes | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`python -m synthgen ARGS` run in `cwd`; stdout as bytes, stderr as text."""
    done = subprocess.run(
        [sys.executable, "-m", "synthgen", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=synthgen_env(),
        timeout=timeout,
    )
    done.stderr = done.stderr.decode("utf-8", "replace")
    return done
