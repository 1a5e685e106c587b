"""The agreement and statistics reports: self-contained HTML pages with their plots inline.

They share the cohort report's page, table and image helpers; every statistic is named next to its
value, and every text from the files is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..atomic import Writer
from ..batch.report import COLOURS, html_table, page, page_writer, png_bytes, png_img
from ..vocabulary import DECREASE, INCREASE, METHOD_NAMES
from .agreement import Agreement
from .statistics import CHANGE_CATEGORIES, WHICH_HIPS, Statistics
from .summary import agreement_rows, p_text, test_text
from .survival import Survival

THRESHOLD_COLOUR = "#c0392b"
SDC_COLOUR = "#2471a3"
GROUP_COLOURS = ("#2471a3", "#c0392b", "#229954", "#7d3c98", "#b9770e")


def _rows_table(rows: Sequence[tuple[str, str]], header: Sequence[str] = ("statistic", "value")) -> str:
    """A two-column table of text rows, escaped."""
    body = [[("", html.escape(a)), ("", html.escape(b))] for a, b in rows]
    return html_table(header, body, [""] * len(rows))


# --- Agreement -------------------------------------------------------------------------------


def agreement_png(result: Agreement) -> bytes:
    """Bland–Altman (difference % against mean) with the SDC and threshold lines, and reader-vs-reader."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 5.4), dpi=110, layout="constrained")
    ba, scatter = figure.subplots(1, 2)
    volume = result.volume
    for k, row in enumerate(result.pairs_by_readers()):
        (a, b), points = row
        means = [(x + y) / 2 for x, y in points]
        differences = [(y - x) / ((x + y) / 2) * 100 for x, y in points]
        colour = GROUP_COLOURS[k % len(GROUP_COLOURS)]
        label = f"{b} - {a}"
        ba.scatter(means, differences, s=28, color=colour, label=label, zorder=3)
        scatter.scatter(
            [x for x, _ in points], [y for _, y in points], s=28, color=colour, label=f"{b} vs {a}", zorder=3
        )
    if volume.bland_altman is not None:
        bias, (low, high) = volume.bland_altman.bias_pct, volume.bland_altman.loa_pct
        ba.axhline(bias, color="#333", linewidth=1, label=f"bias {bias:+.1f}%")
        for level in (low, high):
            ba.axhline(level, color="#333", linestyle="--", linewidth=1)
        ba.plot(
            [], [], color="#333", linestyle="--", label=f"limits of agreement {low:+.1f}% to {high:+.1f}%"
        )
    for sign in (1, -1):
        ba.axhline(
            sign * volume.sdc_pct,
            color=SDC_COLOUR,
            linewidth=1.6,
            label=f"±SDC {volume.sdc_pct:.1f}%" if sign > 0 else None,
        )
        ba.axhline(
            sign * result.threshold_pct, color=THRESHOLD_COLOUR, linestyle=":", linewidth=1.6,
            label=f"±{result.threshold_pct:g}% change threshold" if sign > 0 else None,
        )  # fmt: skip
    ba.set_xlabel("mean of the two readers (cm³)")
    ba.set_ylabel("difference (% of the pair's mean)")
    ba.set_title("Bland–Altman: readers' difference against size", fontsize=11)
    ba.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    top = max(v for row in result.pairs for v in (row["volume_a_cm3"], row["volume_b_cm3"])) * 1.08
    scatter.plot([0, top], [0, top], color="#777", linewidth=1, label="identity (perfect agreement)")
    scatter.set_xlim(0, top)
    scatter.set_ylim(0, top)
    scatter.set_aspect("equal")
    scatter.set_xlabel(
        f"reader {result.readers[0]} (cm³)" if len(result.readers) == 2 else "first reader (cm³)"
    )
    scatter.set_ylabel(
        f"reader {result.readers[1]} (cm³)" if len(result.readers) == 2 else "second reader (cm³)"
    )
    scatter.set_title("Reader against reader, one point per target", fontsize=11)
    scatter.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    for axes in (ba, scatter):
        axes.spines[["top", "right"]].set_visible(False)
    return png_bytes(figure)


def _pairs_table(result: Agreement) -> str:
    header = [
        "patient",
        "side",
        "timepoint",
        "readers",
        "volume a (cm³)",
        "volume b (cm³)",
        "Dice",
        "HD95 (mm)",
        "note",
    ]
    body = [
        [
            ("", html.escape(row["patient_id"])),
            ("", html.escape(row["side"])),
            ("", html.escape(row["timepoint"])),
            ("nowrap", html.escape(f"{row['reader_a']} / {row['reader_b']}")),
            ("number", f"{row['volume_a_cm3']:.3f}"),
            ("number", f"{row['volume_b_cm3']:.3f}"),
            ("number", "" if row["dice"] is None else f"{row['dice']:.3f}"),
            ("number", "" if row["hd95_mm"] is None else f"{row['hd95_mm']:.2f}"),
            ("", html.escape(row["note"])),
        ]
        for row in result.pairs
    ]
    return html_table(header, body, [""] * len(body))


def render_agreement(result: Agreement) -> str:
    """The agreement report page as HTML text."""
    parts = [
        f'<p class="meta">{html.escape(result.manifest)}: readers {html.escape(", ".join(result.readers))}; '
        f"{result.n_targets} targets (patient, side, timepoint) traced by every reader with a lesion; volume = "
        f"{html.escape(METHOD_NAMES[result.method].formula)}; onfh-volume {__version__}</p>",
        f'<p style="font-size:1.15em"><strong>{html.escape(result.verdict)}.</strong></p>',
        "<h2>Agreement</h2>",
        _rows_table(agreement_rows(result)),
        "<h2>Plots</h2>",
        png_img(
            agreement_png(result), "Bland–Altman plot with the SDC and threshold lines; reader against reader"
        ),
    ]
    if result.missing:
        parts += ["<h2>Left out: not traced by every reader</h2><ul>"]
        parts += [f"<li>{html.escape(line)}</li>" for line in result.missing] + ["</ul>"]
    parts += ["<h2>Every target and pair of readers</h2>", _pairs_table(result)]
    return page("Reader agreement", parts)


