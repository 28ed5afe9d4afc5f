"""How a report shows: a one-screen terminal summary (rich), and one self-contained HTML page
whose pictures are inline SVG drawn here (no script, no font, no request leaves the file).

Both work from the report's JSON dict (`Report.to_dict()`), so a saved report.json can be drawn
again. `chart_data` computes what the pictures need when the report is built.

Example:
    >>> from synthgen.report.render import verdict_style
    >>> verdict_style("collapsed")
    'bold red'
"""

from __future__ import annotations

import html as _html
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.compare.values import RARE_ROWS, Prepared
from synthgen.schema import Schema

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

HIST_BINS = 24
TOP_CATEGORIES = 12
HEATMAP_COLUMNS = 40
_STYLES = {
    "none": "bold green",
    "pass": "bold green",
    "suspected": "bold yellow",
    "warn": "bold yellow",
    "collapsed": "bold red",
    "fail": "bold red",
    "not checked": "bold yellow",
}
_COLORS = {"green": "#1a7f37", "yellow": "#b7791f", "red": "#c53030", "grey": "#6b7280"}
_REAL, _SYNTH = "#2b6cb0", "#dd6b20"


def verdict_style(verdict: str) -> str:
    return _STYLES.get(verdict, "bold")


def _color(verdict: str) -> str:
    return _COLORS[verdict_style(verdict).split()[-1]] if verdict in _STYLES else _COLORS["grey"]


# --------------------------------------------------------------------------------------------
# Chart data


def chart_data(
    real: Prepared, synth: Prepared, schema: Schema, pairs: list[dict[str, Any]]
) -> dict[str, Any]:
    """Per-column histograms / bar charts (shares of non-null values, and null shares) and the
    association matrices of both tables (Pearson's r for two continuous columns, Cramer's V
    otherwise)."""
    columns = []
    for name, r in real.items():
        s = synth[name]
        entry: dict[str, Any] = {
            "column": name,
            "kind": r.kind,
            "null": {"real": float(r.missing.mean()), "synthetic": float(s.missing.mean())},
        }
        if r.shape == "continuous":
            entry.update(_histogram(r.x, s.x))
        else:
            entry.update(_bars(r, s))
        columns.append(entry)
    names = list(real)[:HEATMAP_COLUMNS]
    index = {n: i for i, n in enumerate(names)}
    m_real = [[1.0 if i == j else None for j in range(len(names))] for i in range(len(names))]
    m_synth = [row[:] for row in m_real]
    for p in pairs:
        i, j = index.get(p["column_1"]), index.get(p["column_2"])
        if i is None or j is None:
            continue
        if p["metric"] == "CorrelationSimilarity":
            a, b = p.get("real"), p.get("synthetic")
        else:
            a, b = p.get("real_association"), p.get("synthetic_association")
        m_real[i][j] = m_real[j][i] = a
        m_synth[i][j] = m_synth[j][i] = b
    return {
        "columns": columns,
        "associations": {"names": names, "real": m_real, "synthetic": m_synth},
    }


def _histogram(r: np.ndarray, s: np.ndarray) -> dict[str, Any]:
    r, s = r[~np.isnan(r)], s[~np.isnan(s)]
    if not len(r):
        return {"type": "histogram", "edges": [], "real": [], "synthetic": []}
    lo, hi = (float(v) for v in np.quantile(r, [0.005, 0.995]))
    if hi <= lo:
        lo, hi = float(r.min()), float(r.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, HIST_BINS + 1)

    def shares(x: np.ndarray) -> list[float]:
        if not len(x):
            return [0.0] * HIST_BINS
        return (np.histogram(np.clip(x, lo, hi), edges)[0] / len(x)).tolist()

    return {"type": "histogram", "edges": edges.tolist(), "real": shares(r), "synthetic": shares(s)}


def _bars(r: Any, s: Any) -> dict[str, Any]:
    k = len(r.categories)
    rc = r.codes[r.codes >= 0]
    sc = s.codes[s.codes >= 0]
    real_counts = np.bincount(rc, minlength=k)[:k]
    real_share = real_counts / max(len(rc), 1)
    synth_counts = np.bincount(np.minimum(sc, k), minlength=k + 1)
    synth_share = synth_counts[:k] / max(len(sc), 1)
    # categories come most frequent first; a rare one is never named (the report may be shared)
    top = min(TOP_CATEGORIES, int((real_counts >= RARE_ROWS).sum()))
    labels = [str(c) for c in r.categories[:top]]
    real_out, synth_out = real_share[:top].tolist(), synth_share[:top].tolist()
    other_real = float(real_share[top:].sum())
    other_synth = float(synth_share[top:].sum() + synth_counts[k] / max(len(sc), 1))
    if other_real > 0 or other_synth > 0:
        labels.append("(other)")
        real_out.append(other_real)
        synth_out.append(other_synth)
    return {"type": "bars", "labels": labels, "real": real_out, "synthetic": synth_out}


