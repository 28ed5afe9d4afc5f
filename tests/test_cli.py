"""The command line end to end, in a subprocess-free runner: exit codes, outputs, examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from synthgen.cli import main
from tests.conftest import SAMPLE_DATA

PENGUINS = str(SAMPLE_DATA / "penguins.csv")
RAW = str(SAMPLE_DATA / "penguins_raw.csv")


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_fit_sample_inspect(tmp_path, capsys):
    model = str(tmp_path / "p.synthgen")
    code, _, err = run_cli(["fit", PENGUINS, "-o", model, "--seed", "1"], capsys)
    assert code == 0, err
    out = str(tmp_path / "out.csv")
    code, _, err = run_cli(["sample", model, "-n", "50", "-o", out, "--seed", "2"], capsys)
    assert code == 0, err
    rows = pd.read_csv(out)
    assert len(rows) == 50
    assert list(rows.columns) == list(pd.read_csv(PENGUINS).columns)
    code, text, _ = run_cli(["inspect", model, "--json"], capsys)
    info = json.loads(text)
    assert code == 0 and info["model"] == "gaussian-copula" and info["training_rows"] == 344


def test_default_rows_is_training_rows(tmp_path, capsys):
    model = str(tmp_path / "p.synthgen")
    run_cli(["fit", PENGUINS, "-o", model, "-q"], capsys)
    code, text, _ = run_cli(["sample", model, "-o", "-", "--seed", "3"], capsys)
    assert code == 0
    assert len(text.strip().splitlines()) == 344 + 1


def test_same_seed_byte_identical_other_seed_differs(tmp_path, capsys):
    model = str(tmp_path / "m.synthgen")
    run_cli(["fit", RAW, "-o", model, "-q", "--seed", "0"], capsys)
    files = []
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        path = tmp_path / f"{name}.csv"
        run_cli(["sample", model, "-n", "500", "-o", str(path), "--seed", seed], capsys)
        files.append(path.read_bytes())
    assert files[0] == files[1]
    assert files[0] != files[2]


def test_dates_written_as_read(tmp_path, capsys):
    model = str(tmp_path / "m.synthgen")
    run_cli(["fit", RAW, "-o", model, "-q"], capsys)
    code, text, _ = run_cli(["sample", model, "-n", "20", "-o", "-", "--seed", "1"], capsys)
    rows = pd.read_csv(__import__("io").StringIO(text), dtype=str)
    assert rows["Date Egg"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["fit", "/no/such/file.csv"], 3, "no such file"),
        (["fit", PENGUINS, "--model", "nope"], 2, "unknown model"),
        (["sample", "/no/such/model.synthgen"], 4, "no such model file"),
        (["sample", PENGUINS], 4, "not a synthgen model file"),
    ],
)
def test_errors_are_one_line_with_exit_code(args, code, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    got, _, err = run_cli(args, capsys)
    assert got == code
    assert words in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_existing_output_not_clobbered(tmp_path, capsys):
    model = tmp_path / "m.synthgen"
    model.write_text("precious")
    code, _, err = run_cli(["fit", PENGUINS, "-o", str(model)], capsys)
    assert code == 5 and "--force" in err
    assert model.read_text() == "precious"
    code, _, _ = run_cli(["fit", PENGUINS, "-o", str(model), "--force", "-q"], capsys)
    assert code == 0 and model.read_bytes()[:2] == b"PK"


def test_stdin_and_stdout(tmp_path):
    model = tmp_path / "m.synthgen"
    data = Path(PENGUINS).read_bytes()
    cmd = [sys.executable, "-m", "synthgen"]
    fit = subprocess.run(
        [*cmd, "fit", "-", "-o", str(model), "-q"], input=data, capture_output=True
    )
    assert fit.returncode == 0, fit.stderr
    sample = subprocess.run(
        [*cmd, "sample", str(model), "-n", "10", "-o", "-", "--seed", "1"], capture_output=True
    )
    assert sample.returncode == 0
    assert len(sample.stdout.decode().strip().splitlines()) == 11


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys\n"
        "from synthgen.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'sklearn', 'sdv', 'scipy', 'pandas', 'opendp', 'jax', "
        "'polars', 'mbi') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "Usage" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "HEAVY=", out.stdout[-300:]


def test_every_help_ends_with_an_example(capsys):
    for command in ["fit", "sample", "run", "schema", "inspect", "models"]:
        code, text, _ = run_cli([command, "--help"], capsys)
        assert code == 0
        assert "Example" in text and "synthgen " in text.split("Example")[-1], command


def test_models_lists_copula(capsys):
    code, text, _ = run_cli(["models"], capsys)
    assert code == 0 and "gaussian-copula" in text


def test_unknown_option_is_usage_error(capsys):
    code, _, err = run_cli(["fit", PENGUINS, "--no-such-option"], capsys)
    assert code == 2
    assert "no-such-option" in err.lower() or "no such option" in err.lower()
    assert "Traceback" not in err
