"""A cohort's results as one self-contained HTML page: waterfall plot, counts per group, full table.

The page has no external file: the plot is a PNG inside the page (a data URI), so it can be
mailed or archived as it is. Every text from the manifest or the files is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from ..atomic import Writer, write_atomically
from ..vocabulary import DECREASE, INCREASE, METHOD_NAMES, NO_CHANGE, Method
from .columns import COUNT_COLUMNS, FAILED, OK
from .results import category_counts

COLOURS = {INCREASE: "#c0392b", NO_CHANGE: "#95a5a6", DECREASE: "#2471a3"}
#: Above this many hips the plot's bars are too narrow to name each one.
MAX_NAMED_BARS = 40

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1150px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.meta { color: #555; margin-top: 0; }
img { max-width: 100%; }
table { border-collapse: collapse; font-size: 0.88em; }
th, td { border: 1px solid #d5d8dc; padding: 0.3em 0.6em; vertical-align: top; }
th { background: #f2f4f4; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.failed td { background: #fdedec; }
td.nowrap { white-space: nowrap; }
td.warnings { font-size: 0.85em; color: #666; max-width: 28em; }
"""


def _hip_name(row: Mapping[str, Any], several_readers: bool) -> str:
    name = f"{row['patient_id']} {row['side']}"
    return f"{name} ({row['reader']})" if several_readers and row["reader"] else name


def waterfall_png(rows: Sequence[Mapping[str, Any]], threshold_pct: float) -> bytes:
    """Bar per hip of its change (%), largest increase first, with the ±threshold lines, as PNG.

    Hips without a change (a zero baseline, or not measured) cannot be drawn as a percentage and
    are left out; the page says how many.
    """
    # matplotlib is slow to import: only a report needs it. The Figure API needs no GUI backend.
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    plotted = sorted(
        (row for row in rows if row["status"] == OK and row["change_pct"] is not None),
        key=lambda row: -row["change_pct"],
    )
    several_readers = len({row["reader"] for row in rows}) > 1
    # Narrower for a few hips, so that three bars do not look like three walls.
    width = min(max(4 + 0.35 * len(plotted), 6.5), 10)
    figure = Figure(figsize=(width, 4.6), dpi=110, layout="constrained")
    axes = figure.add_subplot()
    changes = [row["change_pct"] for row in plotted]
    axes.bar(
        range(len(plotted)),
        changes,
        width=0.8,
        color=[COLOURS[row["category"]] for row in plotted],
        edgecolor="none",
    )
    _threshold_lines(axes, threshold_pct)
    top = max([abs(change) for change in changes] + [threshold_pct]) * 1.15
    axes.set_ylim(-top, top)
    axes.set_xlim(-0.6, max(len(plotted), 1) - 0.4)
    axes.set_ylabel("change in lesion volume (%)")
    axes.set_title(f"Change per hip, largest increase first ({len(plotted)} hips)", fontsize=11)
    if len(plotted) <= MAX_NAMED_BARS:
        axes.set_xticks(range(len(plotted)), [_hip_name(row, several_readers) for row in plotted])
        axes.tick_params(axis="x", labelrotation=45 if len(plotted) > 8 else 0, labelsize=9)
        for label in axes.get_xticklabels():
            label.set_horizontalalignment("right" if len(plotted) > 8 else "center")
    else:
        axes.set_xticks([])
        axes.set_xlabel("hips, sorted by change")
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(
        handles=[Patch(color=colour, label=category) for category, colour in COLOURS.items()],
        loc="upper right",
        frameon=False,
        fontsize=9,
    )
    return png_bytes(figure)


def _threshold_lines(axes: Any, threshold_pct: float) -> None:
    """Dashed lines at ±threshold, labelled at the right edge, and the zero line."""
    for level in (threshold_pct, -threshold_pct):
        axes.axhline(level, color="#444", linestyle="--", linewidth=1)
        axes.annotate(
            f"{level:+g}%",
            (1, level),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            color="#444",
        )
    axes.axhline(0, color="#222", linewidth=0.8)


