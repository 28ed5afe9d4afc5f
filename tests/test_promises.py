"""The promises README makes to a pipeline, kept by every command and every model, checked from
outside as a user's command sees them (`python -m synthgen ...` in a subprocess): exit codes with
fixed meanings (a closed pipe and the stop signals included), nothing left behind by a refused or
interrupted command, `--force`, the same bytes for a seed, refusals that name the thing and the
fix. Commands run several at a time: most of their time is the interpreter starting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.models import REGISTRY
from tests.conftest import SAMPLE_DATA

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


def synthgen_all(commands: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess]:
    """Several commands at once (each its own process), in the order given."""
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda args: synthgen_cli(args, cwd), commands))


def one_line(done: subprocess.CompletedProcess) -> str:
    """The refusal: one line on stderr, no traceback."""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root (hidden temp files included), with the bytes of files."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


# ---- the table and the models ---------------------------------------------------------------

MODELS = [
    pytest.param(
        name,
        marks=[
            pytest.mark.skipif(not REGISTRY[name].available(), reason="extra missing"),
            *([pytest.mark.torch] if REGISTRY[name].extra == "ctgan" else []),
            *([pytest.mark.sdv] if REGISTRY[name].extra == "sdv" else []),
        ],
    )
    for name in ("gaussian-copula", "gmm", "gmm-gaussian", "cart", "ctgan", "sdv-gaussian-copula")
] + ["auto"]  # --model auto: the core models scored, the best refitted (synthgen.choose)
# Command-line settings that fit each model in about a second on the table below.
FIT_FLAGS = {
    "gmm": ["--components", "3"],
    "gmm-gaussian": ["--components", "3"],
    "ctgan": ["--epochs", "1", "--batch-size", "50", "--no-early-stop"],
    "auto": ["--candidates", "gaussian-copula,cart"],  # 5 folds each: two of the three suffice
}
TRUST = {"sdv-gaussian-copula": ["--trust-pickle"]}


def extra(model: str) -> str | None:
    """The extra a model needs (None for auto, which chooses among the core models)."""
    return REGISTRY[model].extra if model in REGISTRY else None


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A folder holding train.csv and holdout.csv (penguins, split at random)."""
    root = tmp_path_factory.mktemp("promises")
    rows = pd.read_csv(SAMPLE_DATA / "penguins.csv", dtype=str, keep_default_na=False)
    rows = rows.sample(frac=1.0, random_state=0)
    rows.iloc[:260].to_csv(root / "train.csv", index=False)
    rows.iloc[260:].to_csv(root / "holdout.csv", index=False)
    return root


def fit_args(model: str, output: str, data: str = "train.csv") -> list[str]:
    return ["fit", data, "-m", model, "-o", output, "--seed", "0", "-q", *FIT_FLAGS.get(model, [])]


def cli(args: list[str], cwd: Path) -> int:
    """The command line in this process (the same `main` a subprocess runs, without an
    interpreter's start per command: the battery over every model runs this way)."""
    from synthgen.cli import main

    here = os.getcwd()
    os.chdir(cwd)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(args)
    finally:
        os.chdir(here)
    return exit_info.value.code


@pytest.fixture(scope="module")
def fitted(work) -> dict[str, Path]:
    """Each available model fitted with seed 0 (NAME.synthgen); the copula by a subprocess."""
    done = synthgen_cli(fit_args("gaussian-copula", "gaussian-copula.synthgen"), work)
    assert done.returncode == 0, done.stderr
    out = {"gaussian-copula": work / "gaussian-copula.synthgen"}
    for name in ("gmm", "gmm-gaussian", "cart", "ctgan", "sdv-gaussian-copula", "auto"):
        if name not in REGISTRY or REGISTRY[name].available():
            assert cli(fit_args(name, f"{name}.synthgen"), work) == 0
            out[name] = work / f"{name}.synthgen"
    return out