# --- Statistics ------------------------------------------------------------------------------


def _groups_table(result: Statistics) -> str:
    header = ["group", "hips", "baseline (cm³)", "follow-up (cm³)", "paired Student's t-test", "median change",
              *CHANGE_CATEGORIES, "new lesion", "no lesion"]  # fmt: skip
    body = []
    for name, group in result.groups.items():
        data = group.to_dict()
        body.append(
            [("", html.escape(name)), ("number", str(group.n_hips)),
             ("nowrap", f"{group.baseline[0]:.3f} ± {group.baseline[1]:.3f}"),
             ("nowrap", f"{group.followup[0]:.3f} ± {group.followup[1]:.3f}"),
             ("", html.escape(test_text(data["paired_t"]))), ("number", f"{group.median_change_pct:+.1f}%")]
            + [("number", str(group.categories[c])) for c in (*CHANGE_CATEGORIES, "new lesion", "no lesion")]
        )  # fmt: skip
    return html_table(header, body, [""] * len(body))


def _between_table(between: dict[str, Any]) -> str:
    rows = []
    for key, what in (
        ("categories_chi2", "change categories x groups"),
        ("categories_fisher", "change categories x groups"),
        ("baseline_t", "baseline volumes"),
        ("baseline_welch_t", "baseline volumes"),
    ):
        test = between.get(key)
        if test is not None:
            rows.append((f"{test['test']}: {what}", test_text(test)))
    return _rows_table(rows, ("test", "result"))


def categories_png(result: Statistics) -> bytes:
    """Stacked bars of each group's share of hips per change category."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.5, 3.6), dpi=110, layout="constrained")
    axes = figure.add_subplot()
    names = list(result.groups)
    totals = [sum(result.groups[n].categories[c] for c in CHANGE_CATEGORIES) for n in names]
    left = [0.0] * len(names)
    for category in (DECREASE, "no change", INCREASE):
        shares = [
            result.groups[n].categories[category] / max(t, 1) * 100
            for n, t in zip(names, totals, strict=True)
        ]
        labels = [f"{n} ({t} hips)" for n, t in zip(names, totals, strict=True)]
        axes.barh(labels, shares, left=left, color=COLOURS[category], label=category)
        left = [a + b for a, b in zip(left, shares, strict=True)]
    axes.set_xlabel("% of the group's hips (decrease / no change / increase)")
    axes.set_xlim(0, 100)
    axes.legend(fontsize=8, frameon=False, ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    axes.spines[["top", "right"]].set_visible(False)
    return png_bytes(figure)


def survival_png(survival: Survival) -> bytes:
    """Kaplan–Meier curves per group with their 95% CI bands."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 4.4), dpi=110, layout="constrained")
    axes = figure.add_subplot()
    for k, (name, curve) in enumerate(survival.curves.items()):
        colour = GROUP_COLOURS[k % len(GROUP_COLOURS)]
        times = [0.0, *curve.times]
        axes.step(
            times,
            [1.0, *curve.survival],
            where="post",
            color=colour,
            label=f"{name} ({curve.events}/{curve.n} events)",
        )
        axes.fill_between(
            times, [1.0, *curve.lower], [1.0, *curve.upper], step="post", color=colour, alpha=0.15
        )
    test = survival.logrank
    title = f"Kaplan–Meier: {survival.event}" + (
        "" if test is None else f" (log-rank p {p_text(test.p_value)})"
    )
    axes.set_title(title, fontsize=11)
    axes.set_xlabel(survival.time)
    axes.set_ylabel(f"share of hips without {survival.event}")
    axes.set_ylim(-0.02, 1.02)
    axes.legend(fontsize=9, frameon=False, loc="lower left")
    axes.spines[["top", "right"]].set_visible(False)
    return png_bytes(figure)


def render_statistics(result: Statistics) -> str:
    """The statistics report page as HTML text."""
    reader = f"; reader {result.reader}" if result.reader else ""
    parts = [
        f'<p class="meta">{html.escape(result.results)}{html.escape(reader)}; {html.escape(WHICH_HIPS)}; '
        f"onfh-volume {__version__}</p>",
        "<h2>Per group</h2>",
        _groups_table(result),
        "<p>Mean ± SD (SD with n - 1); the paired Student's t-test compares follow-up with baseline volumes.</p>",
    ]
    if "categories_table" in result.between:
        table = result.between["categories_table"]
        parts += [
            "<h2>Between groups</h2>",
            _between_table(result.between),
            f"<p>Change categories: {html.escape(table['note'])}.</p>",
            png_img(categories_png(result), "Share of hips per change category and group"),
        ]
    if result.survival is not None:
        parts += [
            "<h2>Survival</h2>",
            html.escape(f"Kaplan–Meier estimate per group ({result.survival.to_dict()['estimate']})."),
            png_img(survival_png(result.survival), "Kaplan–Meier curves per group with 95% confidence bands"),
        ]
    return page("Study statistics", parts)


def agreement_report_writer(result: Agreement) -> Writer:
    """What writes the agreement report (HTML, self-contained) to a path."""
    return page_writer(render_agreement(result))


def statistics_report_writer(result: Statistics) -> Writer:
    """What writes the statistics report (HTML, self-contained) to a path."""
    return page_writer(render_statistics(result))
