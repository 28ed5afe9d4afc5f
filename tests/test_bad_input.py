"""Messy tables from the real world, through the command line: each is either handled correctly
(fit, then sample rows that keep the table's shape) or refused with one line that names the
problem and the fix, and its documented exit code. No traceback, no output on a refusal."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.errors import SynthgenWarning
from synthgen.io import read_table
from tests.test_cli import run_cli


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


def table(header: str, rows: list[str]) -> str:
    return header + "\n" + "\n".join(rows) + "\n"


# ---- refused ----------------------------------------------------------------------------------

ROWS = [f"{i},{'ab'[i % 2]}" for i in range(30)]

REFUSED = {
    # name: (file content, extra options, exit code, words naming the problem and the fix)
    "empty": (b"", [], 3, ["is empty"]),
    "blank-lines": (b"\n\n  \n", [], 3, ["is empty"]),
    "header-only": (b"a,b,c\n", [], 3, ["header but no rows"]),
    "one-row": (b"a,b\n1,x\n", [], 3, ["only 1 row", "at least 2"]),  # `schema` reads it
    "duplicate-names": (table("a,b,a", ["1,2,3", "4,5,6"]), [], 3, ["duplicate", "'a'", "rename"]),
    "empty-name": (table("a,,c", ["1,2,3", "4,5,6"]), [], 3, ["column 2", "empty name", "give it"]),
    "unnamed-first-column-repeats": (
        table(",b", [f"{i % 5},{i}" for i in range(30)]),
        [],
        3,
        ["column 1", "empty name", "row names only when", "all different"],
    ),
    "ragged-row": (table("a,b", ["1,2", "3,4,5"]), [], 3, ["3 fields", "header has 2", "fix"]),
    "unclosed-quote": (table("a,b", ['1,"x', "2,y"]), [], 3, ["unclosed quote", "fix the quoting"]),
    "binary": (b"\x00\x01\x02\x03abc", [], 3, ["binary file"]),
    "gzip": (b"\x1f\x8b\x08\x00rest", [], 3, ["gzip", "gunzip"]),
    "utf-16": ("a,b\n1,2\n".encode("utf-16"), [], 3, ["UTF-16", "--encoding utf-16"]),
    "latin-1-undeclared": (
        table("name,n", [f"café{i % 3},{i}" for i in range(30)]).encode("latin-1"),
        [],
        3,
        ["cannot decode", "line 2", "--encoding latin-1"],
    ),
    "unknown-encoding": (table("a,b", ROWS), ["--encoding", "klingon"], 2, ["unknown encoding"]),
    "bad-delimiter": (table("a,b", ROWS), ["--delimiter", "ab"], 2, ["one character"]),
    "bad-decimal-mark": (table("a,b", ROWS), ["--decimal", ";"], 2, ["decimal mark", "'.' or ','"]),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_one_clear_line(case, tmp_path, capsys):
    content, options, code, words = REFUSED[case]
    data = write(tmp_path, "data.csv", content)
    commands = [["fit", str(data), "-o", str(tmp_path / "m.synthgen")], ["schema", str(data)]]
    for command in commands[:1] if case == "one-row" else commands:
        got, out, err = run_cli([*command, *options], capsys)
        assert got == code, err
        assert all(w in err for w in words), err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]
    assert data.read_bytes() == (content if isinstance(content, bytes) else content.encode())


# ---- handled ----------------------------------------------------------------------------------


def fit_and_sample(
    tmp_path: Path, capsys, content: str | bytes, options: list[str] = (), n: int = 300
) -> tuple[dict, pd.DataFrame]:
    """Fit and sample through the CLI; returns (schema as JSON, synthetic rows as text)."""
    data = write(tmp_path, "data.csv", content)
    before = data.read_bytes()
    model, out = tmp_path / "m.synthgen", tmp_path / "out.csv"
    code, _, err = run_cli(
        ["fit", str(data), "-o", str(model), "-q", "--seed", "1", *options], capsys
    )
    assert code == 0, err
    code, _, err = run_cli(
        ["sample", str(model), "-n", str(n), "-o", str(out), "--seed", "2"], capsys
    )
    assert code == 0, err
    assert data.read_bytes() == before
    schema = {c.name: c for c in synthgen.load(str(model)).schema_.columns}
    return schema, read_table(str(out))


def numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values).to_numpy(dtype=float)


def test_a_header_of_numbers_is_read_as_names_and_said(tmp_path, capsys):
    """A file without a header row (mlxtend's boston_housing: `6.32e-03,1.8e+01,...`): its
    first row is read as the column names, as every CSV reader does, with one warning line
    that says so; a header with one name among numbers (years) is not warned of."""
    rows = [f"{i * 0.5:.3e},{i % 7},{i * 1.25}" for i in range(40)]
    data = write(tmp_path, "data.csv", table(rows[0], rows[1:]))
    code, _, err = run_cli(["fit", str(data), "-o", str(tmp_path / "m.synthgen")], capsys)
    assert code == 0, err
    warned = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warned == [
        f"warning: every name in the header row of {data} is a number (0.000e+00, 0, 0.0): "
        "read as column names; if the file has no header row, add one"
    ]
    with pytest.warns(SynthgenWarning, match="every name in the header row"):
        streamed = list(synthgen.io.iter_table_chunks(str(data), 7))
    assert len(pd.concat(streamed)) == 39
    years = write(tmp_path, "years.csv", table("country,2019,2020", ["a,1,2", "b,3,4"] * 30))
    code, _, err = run_cli(["schema", str(years)], capsys)
    assert code == 0 and "warning" not in err, err


@pytest.mark.parametrize(
    "header, label",
    [('"","x","g"', lambda i: f'"{i + 1}"'), (",x,g", str), ('"",x,g', lambda i: f"Person {i}")],
)
def test_row_names_are_left_out_and_said(header, label, tmp_path, capsys):
    """R's write.csv (row names "1", "2", ... or its own: a person's name) and pandas' to_csv
    (its index) leave the first column unnamed: read as the table's row names, left out of
    the model and the written rows (they label real rows), with one warning line."""
    rows = [f"{label(i)},{i * 1.5:.1f},{'pq'[i % 2]}" for i in range(40)]
    data = write(tmp_path, "data.csv", table(header, rows))
    code, _, err = run_cli(["fit", str(data), "-o", str(tmp_path / "first.synthgen")], capsys)
    assert code == 0, err
    warned = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warned == [
        f"warning: column 1 of {data} has no name: read as row names (as R and pandas "
        "write them) and left out"
    ]
    schema, out = fit_and_sample(tmp_path, capsys, table(header, rows))
    assert list(schema) == ["x", "g"] and list(out.columns) == ["x", "g"]
    code, _, err = run_cli(["report", str(data), str(tmp_path / "out.csv"), "-q"], capsys)
    assert code == 0 and "Traceback" not in err and "warning" not in err, err
    code, _, err = run_cli(["report", str(data), str(tmp_path / "out.csv"), "--json", "-"], capsys)
    assert code == 0 and err.count("warning: column 1") == 1, err
    streamed = list(synthgen.io.iter_table_chunks(str(data), 7))
    assert pd.concat(streamed).equals(read_table(str(data)))
    assert list(streamed[1].columns) == ["x", "g"] and streamed[1].index[0] == 7


R_TABLE = [
    f'"{name}" {i * 1.5:.1f} "{"pq"[i % 2]}" {"NA" if i % 7 == 0 else i}'
    for i, name in enumerate(f"Area_{k}" for k in range(40))
]


@pytest.mark.parametrize(
    "header, rows, named",
    [
        # write.table(df): a space between fields, names quoted, row names left out of the header
        ('"x" "g" "n"', R_TABLE, False),
        # write.table(df, row.names = FALSE)
        ('"x" "g" "n"', [r.split(" ", 1)[1] for r in R_TABLE], True),
        # write.table(df, sep = ","): the header one field short of the rows
        ('"x","g","n"', [r.replace(" ", ",") for r in R_TABLE], False),
    ],
)
def test_r_write_table_files_are_read(header, rows, named, tmp_path, capsys):
    """R's write.table: fields split by one space (the default) or its `sep`, the row names
    first in each row but not in the header. Read as the table's columns, the row names left
    out with a warning; streaming reads the same rows."""
    data = write(tmp_path, "data.csv", table(header, rows))
    code, _, err = run_cli(["schema", str(data)], capsys)
    assert code == 0 and ("row names" in err) != named, err
    schema, out = fit_and_sample(tmp_path, capsys, table(header, rows))
    assert list(schema) == ["x", "g", "n"] and list(out.columns) == ["x", "g", "n"]
    assert schema["x"].kind == schema["n"].kind == "numeric" and schema["g"].kind == "categorical"
    assert set(out["g"]) == {"p", "q"} and out["n"].isna().any()
    read = read_table(str(data))
    assert read["n"].isna().sum() == 6 and read.loc[1].tolist() == ["1.5", "q", "1"]
    assert pd.concat(synthgen.io.iter_table_chunks(str(data), 9)).equals(read)


@pytest.mark.parametrize(
    "content",
    [
        table("full name", ["Ann Lee", "Bo Chan", "Cy Diaz"] * 10),  # one column of two words
        table("a b,c", ["x y,1", "z w,2"] * 15),  # commas split it: spaces stay in the values
    ],
)
def test_spaces_inside_values_are_not_a_delimiter(content, tmp_path):
    read = read_table(str(write(tmp_path, "data.csv", content)))
    first = content.splitlines()
    assert list(read.columns) == first[0].split(",") and read.iloc[0].tolist() == first[1].split(
        ","
    )


def test_one_column(tmp_path, capsys):
    schema, out = fit_and_sample(tmp_path, capsys, table("x", [str(i % 7) for i in range(50)]))
    assert list(out.columns) == ["x"] and set(out["x"]) <= {str(i) for i in range(7)}


def test_all_null_and_constant_columns_are_kept(tmp_path, capsys):
    rows = [f"{i},,k,{'' if i % 3 else 'k'}" for i in range(40)]
    schema, out = fit_and_sample(tmp_path, capsys, table("a,empty,const,const_or_null", rows))
    assert schema["empty"].kind == "constant" and out["empty"].isna().all()
    assert (out["const"] == "k").all()
    seen = out["const_or_null"]
    assert set(seen.dropna()) == {"k"} and 0 < seen.isna().mean() < 1


@pytest.mark.parametrize("encoding, word", [("latin-1", "café"), ("cp1252", "“quoted”")])
def test_other_encodings_with_the_option(encoding, word, tmp_path, capsys):
    rows = [f"{word}{i % 3},{i}" for i in range(40)]
    content = table("name,n", rows).encode(encoding)
    _, out = fit_and_sample(tmp_path, capsys, content, ["--encoding", encoding])
    assert set(out["name"]) <= {f"{word}{i}" for i in range(3)}


def test_utf8_bom(tmp_path, capsys):
    content = "\ufeff" + table("name,n", [f"x{i % 3},{i}" for i in range(40)])
    _, out = fit_and_sample(tmp_path, capsys, content)
    assert list(out.columns) == ["name", "n"]


@pytest.mark.parametrize("sep, options", [(";", []), ("\t", []), ("|", ["--delimiter", "|"])])
def test_other_delimiters(sep, options, tmp_path, capsys):
    rows = [sep.join([str(i), f"g{i % 3}", f"{i * 1.5:.1f}"]) for i in range(40)]
    schema, out = fit_and_sample(tmp_path, capsys, table(sep.join("abc"), rows), options)
    assert list(out.columns) == ["a", "b", "c"] and schema["c"].kind == "numeric"


def test_quoted_newlines(tmp_path, capsys):
    rows = [f'{i},"line one\nline {i % 2}"' for i in range(40)]
    _, out = fit_and_sample(tmp_path, capsys, table("a,b", rows))
    assert set(out["b"]) <= {"line one\nline 0", "line one\nline 1"}


def test_integers_beyond_int64(tmp_path, capsys):
    big = 2**70
    rows = [f"{i},{big + i * 12345},{big + (i % 4)}" for i in range(40)]
    schema, out = fit_and_sample(tmp_path, capsys, table("a,key,code", rows))
    assert schema["key"].kind == "id" and schema["code"].kind == "categorical"
    assert out["key"].str.fullmatch(r"\d{22}").all() and out["key"].is_unique
    assert not set(out["key"]) & {str(big + i * 12345) for i in range(40)}  # never a real key
    assert set(out["code"]) <= {str(big + k) for k in range(4)}


def test_infinities_stay_numeric_and_finite(tmp_path, capsys):
    values = [f"{i * 1.5:.1f}" for i in range(40)]
    values[3], values[5] = "inf", "-Infinity"
    schema, out = fit_and_sample(
        tmp_path, capsys, table("a,b", [f"{i},{v}" for i, v in enumerate(values)])
    )
    assert schema["b"].kind == "numeric" and (schema["b"].min, schema["b"].max) == (0, 58.5)
    b = numbers(out["b"])
    assert np.isfinite(b).all() and b.min() >= 0 and b.max() <= 58.5


def test_thousands_separators(tmp_path, capsys):
    rows = [f'{i},"{1000 + i * 137:,}",{i % 3}' for i in range(40)]
    schema, out = fit_and_sample(tmp_path, capsys, table("a,amount,g", rows))
    col = schema["amount"]
    assert (col.kind, col.thousands, col.integer, col.min, col.max) == (
        "numeric",
        ",",
        True,
        1000,
        6343,
    )
    amount = numbers(out["amount"])  # written back as plain numbers
    assert (amount == np.round(amount)).all() and amount.min() >= 1000 and amount.max() <= 6343
    # the report reads "1,234" in the real table and 1234 in the synthetic one alike
    real, synth = str(tmp_path / "data.csv"), str(tmp_path / "out.csv")
    code, _, err = run_cli(["report", real, synth, "--json", "-", "-q"], capsys)
    assert code == 0, err


def test_currency_and_percent_signs_are_numbers(tmp_path, capsys):
    """Amounts written with a currency sign ("$1,234.50", "-$3.00", "3,50 €") or a percent
    sign ("12.5%") are numbers, written back plain as thousands separators are; they were
    keys (a price) or categories (a percentage), and their values were never compared."""
    rng = np.random.default_rng(0)
    rows = []
    for i, p in enumerate(rng.lognormal(7, 1, 60).round(2)):
        price = f'"{"-" if i % 10 == 0 else ""}${p:,.2f}"'
        eur = f'"{p / 9:.2f} €"'.replace(".", ",")
        rows.append(f"{i},{price},{rng.uniform(0, 100):.1f}%,{eur}")
    schema, out = fit_and_sample(tmp_path, capsys, table("a,price,share,eur", rows))
    facts = {
        n: (schema[n].kind, schema[n].prefix, schema[n].suffix) for n in ("price", "share", "eur")
    }
    assert facts == {
        "price": ("numeric", "$", None),
        "share": ("numeric", None, "%"),
        "eur": ("numeric", None, "€"),
    }
    assert schema["eur"].decimal == "," and schema["price"].thousands == ","
    assert schema["price"].min < 0 < schema["price"].max  # "-$" read as a minus
    price, share = numbers(out["price"]), numbers(out["share"])  # written back plain
    assert price.min() >= schema["price"].min and price.max() <= schema["price"].max
    assert share.min() >= 0 and share.max() <= 100 and share.std() > 10
    real, synth = str(tmp_path / "data.csv"), str(tmp_path / "out.csv")
    code, _, err = run_cli(
        ["report", real, synth, "--json", str(tmp_path / "r.json"), "-q"], capsys
    )
    assert code == 0, err
    shapes = json.loads((tmp_path / "r.json").read_text())["fidelity"]["column_shapes"]
    assert {s["column"] for s in shapes} >= {"price", "share", "eur"}


def test_decimal_commas_are_detected(tmp_path, capsys):
    # "1,25" and "1.000.000,5" (1000000.5)
    rows = [
        f"{i};{i * 1.25:.2f}".replace(".", ",") + f";{1000 + i:,}.000,5".replace(",", ".", 1)
        for i in range(40)
    ]
    schema, out = fit_and_sample(tmp_path, capsys, table("a;price;big", rows))
    assert (schema["price"].kind, schema["price"].decimal, schema["price"].max) == (
        "numeric",
        ",",
        48.75,
    )
    assert (schema["big"].thousands, schema["big"].decimal) == (".", ",")
    assert schema["big"].min == 1000000.5
    price = numbers(out["price"])
    assert price.min() >= 0 and price.max() <= 48.75


def test_ambiguous_separator_needs_decimal_option(tmp_path, capsys):
    rows = [f"{i};{i % 9},{(i * 7) % 1000:03d}" for i in range(40)]  # "3,021": 3021 or 3.021?
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    schema, _ = fit_and_sample(tmp_path / "a", capsys, table("a;x", rows))
    assert schema["x"].thousands == "," and schema["x"].max > 1000
    schema, out = fit_and_sample(tmp_path / "b", capsys, table("a;x", rows), ["--decimal", ","])
    assert schema["x"].decimal == "," and schema["x"].max < 9
    assert numbers(out["x"]).max() < 9
    real, synth = str(tmp_path / "b" / "data.csv"), str(tmp_path / "b" / "out.csv")
    code, text, err = run_cli(["report", real, synth, "--decimal", ",", "--json", "-"], capsys)
    assert code == 0, err
    (shape,) = json.loads(text)["fidelity"]["column_shapes"]  # read as 3.021, like the model
    assert shape["column"] == "x" and shape["score"] > 0.5


@pytest.mark.parametrize(
    "fmt, years",
    [("%Y-%m-%d", (1066, 1600)), ("%d/%m/%Y %H:%M", (2263, 9000)), ("%Y%m%d", (1600, 2199))],
    ids=["before-1677", "after-2262", "yyyymmdd"],
)
def test_dates_beyond_pandas_range_and_integer_coded(fmt, years, tmp_path, capsys):
    rng = np.random.default_rng(0)
    lo, hi = datetime(years[0], 1, 1).toordinal(), datetime(years[1], 12, 31).toordinal()
    stamps = [datetime.fromordinal(int(d)) for d in rng.integers(lo, hi, 60)]
    stamps = [
        s.replace(hour=int(h), minute=int(m))
        for s, h, m in zip(stamps, rng.integers(0, 24, 60), rng.integers(0, 60, 60))
    ]
    if "%H" not in fmt:
        stamps = [s.replace(hour=0, minute=0) for s in stamps]
    rows = [f"{i},{s.strftime(fmt)}" for i, s in enumerate(stamps)]
    schema, out = fit_and_sample(tmp_path, capsys, table("a,when", rows))
    assert (schema["when"].kind, schema["when"].format) == ("datetime", fmt)
    parsed = [datetime.strptime(v, fmt) for v in out["when"]]  # every value written as read
    assert min(stamps) <= min(parsed) and max(parsed) <= max(stamps)
    assert len(set(out["when"])) > 50


def test_mixed_timezones_keep_the_instants(tmp_path, capsys):
    offsets = ["+0100", "-0500", "+0530"]
    rows = [f"{i},2020-03-{1 + i % 28:02d}T10:{i % 60:02d}:00{offsets[i % 3]}" for i in range(60)]
    schema, out = fit_and_sample(tmp_path, capsys, table("a,at", rows))
    assert schema["at"].kind == "datetime" and schema["at"].format == "%Y-%m-%dT%H:%M:%S%z"
    real = [datetime.strptime(r.split(",")[1], "%Y-%m-%dT%H:%M:%S%z") for r in rows]
    synth = [datetime.strptime(v, "%Y-%m-%dT%H:%M:%S%z") for v in out["at"]]
    assert min(real) <= min(synth) and max(synth) <= max(real)  # compared as instants


def test_fifty_thousand_distinct_values(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 100_000  # 50,000 categories of 2 rows each: kept with --rare-threshold 2
    cats = np.array([f"c{i}" for i in range(50_000)])[rng.permutation(n) % 50_000]
    frame = pd.DataFrame({"cat": cats, "key": [f"K{i:06d}" for i in rng.permutation(n)]})
    schema = write(tmp_path, "s.json", '{"columns": [{"name": "cat", "kind": "categorical"}]}')
    options = ["--rare-threshold", "2", "--schema", str(schema)]
    schema, out = fit_and_sample(tmp_path, capsys, frame.to_csv(index=False), options, n=5000)
    assert (schema["cat"].kind, schema["key"].kind) == ("categorical", "id")
    assert set(out["cat"]) <= set(cats) and out["cat"].nunique() > 4000
    assert out["key"].is_unique and out["key"].str.fullmatch(r"[A-Z]\d{6}").all()


def test_a_thousand_columns(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 200
    columns = {
        f"c{j}": (
            rng.normal(size=n).round(2)
            if j % 3 == 0
            else rng.integers(0, 9, n)
            if j % 3 == 1
            else rng.choice(list("abcd"), n)
        )
        for j in range(1000)
    }
    schema, out = fit_and_sample(tmp_path, capsys, pd.DataFrame(columns).to_csv(index=False), n=50)
    assert list(out.columns) == list(columns) and len(out) == 50
    assert set(out["c2"]) <= set("abcd") and numbers(out["c1"]).max() <= 8


def test_very_long_strings(tmp_path, capsys):
    long_words = ["word" * 25_000, "other" * 20_000]  # 100 kB values
    rows = [f"{i},{long_words[i % 2]},{'x' * 200_000 if i == 7 else 'short'}" for i in range(40)]
    schema, out = fit_and_sample(tmp_path, capsys, table("a,common,rare", rows))
    assert set(out["common"]) <= set(long_words)
    assert "x" * 200_000 not in set(out["rare"])  # seen once: never written verbatim


def test_numbers_written_with_pandas_float_style_stay_integers(tmp_path, capsys):
    rows = [f"{i},{'' if i % 5 == 0 else f'{i * 3}.0'}" for i in range(40)]
    schema, out = fit_and_sample(tmp_path, capsys, table("a,b", rows))
    assert schema["b"].integer and out["b"].dropna().str.fullmatch(r"\d+").all()


def test_tiny_numbers_in_exponent_notation_keep_their_digits(tmp_path, capsys):
    # great_tables' reactions: rate constants of 1e-17 to 1e-10, written `6.36e-15`, were
    # given 0 decimals and written as 0
    rng = np.random.default_rng(0)
    rates = 10.0 ** rng.uniform(-17, -10, 60)
    rows = [f"{i},{r:.3g}" for i, r in enumerate(rates)]
    schema, out = fit_and_sample(tmp_path, capsys, table("a,k298", rows))
    assert schema["k298"].decimals is None
    drawn = out["k298"].dropna().astype(float)
    assert (drawn > 0).all() and drawn.min() >= 1e-17 * 0.99 and drawn.max() <= 1e-10 * 1.01
    assert drawn.nunique() > 20


def test_codes_written_with_leading_zeros_keep_them(tmp_path, capsys):
    """Digits of one width, some starting with 0, are codes (COUNT's medpar: provider numbers
    `030001`; a ZIP code `02134`): read as numbers they were written `30001` and drawn between
    the real codes. Repeating ones are categories, unique ones keys of their shape; integers
    of one width with no leading zero stay numbers."""
    rng = np.random.default_rng(0)
    providers = [f"{c:06d}" for c in rng.choice([30001, 30002, 31005, 32003, 4100], 200)]
    zips = [f"{z:05d}" for z in rng.choice(np.arange(1000, 99999), 200, replace=False)]
    counts = rng.integers(10000, 99999, 200)
    rows = [f"{p},{z},{c}" for p, z, c in zip(providers, zips, counts)]
    schema, out = fit_and_sample(tmp_path, capsys, table("provnum,zip,count", rows))
    kinds = {n: schema[n].kind for n in ("provnum", "zip", "count")}
    assert kinds == {"provnum": "categorical", "zip": "id", "count": "numeric"}
    assert set(out["provnum"].dropna()) <= set(providers)  # as written, zeros and all
    assert out["zip"].str.fullmatch(r"\d{5}").all()


def test_negatives_in_parentheses_are_numbers(tmp_path, capsys):
    """An accountant's negatives, `(1,234.50)` and `($3.00)`, are negative numbers (the column
    was keys of the shape `999.99`)."""
    rng = np.random.default_rng(0)
    values = rng.normal(40, 60, 80).round(2)  # a fifth of them negative
    rows = [f'{i},"{f"({abs(v):,.2f})" if v < 0 else f"{v:,.2f}"}"' for i, v in enumerate(values)]
    schema, out = fit_and_sample(tmp_path, capsys, table("a,net", rows))
    assert (schema["net"].kind, schema["net"].min) == ("numeric", float(values.min()))
    net = numbers(out["net"])
    assert (net < 0).mean() > 0.1 and net.min() >= values.min() and net.max() <= values.max()


def test_a_word_among_numbers_is_named_with_the_option_that_reads_them(tmp_path, capsys):
    """Amounts with `unknown` in some rows are keys or categories to detection (their values
    never compared): one warning line names the word and `--na-values`, which reads them as
    numbers with the word as missing. Labels among numbers (boats `1`-`16`, `C`, `D`) are
    not named."""
    rng = np.random.default_rng(0)
    rows = [
        f"{i},{'unknown' if i % 15 == 0 else f'{rng.gamma(2, 3):.2f}'},{i % 16 + 1 if i % 9 else 'C'}"
        for i in range(90)
    ]
    data = write(tmp_path, "data.csv", table("a,income,boat", rows))
    code, _, err = run_cli(["schema", str(data), "-o", str(tmp_path / "s.json")], capsys)
    assert code == 0 and "--na-values unknown" in err and "'C'" not in err, err
    assert err.count("warning:") == 1
    code, _, err = run_cli(
        ["schema", str(data), "--na-values", "unknown", "-o", str(tmp_path / "t.json"), "--force"],
        capsys,
    )
    kinds = {c["name"]: c["kind"] for c in json.loads((tmp_path / "t.json").read_text())["columns"]}
    assert code == 0 and "warning" not in err and kinds["income"] == "numeric"
