"""The head fit on the phantom family (``onfh_volume.testing.hip_family``): per-hip rows and the report
section of ``bench_head.py``: the held-out hips one by one, every set's summary. Run it once after the
last tuning: the held-out hips are not looked at before."""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

import bench_cohort
import numpy as np
from bench_trace import rendered

from onfh_volume import measure
from onfh_volume.head import lesion_in_head
from onfh_volume.head.measures import steinberg_extent
from onfh_volume.head.quality import detection_limit_mm, near_steinberg_boundary
from onfh_volume.testing.head_truth import necrotic_ratio_truth
from onfh_volume.testing.hip_family import (
    BUILT_ON_SEEDS,
    HELD_OUT_SEEDS,
    SEEN_AGAIN_SEEDS,
    SEEN_SEEDS,
    collapse_truth_mm,
    family_spec,
)

MARKER = "## The phantom family"
#: The issue's bounds per hip.
RADIUS_MM, CENTRE_MM, RATIO_POINTS, COLLAPSE_MM = 0.7, 1.0, 2.0, 0.5


def family_row(seed: int, cache: Path | None) -> dict:
    """One hip: its truth, the fit, the errors, the quality, and whether it is within the bounds."""
    phantom = rendered(family_spec(seed), cache)
    spec = phantom.spec
    label = spec.lesions[0].label
    measurement = measure(phantom.scan, phantom.labels, "spacing")
    start, start_cpu = time.perf_counter(), time.process_time()
    result = lesion_in_head(measurement, phantom.labels == label, label)
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    (truth,) = phantom.heads
    ratio = necrotic_ratio_truth(phantom, label)
    collapse = collapse_truth_mm(spec)
    row = {
        "hip": spec.name, "fluid": f"{spec.fluid} {spec.fluid_mm:.1f}" if spec.fluid_mm else "none",
        "cartilage": f"{spec.cartilage_head_mm:.1f}/{spec.cartilage_acetabulum_mm:.1f}",
        "radius": truth.radius_mm, "ratio": ratio, "collapse": collapse, "seconds": seconds, "cpu": cpu,
        "limit": detection_limit_mm(phantom.scan.pixel_spacing),
    }  # fmt: skip
    head = result.head
    if head is None:
        return {**row, "failure": result.failure, "within": False, "quality": "failed", "reasons": ""}
    depth = result.collapse_depth_mm or 0.0
    errors = {
        "fit_radius": head.radius_mm,
        "radius_error": head.radius_mm - truth.radius_mm,
        "centre_error": float(np.linalg.norm(np.subtract(head.centre_ras, truth.centre_ras))),
        "fit_ratio": result.necrotic_ratio_pct,
        "ratio_error": result.necrotic_ratio_pct - ratio,
        "steinberg": f"{steinberg_extent(ratio)}/{result.steinberg_extent}",
        "steinberg_ok": steinberg_extent(ratio) == result.steinberg_extent
        or near_steinberg_boundary(ratio) is not None,
        "fit_collapse": depth,
        "collapse_error": depth - collapse,
        "quality": head.quality,
        "reasons": "; ".join(head.reasons),
    }
    # A collapse below the detection limit read as "no collapse seen" agrees with none drawn.
    collapse_ok = abs(depth - collapse) <= COLLAPSE_MM or max(depth, collapse) < row["limit"]
    within = (
        abs(errors["radius_error"]) <= RADIUS_MM
        and errors["centre_error"] <= CENTRE_MM
        and abs(errors["ratio_error"]) <= RATIO_POINTS
        and errors["steinberg_ok"]
        and collapse_ok
    )
    return {**row, **errors, "within": within}


def family_rows(seeds: tuple[int, ...], cache: Path | None) -> list[dict]:
    rows = []
    for seed in seeds:
        rows.append(family_row(seed, cache))
        print(rows[-1], flush=True)
    return rows


def _summary(rows: list[dict], key: str) -> str:
    values = [row[key] for row in rows if key in row]
    if not values:
        return "- | - | -"
    return f"{statistics.mean(values):+.2f} | {statistics.median(map(abs, values)):.2f} | {max(map(abs, values)):.2f}"