# --------------------------------------------------------------------------------------------
# Terminal


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def terminal(report: dict[str, Any], console: Console, outputs: list[str]) -> None:
    """The summary: score, the three verdicts, the worst columns and pairs, where detail went."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    fid = report["fidelity"]
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    score = Text(_fmt(report["score"]), style="bold")
    score.append(
        f"   column shapes {_fmt(fid['column_shapes_score'])}, "
        f"column pairs {_fmt(fid['column_pair_trends_score'])}{_on_real_range(fid)}",
        style="dim",
    )
    head.add_row("Quality score", score)
    head.add_row("Detection C2ST", _detection_line(fid["detection"]))
    for label, section in (("Mode collapse", "mode_collapse"), ("Privacy", "privacy")):
        verdict = report[section]["verdict"]
        line = Text(verdict, style=verdict_style(verdict))
        reasons = report[section]["reasons"]
        if reasons:
            line.append(
                f"   {_short(reasons[0])}"
                + (f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""),
                style="",
            )
        elif report[section].get("notes"):
            line.append(f"   {_short(report[section]['notes'][0])}", style="dim")
        head.add_row(label, line)
    if report["privacy"].get("guarantee"):
        head.add_row("Guarantee", report["privacy"]["guarantee"]["statement"])
    if report["privacy"].get("membership_inference"):
        head.add_row("Privacy attacks", _attacks_line(report["privacy"]))
    if report.get("rules"):
        head.add_row("Rules", _rules_line(report["rules"]))
    util = report.get("utility")
    if util:
        metric = util["metric"]
        head.add_row(
            "Utility",
            f"{util['target']}: {metric} {_fmt(util['synthetic'][metric])} "
            f"trained on synthetic vs {_fmt(util['real'][metric])} on real "
            f"(ratio {_fmt(util['ratio'], 2)})",
        )
    console.print(Panel(head, title="synthgen report", title_align="left", expand=False))

    worst = sorted(
        (c for c in fid["column_shapes"] if c["score"] is not None), key=lambda c: c["score"]
    )[:3]
    pairs = sorted(
        (p for p in fid["column_pair_trends"] if p["counted"] and p["score"] is not None),
        key=lambda p: p["score"],
    )[:3]
    if worst or pairs:
        table = Table(
            title="Weakest columns and pairs", title_justify="left", box=None, padding=(0, 2)
        )
        table.add_column("column(s)")
        table.add_column("metric", style="dim")
        table.add_column("score", justify="right")
        for c in worst:
            table.add_row(c["column"], c["metric"], _fmt(c["score"]))
        for p in pairs:
            table.add_row(f"{p['column_1']} x {p['column_2']}", p["metric"], _fmt(p["score"]))
        console.print(table)
    for label, section in (
        ("collapse", "mode_collapse"),
        ("privacy", "privacy"),
        ("rules", "rules"),
    ):
        for reason in (report.get(section) or {}).get("reasons", [])[1:3]:
            console.print(Text(f"  {label}: {_short(reason, 140)}", style="dim"))
    if outputs:
        console.print(f"Full report: {', '.join(outputs)}", highlight=False)


def _attacks_line(priv: dict[str, Any]) -> Any:
    """Membership AUC and the largest attribute-inference risk, with intervals, or why not."""
    from rich.text import Text

    mi, ai = priv["membership_inference"], priv["attribute_inference"]
    if mi["verdict"] == "not checked":
        return Text(f"not checked   {mi['reason']}", style="dim")
    line = Text(f"membership AUC {_fmt(mi['auc'], 2)} ", style=verdict_style(mi["verdict"]))
    line.append(f"[{_fmt(mi['interval'][0], 2)}, {_fmt(mi['interval'][1], 2)}]", style="")
    if ai["columns"]:
        top = max(ai["columns"], key=lambda c: c["risk"])
        line.append(f"; attribute risk {top['risk']:+.2f} ", style=verdict_style(ai["verdict"]))
        line.append(
            f"[{top['interval'][0]:+.2f}, {top['interval'][1]:+.2f}] on {top['column']}", style=""
        )
    line.append("   (0.5 and 0: nothing leaks)", style="dim")
    return line


def _rules_line(rules: dict[str, Any]) -> Any:
    """The rules verdict, then its first reason, or how many rules every synthetic row keeps."""
    from rich.text import Text

    line = Text(rules["verdict"], style=verdict_style(rules["verdict"]))
    checked = rules["checked"]
    failing = [c for c in checked if c["verdict"] != "pass"]
    if failing:
        more = f" (+{len(failing) - 1} more)" if len(failing) > 1 else ""
        line.append(f"   {_short(rules['reasons'][0])}{more}")
    elif checked:
        line.append(f"   {len(checked)} rules of the real table checked", style="dim")
    else:
        line.append(f"   {rules['reasons'][0] if rules['reasons'] else ''}", style="dim")
    return line


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


# --------------------------------------------------------------------------------------------
# HTML


def _e(value: Any) -> str:
    return _html.escape(str(value), quote=True)


def _num(value: float, is_date: bool = False) -> str:
    if is_date:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d")
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.2e}"


def _svg_histogram(col: dict[str, Any]) -> str:
    w, h, pad = 300, 130, 22
    edges, real, synth = col["edges"], col["real"], col["synthetic"]
    if not edges:
        return "<p class='dim'>no values</p>"
    top = max(real + synth + [1e-12])
    n = len(real)
    bw = (w - 2 * pad) / n
    parts = [f"<svg viewBox='0 0 {w} {h}' width='{w}' height='{h}' role='img'>"]
    for i in range(n):
        x = pad + i * bw
        for j, (values, color) in enumerate(((real, _REAL), (synth, _SYNTH))):
            bh = (h - 2 * pad) * values[i] / top
            parts.append(
                f"<rect x='{x + j * bw / 2:.1f}' y='{h - pad - bh:.1f}' "
                f"width='{bw / 2:.1f}' height='{bh:.1f}' fill='{color}'/>"
            )
    is_date = col["kind"] == "datetime"
    parts.append(f"<line x1='{pad}' y1='{h - pad}' x2='{w - pad}' y2='{h - pad}' stroke='#999'/>")
    parts.append(f"<text x='{pad}' y='{h - 6}' class='ax'>{_e(_num(edges[0], is_date))}</text>")
    parts.append(
        f"<text x='{w - pad}' y='{h - 6}' class='ax' text-anchor='end'>"
        f"{_e(_num(edges[-1], is_date))}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _svg_bars(col: dict[str, Any]) -> str:
    labels, real, synth = col["labels"], col["real"], col["synthetic"]
    row, label_w, w = 16, 110, 300
    h = row * len(labels) + 6
    top = max(real + synth + [1e-12])
    scale = (w - label_w - 62) / top  # room for the share labels
    parts = [f"<svg viewBox='0 0 {w} {h}' width='{w}' height='{h}' role='img'>"]
    for i, label in enumerate(labels):
        y = 3 + i * row
        short = label if len(label) <= 16 else label[:15] + "\u2026"
        parts.append(
            f"<text x='{label_w - 4}' y='{y + 11}' class='ax' text-anchor='end'>"
            f"<title>{_e(label)}</title>{_e(short)}</text>"
        )
        parts.append(
            f"<rect x='{label_w}' y='{y}' width='{real[i] * scale:.1f}' height='7' fill='{_REAL}'/>"
        )
        parts.append(
            f"<rect x='{label_w}' y='{y + 7}' width='{synth[i] * scale:.1f}' "
            f"height='7' fill='{_SYNTH}'/>"
        )
        parts.append(
            f"<text x='{label_w + max(real[i], synth[i]) * scale + 3:.1f}' "
            f"y='{y + 11}' class='ax'>{real[i]:.0%}/{synth[i]:.0%}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _heat_color(value: float | None) -> str:
    if value is None:
        return "#e5e7eb"
    v = max(-1.0, min(1.0, value))
    if v >= 0:  # white to red
        return f"rgb(255,{int(255 - 175 * v)},{int(255 - 195 * v)})"
    return f"rgb({int(255 + 200 * v)},{int(255 + 120 * v)},255)"  # white to blue


def _svg_heatmap(names: list[str], matrix: list[list[float | None]], title: str) -> str:
    n = len(names)
    cell = max(8, min(22, 360 // max(n, 1)))
    label = 120
    size = label + n * cell + 4
    parts = [
        f"<figure><figcaption>{_e(title)}</figcaption>"
        f"<svg viewBox='0 0 {size} {size}' width='{size}' height='{size}' role='img'>"
    ]
    for i, name in enumerate(names):
        short = name if len(name) <= 18 else name[:17] + "\u2026"
        parts.append(
            f"<text x='{label - 4}' y='{label + i * cell + cell * 0.7:.1f}' "
            f"class='ax' text-anchor='end'>{_e(short)}</text>"
        )
        x = label + i * cell + cell * 0.7
        parts.append(
            f"<text x='{x:.1f}' y='{label - 4}' class='ax' "
            f"transform='rotate(-60 {x:.1f} {label - 4})'>{_e(short)}</text>"
        )
        for j in range(n):
            value = matrix[i][j]
            tip = "n/a" if value is None else f"{value:.2f}"
            parts.append(
                f"<rect x='{label + j * cell}' y='{label + i * cell}' width='{cell}' "
                f"height='{cell}' fill='{_heat_color(value)}' stroke='#fff'>"
                f"<title>{_e(names[i])} x {_e(names[j])}: {tip}</title></rect>"
            )
    parts.append("</svg></figure>")
    return "".join(parts)


def _svg_grouped(
    labels: list[str], series: list[tuple[str, list[float], str]], top: float | None = None
) -> str:
    w, h, pad = 420, 170, 26
    values = [v for _, vs, _ in series for v in vs if v is not None]
    top = top or max(values + [1e-12])
    group = (w - 2 * pad) / len(labels)
    bw = group * 0.8 / len(series)
    parts = [f"<svg viewBox='0 0 {w} {h}' width='{w}' height='{h}' role='img'>"]
    for i, label in enumerate(labels):
        gx = pad + i * group + group * 0.1
        for j, (name, vs, color) in enumerate(series):
            v = vs[i] or 0.0
            bh = (h - 2 * pad) * min(v, top) / top
            parts.append(
                f"<rect x='{gx + j * bw:.1f}' y='{h - pad - bh:.1f}' width='{bw:.1f}' "
                f"height='{bh:.1f}' fill='{color}'><title>{_e(name)} {_e(label)}: "
                f"{v:.3f}</title></rect>"
            )
        parts.append(
            f"<text x='{gx + group * 0.4:.1f}' y='{h - 8}' class='ax' "
            f"text-anchor='middle'>{_e(label)}</text>"
        )
    parts.append(f"<line x1='{pad}' y1='{h - pad}' x2='{w - pad}' y2='{h - pad}' stroke='#999'/>")
    parts.append("</svg>")
    return "".join(parts)


def _svg_lines(edges: list[float], series: list[tuple[str, list[float], str]]) -> str:
    w, h, pad = 420, 170, 26
    top = max([v for _, vs, _ in series for v in vs] + [1e-12])
    mids = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    span = (edges[-1] - edges[0]) or 1.0
    parts = [f"<svg viewBox='0 0 {w} {h}' width='{w}' height='{h}' role='img'>"]
    for _, vs, color in series:
        points = " ".join(
            f"{pad + (m - edges[0]) / span * (w - 2 * pad):.1f},"
            f"{h - pad - (h - 2 * pad) * v / top:.1f}"
            for m, v in zip(mids, vs)
        )
        parts.append(f"<polyline points='{points}' fill='none' stroke='{color}' stroke-width='2'/>")
    parts.append(f"<line x1='{pad}' y1='{h - pad}' x2='{w - pad}' y2='{h - pad}' stroke='#999'/>")
    parts.append(f"<text x='{pad}' y='{h - 8}' class='ax'>0</text>")
    parts.append(
        f"<text x='{w - pad}' y='{h - 8}' class='ax' text-anchor='end'>{edges[-1]:.2f}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;
max-width:1180px;color:#1f2937;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid
#e5e7eb;padding-bottom:4px}.dim{color:#6b7280}.cards{display:flex;gap:12px;flex-wrap:wrap;
margin:14px 0}.card{border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;min-width:170px}
.card b{display:block;font-size:24px}.badge{display:inline-block;color:#fff;border-radius:4px;
padding:1px 8px;font-weight:600}.grid{display:grid;grid-template-columns:repeat(auto-fill,
minmax(320px,1fr));gap:14px}.cell{border:1px solid #e5e7eb;border-radius:8px;padding:8px}
.cell h3{font-size:14px;margin:0 0 4px}.ax{font-size:10px;fill:#4b5563}table{border-collapse:
collapse;margin:6px 0}td,th{padding:3px 10px;border-bottom:1px solid #f1f5f9;text-align:left}
ul{margin:4px 0 8px 18px;padding:0}figure{display:inline-block;margin:0 12px 0 0}
figcaption{font-weight:600;margin-bottom:2px}.key span{display:inline-block;width:10px;
height:10px;margin:0 4px 0 10px}
"""