# ---- every model: the same bytes for a seed, every command ------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_two_fits_with_a_seed_give_the_same_model_file(model, fitted, work):
    if extra(model) == "sdv":
        pytest.skip("an SDV peer's file is SDV's own pickle, which holds its creation time")
    assert cli(fit_args(model, f"{model}.again.synthgen"), work) == 0
    assert fitted[model].read_bytes() == (work / f"{model}.again.synthgen").read_bytes()


@pytest.mark.parametrize("model", MODELS)
def test_a_seed_gives_the_same_bytes_whatever_the_chunks_or_threads(model, fitted, work):
    out = work / f"bytes-{model}"
    out.mkdir()
    base = ["sample", str(fitted[model]), "-n", "21000", "--seed", "3", "-q"]
    for fmt in ("csv", "parquet"):
        for chunk, threads in ((7_000, 1), (30_000, 3)):
            dest = str(out / f"{chunk}-{threads}.{fmt}")
            flags = ["--chunk-rows", str(chunk), "--threads", str(threads)]
            assert cli([*base, "-o", dest, *flags, *TRUST.get(model, [])], work) == 0
        first, second = (out / f"7000-1.{fmt}").read_bytes(), (out / f"30000-3.{fmt}").read_bytes()
        assert first == second, fmt


@pytest.mark.torch
@pytest.mark.skipif(
    not REGISTRY["ctgan"].available() or len(getattr(os, "sched_getaffinity", set)(0)) < 2,
    reason="needs torch, and a process that may run on two cores or more",
)
def test_a_ctgan_fit_writes_the_same_file_on_one_core_as_on_all(fitted, work):
    """ctgan trains on one torch thread whatever the machine, so a fit confined to one core
    writes the file of a fit that may use every core (torch's kernels round by thread count)."""
    one = min(os.sched_getaffinity(0))
    done = subprocess.run(
        [sys.executable, "-m", "synthgen", *fit_args("ctgan", "ctgan.one-core.synthgen")],
        cwd=work,
        env=synthgen_env(),
        capture_output=True,
        timeout=300,
        preexec_fn=lambda: os.sched_setaffinity(0, {one}),
    )
    assert done.returncode == 0, done.stderr
    assert (work / "ctgan.one-core.synthgen").read_bytes() == fitted["ctgan"].read_bytes()


def test_a_seed_gives_the_same_bytes_from_separate_commands(fitted, work):
    """The same, seen from outside: two processes, other chunks and threads, one file."""
    out = work / "bytes-processes"
    out.mkdir()
    base = ["sample", str(fitted["gaussian-copula"]), "-n", "21000", "--seed", "3", "-q"]
    runs = synthgen_all(
        [
            [*base, "-o", str(out / "a.parquet"), "--chunk-rows", "7000", "--threads", "1"],
            [*base, "-o", str(out / "b.parquet"), "--chunk-rows", "30000", "--threads", "3"],
            ["fit", "train.csv", "-o", str(out / "again.synthgen"), "--seed", "0", "-q"],
        ],
        work,
    )
    assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr for r in runs]
    assert (out / "a.parquet").read_bytes() == (out / "b.parquet").read_bytes()
    assert (out / "again.synthgen").read_bytes() == fitted["gaussian-copula"].read_bytes()


@pytest.fixture(scope="module")
def scheduler():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize("model", MODELS)
def test_the_dask_engine_writes_the_local_engine_s_files(model, fitted, work, scheduler):
    base = ["sample", str(fitted[model]), "-n", "21000", "--seed", "4", "--partitions", "3"]
    base += ["-q", *TRUST.get(model, [])]
    local, dask = work / f"local-{model}", work / f"dask-{model}"
    assert cli([*base, "-o", f"{local}/"], work) == 0
    assert cli([*base, "-o", f"{dask}/", "--engine", "dask", "--scheduler", scheduler], work) == 0
    assert tree(local) == tree(dask) and len(tree(local)) == 3


