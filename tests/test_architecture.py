"""The house's rules, read from the code itself: no import cycle inside synthgen/ (imports inside
functions count; imports under `if TYPE_CHECKING:` never run and do not), no module over 1,000
lines, no model imports the report, columns/ never imports the schema (the schema sits above the
column kinds), and at most a handful of branches on a column kind outside columns/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "synthgen"
MAX_LINES = 1000
MAX_KIND_BRANCHES = 2  # (a dtype's kind and a doctest's column named "kind" read as such)
# a comparison of a column's kind with a kind's name: `col.kind == "numeric"`, `kind in (...)`;
# or of a column's kind (`col`, `column`, `c`, `schema[name]`) with a set of names, `col.kind in
# _DATES`, or a list of columns' kinds to compare later; a rule's kind (`rule.kind`) and a kind
# record looked up (`KINDS[col.kind]`) are no branch
_OPERATOR = r"\s*(==|!=|\bin\b|\bnot in\b)\s*"
_COLUMN_KIND = r"\b(col|column|c|schema\[[^\]]*\])\.kind"
_RULE = r"(?<!rule\.)(?<!\br\.)"  # (`rule.kind == "combination"` is a rule's kind)
_KIND_BRANCH = re.compile(
    rf"{_RULE}\bkind{_OPERATOR}[\"'({{\[]|{_COLUMN_KIND}({_OPERATOR}\w|\s+for\b)"
)


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The synthgen modules that `name` names in its imports (a package's submodule when the
    imported name is one, else the package itself)."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if not source.startswith("synthgen"):
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                out.add(sub if sub in modules else source)
    out.discard(name)
    return {m for m in out if m in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_inside_the_package():
    assert _cycles(_graph()) == []


def test_no_module_over_a_thousand_lines():
    long = {
        str(path.relative_to(PACKAGE.parent)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_model_imports_the_report():
    graph = _graph()
    bad = {
        name: sorted(m for m in deps if m.startswith("synthgen.report"))
        for name, deps in graph.items()
        if name.startswith("synthgen.models")
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_column_kinds_do_not_import_the_schema():
    graph = _graph()
    bad = {
        name: sorted(m for m in deps if m == "synthgen.schema")
        for name, deps in graph.items()
        if name.startswith("synthgen.columns")
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_a_handful_of_branches_on_a_column_kind_outside_columns():
    branches = [
        f"{path.relative_to(PACKAGE.parent)}:{i}"
        for path in PACKAGE.rglob("*.py")
        if "columns" not in path.relative_to(PACKAGE).parts
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if _KIND_BRANCH.search(line)
    ]
    assert len(branches) <= MAX_KIND_BRANCHES, branches


def test_the_checker_sees_a_cycle_and_a_branch():
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert _KIND_BRANCH.search('if col.kind == "numeric":')
    assert _KIND_BRANCH.search('if kind in ("a", "b"):')
    assert _KIND_BRANCH.search("if col.kind in _DATES:")
    assert _KIND_BRANCH.search("keep = [c.name for c in columns if c.kind not in SKIPPED]")
    assert _KIND_BRANCH.search("if target.col.kind == NUMERIC:")
    assert _KIND_BRANCH.search("kinds = [schema[name].kind for name in rule.columns]")
    assert not _KIND_BRANCH.search("kinds = MODULES[col.kind]")
    assert not _KIND_BRANCH.search("if KINDS[col.kind].shape in SHAPES:")
    assert not _KIND_BRANCH.search("if rule.kind in _NUMERIC_RULES:")
    assert not _KIND_BRANCH.search('if rule.kind == "combination" and any(')
    assert not _KIND_BRANCH.search('into = {r: r for r in rules if r.kind == "combination"}')
    assert _KIND_BRANCH.search('if kind == "combination":')
    assert not _KIND_BRANCH.search("if dtype.kind not in _DTYPE_KINDS:")