#: Pair trends binned on the real range that read this much above SDMetrics' own-range binning
#: are shown beside it.
_RANGE_GAP = 0.02


def _on_real_range(fid: dict[str, Any]) -> str:
    """`(0.912 binned on the real range)` where the pair trends read that much higher with
    the synthetic numbers binned on the real columns' range (see
    `synthgen.compare.fidelity.Reference.pair_trends_on_real_range`), else nothing."""
    other, own = fid.get("column_pair_trends_on_real_range"), fid["column_pair_trends_score"]
    if other is None or own is None or np.isnan(other) or np.isnan(own):
        return ""
    return f" ({_fmt(other)} binned on the real range)" if other - own >= _RANGE_GAP else ""


def _badge(verdict: str) -> str:
    return f"<span class='badge' style='background:{_color(verdict)}'>{_e(verdict)}</span>"


def _reasons(section: dict[str, Any]) -> str:
    items = section.get("reasons", []) + section.get("notes", [])
    if not items:
        return "<p class='dim'>Nothing to report.</p>"
    return "<ul>" + "".join(f"<li>{_e(r)}</li>" for r in items) + "</ul>"


def html(report: dict[str, Any]) -> str:
    """The whole page."""
    fid, col, priv = report["fidelity"], report["mode_collapse"], report["privacy"]
    rules = report.get("rules") or {"verdict": "pass", "reasons": [], "checked": []}
    charts = report.get("charts") or {}
    tables = report["tables"]
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>synthgen report: score {_fmt(report['score'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>synthgen quality report</h1>",
        f"<p class='dim'>{tables['synthetic']['rows']:,} synthetic rows against "
        f"{tables['real']['rows']:,} real rows"
        + (f" and a holdout of {tables['holdout']['rows']:,}" if tables.get("holdout") else "")
        + f"; synthgen {_e(report['synthgen_version'])}, report format "
        f"{report['version']}, built in {report['seconds']:.1f} s.</p>",
        "<div class='cards'>",
        f"<div class='card'>Quality score<b>{_fmt(report['score'])}</b>"
        f"<span class='dim'>shapes {_fmt(fid['column_shapes_score'])}, pairs "
        f"{_fmt(fid['column_pair_trends_score'])}{_e(_on_real_range(fid))}</span></div>",
        f"<div class='card'>Mode collapse<b>{_badge(col['verdict'])}</b></div>",
        f"<div class='card'>Privacy<b>{_badge(priv['verdict'])}</b></div>",
        f"<div class='card'>Rules<b>{_badge(rules['verdict'])}</b><span class='dim'>"
        f"{len(rules['checked'])} checked</span></div>",
        f"<div class='card'>Detection C2ST<b>{_fmt(fid['detection'].get('c2st'), 2)}</b>"
        f"<span class='dim'>AUC {_fmt(fid['detection'].get('auc'), 2)}; 1: indistinguishable"
        + "".join(f"; {_e(g['column'])}" for g in _giveaways(fid["detection"])[:1])
        + "</span></div>",
    ]
    util = report.get("utility")
    if util:
        out.append(
            f"<div class='card'>Utility ({_e(util['target'])})<b>"
            f"{_fmt(util['ratio'], 2)}</b><span class='dim'>{_e(util['metric'])} "
            "synthetic / real</span></div>"
        )
    out.append("</div>")
    out.append("<h2>Mode collapse " + _badge(col["verdict"]) + "</h2>" + _reasons(col))
    out.append("<h2>Privacy " + _badge(priv["verdict"]) + "</h2>" + _reasons(priv))
    out.append(_rules_section(rules))
    out.append(_fidelity_section(fid, charts))
    out.append(_collapse_section(col))
    out.append(_privacy_section(priv))
    out.append(_attacks_section(priv))
    if util:
        out.append(_utility_section(util))
    out.append(
        "<p class='dim'>Shapes and pair trends follow SDMetrics' QualityReport "
        "definitions; keys of the JSON report are documented in "
        "docs/report-schema.md.</p></body></html>"
    )
    return "\n".join(out)


def _key_legend() -> str:
    return (
        f"<p class='key dim'><span style='background:{_REAL}'></span>real"
        f"<span style='background:{_SYNTH}'></span>synthetic</p>"
    )


# Giveaway columns the terminal names, and the least AUC a column must cost to be named there.
_GIVEAWAY_SHOWN, _GIVEAWAY_LEAST = 3, 0.01
# The least share of real rows holding unwritten rare categories that the report mentions.
_RARE_CEILING_LEAST = 0.01


def _giveaways(detection: dict[str, Any]) -> list[dict[str, Any]]:
    """The columns worth naming: those whose shuffling costs the classifier at least 0.01 AUC."""
    return [
        g for g in detection.get("giveaway_columns") or [] if g["importance"] >= _GIVEAWAY_LEAST
    ]


def _detection_line(detection: dict[str, Any]) -> Text:
    """C2ST (1: rows cannot be told apart), the AUC behind it, and the columns that tell."""
    from rich.text import Text

    line = Text(_fmt(detection.get("c2st"), 2), style="bold")
    line.append(
        f"   AUC {_fmt(detection.get('auc'), 2)}; 1 = real and synthetic rows cannot be told "
        "apart, 0 = always",
        style="dim",
    )
    shown = _giveaways(detection)[:_GIVEAWAY_SHOWN]
    if shown:
        line.append(
            "\n"
            + "rows given away by: "
            + ", ".join(f"{g['column']} ({g['importance']:.2f} AUC)" for g in shown)
        )
    ceiling = _rare_ceiling(detection)
    if ceiling:
        line.append("\n" + ceiling, style="dim")
    return line


def _rare_ceiling(detection: dict[str, Any]) -> str | None:
    """What the categories too rare to write cost detection, where it is at least 1% of rows."""
    share = detection.get("unwritten_rare") or 0.0
    if share < _RARE_CEILING_LEAST:
        return None
    return (
        f"{share:.0%} of real rows hold categories seen in fewer than "
        f"{detection.get('rare_rows')} rows, which no synthetic row holds (never written, for "
        f"privacy): they alone keep C2ST under about {1 - share:.2f}"
    )


def _detection_section(detection: dict[str, Any]) -> str:
    """The detection test: C2ST, the AUC, and every column that gives rows away."""
    out = [
        "<h2>Detection: can a classifier tell the rows apart?</h2><p>C2ST "
        f"<b>{_fmt(detection.get('c2st'))}</b> (2 &times; (1 &minus; AUC); 1: indistinguishable, "
        f"0: always told apart), AUC {_fmt(detection.get('auc'))}: gradient boosting, "
        f"{detection.get('folds', '')} folds, {detection.get('rows', 0):,} rows of each side.</p>"
    ]
    ceiling = _rare_ceiling(detection)
    if ceiling:
        out.append(f"<p>{_e(ceiling)}.</p>")
    giveaways = detection.get("giveaway_columns") or []
    if giveaways:
        out.append(
            "<p class='dim'>The columns that give synthetic rows away: the AUC the classifier "
            "loses when that column alone is shuffled. Fix the first ones first.</p>"
            "<table><tr><th>column</th><th>AUC lost</th></tr>"
            + "".join(
                f"<tr><td>{_e(g['column'])}</td><td>{g['importance']:.3f}</td></tr>"
                for g in giveaways
            )
            + "</table>"
        )
    return "".join(out)


def _fidelity_section(fid: dict[str, Any], charts: dict[str, Any]) -> str:
    shapes = {c["column"]: c for c in fid["column_shapes"]}
    out = [_detection_section(fid["detection"])]
    out += ["<h2>Columns: real against synthetic</h2>", _key_legend(), "<div class='grid'>"]
    for c in charts.get("columns", []):
        shape = shapes.get(c["column"], {})
        picture = _svg_histogram(c) if c["type"] == "histogram" else _svg_bars(c)
        nulls = c["null"]
        null_text = (
            f"; nulls {nulls['real']:.1%} real, {nulls['synthetic']:.1%} synthetic"
            if nulls["real"] or nulls["synthetic"]
            else ""
        )
        out.append(
            f"<div class='cell'><h3>{_e(c['column'])} <span class='dim'>"
            f"{_e(c['kind'])}</span></h3>{picture}<div class='dim'>"
            f"{_e(shape.get('metric', ''))} {_fmt(shape.get('score'))}; coverage "
            f"{_fmt(shape.get('coverage'), 2)}{null_text}</div></div>"
        )
    out.append("</div>")
    if fid.get("ignored_columns"):
        names = ", ".join(f"{c['column']} ({c['kind']})" for c in fid["ignored_columns"])
        out.append(f"<p class='dim'>Not compared (keys and free text): {_e(names)}</p>")
    assoc = charts.get("associations")
    if assoc and len(assoc["names"]) > 1:
        names = assoc["names"]
        diff = [
            [None if a is None or b is None else b - a for a, b in zip(ra, rb)]
            for ra, rb in zip(assoc["real"], assoc["synthetic"])
        ]
        out.append(
            "<h2>Column pairs: associations</h2><p class='dim'>Pearson's r for two "
            "numeric or date columns, Cramer's V otherwise (numbers cut in 10 bins); "
            "red positive, blue negative. Hover a cell for its value.</p>"
        )
        out.append(_svg_heatmap(names, assoc["real"], "real"))
        out.append(_svg_heatmap(names, assoc["synthetic"], "synthetic"))
        out.append(_svg_heatmap(names, diff, "difference (synthetic - real)"))
    pairs = sorted(
        (p for p in fid["column_pair_trends"] if p["counted"]),
        key=lambda p: (p["score"] is None, p["score"]),
    )[:10]
    if pairs:
        out.append(
            "<h3>Weakest counted pairs</h3><table><tr><th>pair</th><th>metric</th>"
            "<th>score</th></tr>"
        )
        out.extend(
            f"<tr><td>{_e(p['column_1'])} x {_e(p['column_2'])}</td><td>"
            f"{_e(p['metric'])}</td><td>{_fmt(p['score'])}</td></tr>"
            for p in pairs
        )
        out.append("</table>")
    return "".join(out)


def _collapse_section(col: dict[str, Any]) -> str:
    out = ["<h2>Mode collapse: evidence</h2>"]
    prdc = col.get("prdc", {})
    if prdc.get("synthetic"):
        labels = ["precision", "recall", "density", "coverage"]
        out.append(
            f"<p class='dim'>k-nearest-neighbour precision, recall, density and coverage "
            f"(Naeem et al. 2020, k={prdc['k']}, {prdc['rows']:,} rows each): synthetic "
            "rows against real rows, and a second set of real rows against the same "
            "(the baseline a perfect generator reaches).</p>"
        )
        out.append(
            f"<p class='key dim'><span style='background:{_SYNTH}'></span>synthetic"
            f"<span style='background:{_REAL}'></span>real baseline</p>"
        )
        out.append(
            _svg_grouped(
                labels,
                [
                    ("synthetic", [prdc["synthetic"][m] for m in labels], _SYNTH),
                    ("real baseline", [prdc["real_baseline"][m] for m in labels], _REAL),
                ],
            )
        )
    dup = col.get("duplicates", {})
    if dup.get("synthetic_rate") is not None:
        out.append(
            f"<p>Duplicate rows: {dup['synthetic_rate']:.1%} of synthetic rows repeat "
            f"another ({dup['synthetic_distinct']:,} distinct in {dup['rows']:,}); "
            f"{dup['real_rate']:.1%} of as many real rows do.</p>"
        )
    flagged = [c for c in col.get("columns", []) if c["verdict"] != "none"]
    if flagged:
        out.append("<table><tr><th>column</th><th>verdict</th><th>evidence</th></tr>")
        out.extend(
            f"<tr><td>{_e(c['column'])}</td><td>{_badge(c['verdict'])}</td><td>"
            + "<br>".join(_e(r) for r in c["reasons"])
            + "</td></tr>"
            for c in flagged
        )
        out.append("</table>")
    return "".join(out)


def _privacy_section(priv: dict[str, Any]) -> str:
    out = ["<h2>Privacy: distances to the training rows</h2>"]
    if priv.get("guarantee"):
        out.append(f"<p>The model is {_e(priv['guarantee']['statement'])}.</p>")
    dcr = priv.get("dcr")
    if dcr:
        hist = dcr["histogram"]
        out.append(
            f"<p>{dcr['closer_share']:.0%} of synthetic rows are closer to the training "
            "rows than holdout rows are (50% is healthy). Distance to the closest "
            f"training row: median {dcr['synthetic']['median']:.3f} synthetic, "
            f"{dcr['holdout']['median']:.3f} holdout.</p>"
        )
        out.append(
            f"<p class='key dim'><span style='background:{_SYNTH}'></span>synthetic"
            f"<span style='background:{_REAL}'></span>holdout</p>"
        )
        out.append(
            _svg_lines(
                hist["edges"],
                [("synthetic", hist["synthetic"], _SYNTH), ("holdout", hist["holdout"], _REAL)],
            )
        )
        nndr = priv["nndr"]
        out.append(
            f"<p>Nearest-neighbour distance ratio: median {nndr['synthetic_median']:.2f} "
            f"synthetic, {nndr['holdout_median']:.2f} holdout; "
            f"{nndr['below_holdout_p05']:.1%} of synthetic rows below the holdout's 5th "
            "percentile (5% is healthy).</p>"
        )
    copies = priv["exact_copies"]
    out.append(
        f"<p>Exact copies of training rows: {copies['synthetic_share']:.2%} of synthetic "
        f"rows, {copies['baseline_share']:.2%} of {_e(copies['baseline'])}.</p>"
    )
    rare = priv["rare_values"]
    leaked = [c for c in rare["columns"] if c["values"]]
    if leaked:
        out.append(
            f"<p>Values seen in fewer than {rare['rare_rows']} training rows written "
            "verbatim: "
            + ", ".join(
                f"{_e(c['column'])} ({c['values']} values, {c['rows']} rows)" for c in leaked
            )
            + "</p>"
        )
    ext = priv.get("extreme_values")  # (absent from reports written before it)
    if ext and ext["columns"]:
        out.append(
            f"<p>Numbers or dates beyond what {ext['rare_rows']} training rows reach: "
            + ", ".join(f"{_e(c['column'])} ({c['rows']} rows)" for c in ext["columns"])
            + f"; {ext['synthetic_share']:.2%} of synthetic rows"
            + (
                ""
                if ext["holdout_share"] is None
                else f", {ext['holdout_share']:.2%} of holdout rows"
            )
            + ".</p>"
        )
    return "".join(out)


def _attacks_section(priv: dict[str, Any]) -> str:
    """Membership and attribute inference: each figure with its interval and verdict."""
    mi, ai = priv.get("membership_inference"), priv.get("attribute_inference")
    if not mi:
        return ""
    out = ["<h2>Privacy: attacks</h2>"]
    if mi["verdict"] == "not checked":
        return out[0] + f"<p class='dim'>Not checked: {_e(mi['reason'])}.</p>"
    low, high = mi["interval"]
    rows = mi["rows"]
    out.append(
        f"<p>Membership inference {_badge(mi['verdict'])}: an attacker holding the synthetic "
        f"rows calls a real row a training row when a synthetic row lies close to it. Over "
        f"{rows['training']:,} training and {rows['holdout']:,} holdout rows its AUC is "
        f"{mi['auc']:.3f} (95% interval {low:.3f} to {high:.3f}; 0.5 when nothing leaks, 1 "
        "for a copy of the training table).</p>"
    )
    if ai["verdict"] == "not checked":
        out.append(f"<p class='dim'>Attribute inference not checked: {_e(ai['reason'])}.</p>")
        return "".join(out)
    out.append(
        f"<p>Attribute inference {_badge(ai['verdict'])}: an attacker who knows every other "
        "column of a person reads the secret one off the closest synthetic row. Risk: its "
        "accuracy on training rows minus on holdout rows (0 when nothing leaks).</p>"
        "<table><tr><th>secret column</th><th>training accuracy</th><th>holdout accuracy</th>"
        "<th>risk (95% interval)</th><th>verdict</th></tr>"
    )
    out.extend(
        f"<tr><td>{_e(c['column'])}</td><td>{c['training_accuracy']:.1%}</td>"
        f"<td>{c['holdout_accuracy']:.1%}</td><td>{c['risk']:+.3f} ({c['interval'][0]:+.3f} "
        f"to {c['interval'][1]:+.3f})</td><td>{_badge(c['verdict'])}</td></tr>"
        for c in ai["columns"]
    )
    out.append("</table>")
    return "".join(out)


def _rules_section(rules: dict[str, Any]) -> str:
    """Each rule of the real table with the share of synthetic (and holdout) rows breaking it."""
    out = ["<h2>Rules of the real table " + _badge(rules["verdict"]) + "</h2>", _reasons(rules)]
    if rules["checked"]:
        out.append(
            "<table><tr><th>rule</th><th>kind</th><th>synthetic rows breaking it</th>"
            "<th>holdout rows breaking it</th><th>verdict</th></tr>"
        )
        for c in rules["checked"]:
            held = c["holdout_broken_share"]
            out.append(
                f"<tr><td>{_e(c['rule'])}</td><td>{_e(c['kind'])}</td>"
                f"<td>{c['synthetic_broken_share']:.2%} ({c['synthetic_broken_rows']:,})</td>"
                f"<td>{'n/a' if held is None else f'{held:.2%}'}</td>"
                f"<td>{_badge(c['verdict'])}</td></tr>"
            )
        out.append("</table>")
    return "".join(out)


def _utility_section(util: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{_e(k)}</td><td>{_fmt(util['real'][k])}</td><td>"
        f"{_fmt(util['synthetic'][k])}</td></tr>"
        for k in util["real"]
    )
    return (
        f"<h2>Utility: predicting {_e(util['target'])}</h2><p class='dim'>"
        f"{_e(util['task'])}, gradient boosting trained on {util['train_rows']:,} rows, "
        f"tested on {_e(util['tested_on'])} ({util['test_rows']:,} rows).</p><table><tr>"
        f"<th>metric</th><th>trained on real</th><th>trained on synthetic</th></tr>{rows}"
        "</table>"
    )