def _hip_table(rows: list[dict]) -> list[str]:
    """Per hip: truth, fit, errors, quality, within the bounds."""
    lines = [
        "| hip | fluid | cartilage head/acet. (mm) | radius truth → fit (mm) | centre err (mm) | ratio truth → fit (%) "
        "| Steinberg truth/fit | collapse truth → fit (mm) | quality | within bounds | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "fit_radius" not in row:
            lines.append(f"| {row['hip']} | {row['fluid']} | {row['cartilage']} | failed: {row['failure']} "
                         "| | | | | failed | no | |")  # fmt: skip
            continue
        lines.append(
            f"| {row['hip']} | {row['fluid']} | {row['cartilage']} | {row['radius']:.2f} → {row['fit_radius']:.2f} "
            f"({row['radius_error']:+.2f}) | {row['centre_error']:.2f} | {row['ratio']:.1f} → {row['fit_ratio']:.1f} "
            f"({row['ratio_error']:+.1f}) | {row['steinberg']} | {row['collapse']:.1f} → {row['fit_collapse']:.1f} "
            f"| {row['quality']}{': ' + row['reasons'] if row['reasons'] else ''} | {'yes' if row['within'] else 'NO'} "
            f"| {row['seconds']:.2f} |"
        )
    return lines


#: The sets, the held-out one first: (name, seeds, what was done with them).
SETS = (
    ("held-out", HELD_OUT_SEEDS, "declared before the last tuning, measured once after it"),
    ("development: built on", BUILT_ON_SEEDS, "the finder built and tuned on them"),
    ("development: seen", SEEN_SEEDS, "held out when the finder was built, looked at since"),
    ("development: seen again", SEEN_AGAIN_SEEDS, "held out when the collapse reading was reworked, looked at since"),
)  # fmt: skip


def _set_line(name: str, rows: list[dict]) -> str:
    """One set's hips within the bounds, flagged, silently missed, and time per hip."""
    outside = [row for row in rows if not row["within"]]
    silent = [row["hip"] for row in outside if row["quality"] == "ok"]
    flagged = sum(row["quality"] == "review" for row in rows)
    needless = sum(row["quality"] == "review" and row["within"] for row in rows)
    times, cpu = [row["seconds"] for row in rows], [row["cpu"] for row in rows]
    return (
        f"- **{name}**: {len(rows) - len(outside)} of {len(rows)} hips within every bound; "
        f"{flagged} flagged `review` ({100 * flagged / len(rows):.0f}%; {needless} of them within every bound); "
        f"outside the bounds and not flagged (silent misses): {len(silent)} ({', '.join(silent) or 'none'}); "
        f"time per hip (`lesion_in_head`: fit, spread, ratio, Kerboul, collapse) median "
        f"{statistics.median(times):.2f} s, max {max(times):.2f} s wall clock; CPU median "
        f"{statistics.median(cpu):.2f} s, max {max(cpu):.2f} s."
    )


def _reason_kind(reason: str) -> str:
    """A reason without its numbers: up to its colon, or the words before (else after) its first number."""
    if ":" in reason:
        return reason.split(":")[0]
    before, _, after = re.split(r"(\d[\d.]*%?)", reason, maxsplit=1)
    return before.strip().removesuffix(" lie up to") or after.split("(")[0].strip()


def _reason_table(results: dict[str, list[dict]]) -> list[str]:
    """How many hips of each set each kind of review reason marks (a hip may have several)."""
    kinds = sorted({_reason_kind(r) for rows in results.values() for row in rows for r in _reasons(row)})
    names = [name for name, _, _ in SETS]
    lines = [
        "Hips marked by each reason (a hip may have several):",
        "",
        "| reason | " + " | ".join(f"{name} ({len(results[name])})" for name in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for kind in kinds:
        counts = [
            sum(any(_reason_kind(r) == kind for r in _reasons(row)) for row in results[name])
            for name in names
        ]
        lines.append(f"| {kind} | " + " | ".join(map(str, counts)) + " |")
    return lines


def _reasons(row: dict) -> list[str]:
    return [reason for reason in row.get("reasons", "").split("; ") if reason]


def family_section(results: dict[str, list[dict]]) -> str:
    """The report's section: the held-out hips one by one, then every set's summary (``results``
    by the names of SETS), then the development hips outside the bounds."""
    held_out = HELD_OUT_SEEDS
    lines = [
        MARKER,
        "",
        "One-hip phantoms drawn from ranges (`onfh_volume/testing/hip_family.py`): cartilage 1-3 mm, joint fluid",
        "none / film 0.4-0.8 mm / effusion 1.5-3 mm, coverage, heads up to 5% oval, lesions from ~5% to the whole",
        "head, neck oedema, red-marrow islands, collapse 0-4 mm; 3-5 mm slices with gaps, 0.6-0.9 mm pixels.",
        "Bounds per hip: radius ±0.7 mm, centre 1 mm, ratio ±2 points, Steinberg exact unless the truth is within",
        '1 point of 15%/30%, collapse ±0.5 mm (or both below the detection limit: "no collapse seen"). A hip',
        "outside them must be flagged `review` (a silent miss if not). The reasons: `onfh_volume/head/quality.py`",
        "and `spread.py` (the fit's ± over its slices, the sphere of the surface off the lesion), listed in the",
        "user guide's *Quality of an automatic head*.",
        "",
        *(f"- {name} ({seeds[0]}-{seeds[-1]}): {what}." for name, seeds, what in SETS),
        "",
        f"### Held-out hips ({held_out[0]}-{held_out[-1]}, measured once after the last tuning)",
        "",
        *_hip_table(results["held-out"]),
        "",
        "### Summary",
        "",
        "| set | measure | mean error | median abs | max abs |",
        "|---|---|---|---|---|",
    ]
    for name, _, _ in SETS:
        for label, key in (
            ("radius (mm)", "radius_error"),
            ("centre distance (mm)", "centre_error"),
            ("necrotic ratio (points)", "ratio_error"),
            ("collapse depth (mm)", "collapse_error"),
        ):
            lines.append(f"| {name} ({len(results[name])}) | {label} | {_summary(results[name], key)} |")
    every = [row for name, _, _ in SETS[1:] for row in results[name]]
    lines += [
        "",
        *(_set_line(name, results[name]) for name, _, _ in SETS),
        _set_line("development, all", every),
    ]
    lines += ["", *_reason_table(results)]
    development = [row for row in every if not row["within"]]
    lines += [
        "",
        "### Development hips outside the bounds",
        "",
        *_hip_table(development),
    ]
    return "\n".join(lines) + "\n"


def write_family_section(report: Path, section: str) -> None:
    """Put ``section`` at the end of ``report`` in place of the previous one."""
    text = report.read_text() if report.exists() else ""
    report.write_text(text.split(MARKER)[0].rstrip() + "\n\n" + section)


def run(report: Path, cache: Path | None, load: float) -> list[dict]:
    """Measure every set and write the section, with the machine and its ``load`` average at the
    start; the held-out rows."""
    results = {name: family_rows(seeds, cache) for name, seeds, _ in SETS}
    machine = f"**Machine** (family section): {bench_cohort.machine()}; load average {load:.1f} at the start."
    write_family_section(report, family_section(results) + "\n" + machine + "\n")
    return results["held-out"]