@pytest.mark.parametrize("model", MODELS)
def test_every_command_runs_with_every_model(model, fitted, work, capsys):
    trust = TRUST.get(model, [])
    out = work / f"run-{model}"
    path = str(fitted[model])
    run = ["run", "train.csv", "-m", model, "-d", str(out), "--seed", "0", "-n", "200", "-q"]
    assert cli([*run, *FIT_FLAGS.get(model, [])], work) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "model.synthgen",
        "report.html",
        "report.json",
        "synthetic.csv",
    ]
    capsys.readouterr()
    assert cli(["inspect", path, "--json", *trust], work) == 0
    info = json.loads(capsys.readouterr().out)
    assert model in (info["model"], info["selection"] and "auto")
    where = ["sample", path, "-n", "50", "--seed", "1", "-o", "-", "-w", "species=Gentoo"]
    if extra(model) == "sdv":  # SDV's models sample no condition: a clear refusal
        assert cli([*where, *trust], work) == 2
        assert "can't sample conditionally" in capsys.readouterr().err
    else:
        assert cli([*where, *trust], work) == 0
        gentoo = capsys.readouterr().out.splitlines()
        assert len(gentoo) == 51 and all(line.startswith("Gentoo,") for line in gentoo[1:])
    synthetic = str(out / "synthetic.csv")
    report = ["report", "train.csv", synthetic, "--model", path, "--holdout", "holdout.csv"]
    assert cli([*report, "--json", "-", "-q", *trust], work) == 0
    assert json.loads(capsys.readouterr().out)["privacy"]["verdict"] in ("pass", "warn", "fail")


def _ship(folder: Path) -> None:
    """ship.csv, where a deck is known only for first-class rows, and partial.csv: twenty
    third-class rows asking for a deck, and a row given as its file writes it; unruled.json, its
    schema with the rules taken out (with them, "deck is missing exactly when klass is one of
    third, second" decides that a third-class deck stays empty)."""
    rng = np.random.default_rng(0)
    klass = rng.choice(["first", "second", "third"], 300)
    deck = np.where(klass == "first", rng.choice(list("ABC"), 300), "")
    fare = rng.gamma(2, 20, 300).round(2)
    ship = pd.DataFrame({"klass": klass, "deck": deck, "fare": fare})
    ship.to_csv(folder / "ship.csv", index=False)
    (folder / "partial.csv").write_text("klass,deck,fare\n" + "third,,\n" * 20 + ",B,12.50\n")
    schema = synthgen.detect(synthgen.read_table(str(folder / "ship.csv")))
    assert any(r.kind == "missing_when" for r in schema.rules)
    schema.rules = []
    (folder / "unruled.json").write_text(schema.to_json())


def _filled(text: str, rules: bool) -> None:
    rows = text.splitlines()
    assert rows[0] == "klass,deck,fare" and len(rows) == 22
    decks = ("",) if rules else ("A", "B", "C")  # with the rules, the rule decides: no deck
    assert all(r.startswith("third,") and r.split(",")[1] in decks for r in rows[1:21])
    assert all(r.split(",")[2] for r in rows[1:21])  # the fare is filled
    assert rows[21].split(",")[1:] == ["B", "12.50"]  # given cells as the file wrote them


@pytest.mark.parametrize("rules", [True, False], ids=["rules", "no-rules"])
@pytest.mark.parametrize("model", MODELS)
def test_filling_a_row_the_model_never_saw_fills_it(model, rules, tmp_path, capsys):
    """A third-class row asks for a deck, which no third-class row has (the cart model broke
    the condition here: a traceback). With the table's rules the rule keeps the deck empty;
    without them the model fills one in."""
    if extra(model) == "sdv":
        pytest.skip("SDV's models sample no condition (refused, exit 2: see above)")
    _ship(tmp_path)
    schema = [] if rules else ["--schema", "unruled.json"]
    assert cli([*fit_args(model, "ship.synthgen", "ship.csv"), *schema], tmp_path) == 0
    capsys.readouterr()
    fill = ["sample", "ship.synthgen", "--from-rows", "partial.csv", "-o", "-", "--seed", "1"]
    assert cli(fill, tmp_path) == 0
    _filled(capsys.readouterr().out, rules)