def png_bytes(figure: Any) -> bytes:
    """A matplotlib Figure as PNG bytes (no software tag: the same figure gives the same bytes)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def png_img(png: bytes, alt: str) -> str:
    """An ``<img>`` holding ``png`` itself (a data URI), so the page needs no other file."""
    return (
        f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
    )


def page(title: str, body: Sequence[str]) -> str:
    """A self-contained HTML page: the shared style, ``title`` as heading, then ``body`` (HTML)."""
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    return "\n".join([*head, *body, "</body></html>"]) + "\n"


def page_writer(text: str) -> Writer:
    """What writes an HTML page (UTF-8) to a path."""
    return lambda temporary: temporary.write_text(text, encoding="utf-8")


def _number(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def html_table(
    header: Sequence[str], body: Sequence[Sequence[tuple[str, str]]], row_classes: Sequence[str]
) -> str:
    """An HTML table; each cell is (css class, already escaped html)."""
    head = "".join(f"<th>{html.escape(name)}</th>" for name in header)
    lines = [
        f'<tr class="{css}">' + "".join(f'<td class="{kind}">{cell}</td>' for kind, cell in cells) + "</tr>"
        for css, cells in zip(row_classes, body, strict=True)
    ]
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _counts_table(rows: Sequence[Mapping[str, Any]]) -> str:
    body = [
        [("", html.escape(group))]
        + [("number", str(counter[column])) for column in COUNT_COLUMNS]
        + [("number", str(sum(counter.values())))]
        for group, counter in category_counts(rows)
    ]
    return html_table(["group", *COUNT_COLUMNS, "hips"], body, [""] * len(body))


def _roi_cell(row: Mapping[str, Any]) -> str:
    """The segments or ROIs measured (``roi``): once when both timepoints name the same, else each."""
    baseline, followup = row.get("baseline_roi") or "", row.get("followup_roi") or ""
    if baseline == followup:
        return html.escape(baseline)
    return "<br>".join(
        f"{when}: {html.escape(names or 'by the usual rule')}"
        for when, names in (("baseline", baseline), ("follow-up", followup))
    )


def _results_table(rows: Sequence[Mapping[str, Any]]) -> str:
    # The roi column only when a row restricts its mask to named segments or ROIs.
    roi = any(row.get("baseline_roi") or row.get("followup_roi") for row in rows)
    header = [
        "patient",
        "side",
        "reader",
        "group",
        *(["roi"] if roi else []),
        "baseline (cm³)",
        "follow-up (cm³)",
        "change",
        "category",
        "status",
        "warnings",
    ]
    body = [
        [
            ("", html.escape(row["patient_id"])),
            ("", html.escape(row["side"])),
            ("", html.escape(row["reader"])),
            ("", html.escape(row["group"])),
            *([("", _roi_cell(row))] if roi else []),
            ("number", _number(row["baseline_volume_cm3"], ".3f")),
            ("number", _number(row["followup_volume_cm3"], ".3f")),
            ("number", _number(row["change_pct"], "+.1f") + ("%" if row["change_pct"] is not None else "")),
            ("nowrap", html.escape(row["category"] or "")),
            ("", html.escape(row["status"])),
            ("warnings", "<br>".join(html.escape(w) for w in row["warnings"].split(" | ") if w)),
        ]
        for row in rows
    ]
    return html_table(header, body, ["" if row["status"] == OK else FAILED for row in rows])


def render_report(
    rows: Sequence[Mapping[str, Any]], *, title: str, method: Method, threshold_pct: float
) -> str:
    """The report page as HTML text (see :func:`write_report`)."""
    from .. import __version__  # importlib.metadata: only a report pays for it, not every batch

    left_out = Counter(
        row["category"] if row["status"] == OK else FAILED
        for row in rows
        if row["status"] != OK or row["change_pct"] is None
    )
    patients = len({row["patient_id"] for row in rows})
    parts = [
        f'<p class="meta">{len(rows)} hips of {patients} patients; volume = {html.escape(METHOD_NAMES[method].formula)};'
        f" a change of ±{threshold_pct:g}% or more is an increase or a decrease; onfh-volume {__version__}</p>",
        "<h2>Waterfall</h2>",
        png_img(
            waterfall_png(rows, threshold_pct),
            f"Waterfall plot: change in lesion volume per hip, with the ±{threshold_pct:g}% lines",
        ),
    ]
    if left_out:
        listed = ", ".join(f"{count} {html.escape(category)}" for category, count in sorted(left_out.items()))
        parts.append(
            f"<p>Not in the plot (no baseline volume to compare with, or not measured): {listed}.</p>"
        )
    parts += [
        "<h2>Hips per group and category</h2>",
        _counts_table(rows),
        "<h2>All hips</h2>",
        _results_table(rows),
    ]
    return page(title, parts)


def report_writer(
    rows: Sequence[Mapping[str, Any]], *, title: str, method: Method, threshold_pct: float
) -> Writer:
    """What writes the cohort report (HTML, self-contained) to a path.

    Raises
    ------
    MissingExtraError
        When matplotlib, which draws its plot, is not installed (the ``report`` extra).
    """
    from ..extras import require

    require("report", "the cohort report")
    return page_writer(render_report(rows, title=title, method=method, threshold_pct=threshold_pct))


def write_report(
    path: str | PathLike[str],
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str,
    method: Method,
    threshold_pct: float,
    overwrite: bool = False,
) -> Path:
    """Write the cohort report (HTML, self-contained) atomically.

    Raises
    ------
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    """
    return write_atomically(
        path,
        report_writer(rows, title=title, method=method, threshold_pct=threshold_pct),
        overwrite=overwrite,
    )