def test_filling_from_a_command_keeps_given_text_and_fills_every_empty_cell(tmp_path):
    _ship(tmp_path)
    fit = synthgen_cli(fit_args("cart", "ship.synthgen", "ship.csv"), tmp_path)
    assert fit.returncode == 0, fit.stderr
    fill = ["sample", "ship.synthgen", "--from-rows", "partial.csv", "-o", "-", "--seed", "1"]
    done = synthgen_cli(fill, tmp_path)
    assert done.returncode == 0, done.stderr
    _filled(done.stdout.decode(), rules=True)


# ---- exit codes -------------------------------------------------------------------------------


def test_each_exit_code_means_what_readme_says(fitted, work):
    model = str(fitted["gaussian-copula"])
    (work / "taken.csv").write_text("x\n")
    synth = work / "synth.csv"
    done = synthgen_cli(["sample", model, "-n", "200", "--seed", "1", "-o", str(synth)], work)
    assert done.returncode == 0, done.stderr
    cases = [
        (["models"], 0, ""),
        (["fit", "train.csv", "--model", "nope"], 2, "unknown model"),
        (["sample", model, "--no-such-flag"], 2, "No such option: --no-such-flag"),
        (["sample", model, "-n", "many"], 2, "'--rows' / '-n'"),
        (["fit", "missing.csv"], 3, "no such file"),
        (["sample", "train.csv"], 4, "not a synthgen model file"),
        (["sample", model, "-n", "5", "-o", "taken.csv"], 5, "pass --force"),
        (["report", "train.csv", str(synth), "--fail-under", "0.999", "-q"], 1, "--fail-under"),
        (["report", "train.csv", str(synth), "--fail-on", "privacy", "-q"], 1, "--holdout"),
        (
            [
                "report",
                "train.csv",
                str(synth),
                "--holdout",
                "holdout.csv",
                "--fail-on",
                "privacy,collapse",
                "-q",
            ],
            0,
            "",
        ),
    ]
    for (args, code, words), done in zip(cases, synthgen_all([c[0] for c in cases], work)):
        assert done.returncode == code, (args, done.stderr)
        if words:
            assert words in one_line(done), args


def _without(modules: list[str], args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """A synthgen command in an interpreter where `modules` cannot be imported."""
    code = (
        "import sys\n"
        f"for name in {modules!r}:\n    sys.modules[name] = None\n"
        "from synthgen.cli import main\n"
        f"main({args!r})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=synthgen_env()
    )
    return done


@pytest.mark.parametrize(
    "extra, modules, args",
    [
        ("ctgan", ["torch"], ["fit", "train.csv", "-m", "ctgan", "-o", "c.synthgen"]),
        ("sdv", ["sdv"], ["fit", "train.csv", "-m", "sdv-gaussian-copula", "-o", "s.synthgen"]),
        (
            "dask",
            ["dask", "distributed"],
            ["sample", "M", "-n", "10", "-o", "ds/", "--engine", "dask"],
        ),
    ],
)
def test_a_missing_extra_is_exit_code_6_naming_the_install(extra, modules, args, fitted, work):
    args = [str(fitted["gaussian-copula"]) if a == "M" else a for a in args]
    before = tree(work)
    done = _without(modules, args, work)
    assert done.returncode == 6, done.stderr
    assert f"pip install 'synthgen[{extra}]'" in one_line(done)
    assert tree(work) == before


@pytest.mark.skipif(not REGISTRY["ctgan"].available(), reason="needs torch to fit the file")
def test_a_model_file_whose_extra_is_missing_is_exit_code_6(fitted, work):
    done = _without(["torch"], ["sample", str(fitted["ctgan"]), "-n", "5", "-o", "-"], work)
    assert done.returncode == 6 and "pip install 'synthgen[ctgan]'" in one_line(done)


@pytest.mark.parametrize(
    "args, code",
    [
        (["sample", "MODEL", "-n", "300000", "-o", "-", "--seed", "1"], 0),
        (["report", "train.csv", "holdout.csv"], 0),
        (["report", "train.csv", "holdout.csv", "--fail-under", "0.999"], 1),  # the gate holds
        (["inspect", "MODEL"], 0),
        (["schema", "train.csv"], 0),
        (["sample", "--help"], 0),
    ],
    ids=["sample", "report", "report-gate", "inspect", "schema", "help"],
)
def test_a_closed_stdout_is_not_a_failure(args, code, fitted, work):
    """`synthgen ... | head`: the reader goes away before anything is written. The command
    neither fails (1 is a failed gate) nor prints a traceback; a report still applies its
    gate."""
    args = [str(fitted["gaussian-copula"]) if a == "MODEL" else a for a in args]
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthgen", *args],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=synthgen_env(),
    )
    proc.stdout.close()  # as `head` does, here before the first line
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == code, err.decode()
    assert b"Traceback" not in err and b"Exception ignored" not in err


def _when_writing(proc: subprocess.Popen, folder: Path) -> None:
    """Wait until the process has a hidden temp file with bytes in `folder`."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if folder.exists() and any(
            p.stat().st_size > 0 for p in folder.glob(".*.tmp") if p.exists()
        ):
            return
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the command never started writing")


def test_a_stopped_run_leaves_the_folder_as_it_was(work, tmp_path):
    """`run --force` over old outputs, stopped (SIGHUP) while it samples: exit 129, and the
    folder as it was, its old outputs and nothing else (Ctrl-C on a new folder: see
    test_docs_tables)."""
    signum = signal.SIGHUP
    out = tmp_path / "out"
    out.mkdir()
    for name in ("model.synthgen", "synthetic.csv", "report.json", "report.html", "keep.txt"):
        (out / name).write_text(f"old {name}")
    before = tree(tmp_path)
    args = ["run", str(work / "train.csv"), "-d", str(out), "-n", "20000000", "--seed", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthgen", *args, "--force"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=synthgen_env(),
    )
    _when_writing(proc, out)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err.decode()
    assert "no partial output" in err.decode() and b"Traceback" not in err
    assert tree(tmp_path) == before


def test_a_run_that_fails_leaves_the_folder_as_it_was(fitted, work, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "model.synthgen").write_text("old model")
    before = tree(tmp_path)
    runs = synthgen_all(
        [
            ["run", "missing.csv", "-d", str(tmp_path / "new" / "deeper")],
            ["run", str(work / "train.csv"), "-d", str(tmp_path / "new2"), "-m", "nope"],
            ["run", str(work / "train.csv"), "-d", str(old)],  # model.synthgen exists
            ["run", str(work / "train.csv"), "-d", str(old), "--force", "--schema", "nope.json"],
        ],
        tmp_path,
    )
    assert [r.returncode for r in runs] == [3, 2, 5, 3], [r.stderr for r in runs]
    assert "old/model.synthgen exists; pass --force" in one_line(runs[2])
    assert tree(tmp_path) == before


# ---- refused commands leave nothing; --force --------------------------------------------------


def test_a_refused_command_writes_nothing(fitted, work, tmp_path):
    model = str(fitted["gaussian-copula"])
    train = str(work / "train.csv")
    before = tree(tmp_path)
    runs = synthgen_all(
        [
            ["sample", model, "-n", "5", "-o", "out.xlsx"],
            ["sample", model, "-n", "5", "-o", "out"],
            ["report", train, train, "--json", "r.out", "--html", "r.out"],
            ["report", train, train, "--json", "r.json", "--html", "./r.json"],
            ["report", model, train, "--json", "r.json"],
            ["fit", train, "-o", "m.synthgen", "--schema", "missing.json"],
        ],
        tmp_path,
    )
    assert [r.returncode for r in runs] == [5, 5, 2, 2, 3, 3], [r.stderr for r in runs]
    assert "out.xlsx" in one_line(runs[0]) and "--format csv" in one_line(runs[0])
    assert "--json and --html both name" in one_line(runs[2])
    assert "synthgen model file, not a table" in one_line(runs[4])
    assert tree(tmp_path) == before


def test_force_replaces_and_its_absence_keeps(fitted, work, tmp_path):
    model = str(fitted["gaussian-copula"])
    train = str(work / "train.csv")
    outputs = ["m.synthgen", "s.csv", "schema.json", "r.json", "r.html"]
    for name in outputs:
        (tmp_path / name).write_text("precious")
    commands = [
        ["fit", train, "-o", "m.synthgen", "-q"],
        ["sample", model, "-n", "5", "-o", "s.csv", "-q"],
        ["schema", train, "-o", "schema.json"],
        ["report", train, train, "--json", "r.json", "--html", "r.html", "-q"],
    ]
    for done in synthgen_all(commands, tmp_path):
        assert done.returncode == 5 and "--force" in one_line(done)
    assert all((tmp_path / n).read_bytes() == b"precious" for n in outputs)
    for done in synthgen_all([[*c, "--force"] for c in commands], tmp_path):
        assert done.returncode == 0, done.stderr
    assert not any((tmp_path / n).read_bytes() == b"precious" for n in outputs)
    assert not list(tmp_path.glob(".*"))


# ---- messages in the user's language ----------------------------------------------------------


def test_refusals_name_the_thing_and_the_fix(fitted, work):
    model = str(fitted["gaussian-copula"])
    where, bad_flag = synthgen_all(
        [
            ["sample", model, "--where", "specis=Adelie", "-o", "-"],
            ["sample", model, "--where", "species=Adelie", "-o", "x.tsv"],
        ],
        work,
    )
    assert where.returncode == 2
    line = one_line(where)
    assert "'specis'" in line and "'species'" in line and "columns: species, island" in line
    assert bad_flag.returncode == 5 and ".tsv" in one_line(bad_flag)


def test_the_readme_python_runs_twice_and_speaks_python(tmp_path):
    readme = (ROOT / "README.md").read_text()
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "sample_data").symlink_to(SAMPLE_DATA)
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=synthgen_env(),
        )
        assert done.returncode == 0, done.stderr
    again = subprocess.run(
        [sys.executable, "-c", code.replace(", force=True", "")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=synthgen_env(),
    )
    last = again.stderr.strip().splitlines()[-1]  # the exception, under its traceback
    assert last.endswith("exists; pass force=True to overwrite") and "--force" not in last


def test_fit_from_stdin_writes_the_file_its_help_names(work, tmp_path):
    help_text = synthgen_cli(["fit", "--help"], tmp_path, timeout=120).stdout.decode()
    assert "model.synthgen when DATA is -" in " ".join(help_text.replace("│", " ").split())
    done = synthgen_cli(["fit", "-", "-q"], tmp_path, stdin=(work / "train.csv").read_bytes())
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.synthgen"]


# ---- --help -----------------------------------------------------------------------------------

COMMANDS = ["fit", "sample", "run", "report", "schema", "inspect", "models"]


def test_every_help_ends_with_an_example_that_copies_as_one_line_and_runs(
    tmp_path, capsys, monkeypatch
):
    """The last line of each --help is a whole command, even on a narrow terminal; run in
    order in a folder holding sample_data/, every example works."""
    monkeypatch.setenv("COLUMNS", "50")
    helps = {}
    for name in ["", *COMMANDS]:
        assert cli([*([name] if name else []), "--help"], tmp_path) == 0
        lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
        assert lines[-2].strip() == "Example:", name
        helps[name] = lines[-1].strip()
        assert helps[name].startswith("synthgen "), (name, helps[name])
    shim = tmp_path / "bin" / "synthgen"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m synthgen "$@"\n')
    shim.chmod(0o755)
    env = synthgen_env(PATH=f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "sample_data").symlink_to(SAMPLE_DATA)
    ran = set()
    for name in ["fit", "sample", "inspect", "schema", "models", "run", "report", ""]:
        if helps[name] in ran:
            continue
        ran.add(helps[name])
        folder = tmp_path / (name or "app")
        folder.mkdir()
        (folder / "sample_data").symlink_to(SAMPLE_DATA)
        if name in ("sample", "inspect"):
            (folder / "penguins.synthgen").symlink_to(tmp_path / "fit" / "penguins.synthgen")
        done = subprocess.run(
            ["sh", "-c", helps[name]], cwd=folder, capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, (helps[name], done.stderr)
