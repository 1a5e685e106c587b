"""Render docs/images/trace-slices.png: band fill against the truth, slice by slice, on two phantom lesions.

The benchmark's least accurate lesion (a thin one, its band against the subchondral plate) and a
typical one, each from one click at its most central marrow point: every slice the truth or the
tracing is on, truth in green, band fill in red. Run ``.venv/bin/python docs/render_trace_figure.py``
from the repository root (about a minute: the phantoms are rendered first).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from onfh_volume.testing.phantom import make_phantom
from onfh_volume.testing.phantom_set import benchmark_specs
from onfh_volume.trace.segment import trace_lesion

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = 9
LESIONS = ((2, 1, "thin lesion, band against the plate (the worst)"), (6, 1, "typical lesion"))
HALF_MM = 22.0  # the crop around the lesion, each way


def lesion_row(figure, study: int, label: int, title: str) -> None:
    phantom = make_phantom(benchmark_specs()[study])
    truth = phantom.labels == label
    seed = phantom.central_click(label)
    mask = trace_lesion(phantom.scan, seed).mask
    dice = 2 * np.count_nonzero(mask & truth) / (mask.sum() + truth.sum())
    slices = np.flatnonzero((truth | mask).any(axis=(1, 2)))
    a = phantom.spec.acquisition
    rows, columns = np.nonzero(truth.any(axis=0))
    r0, c0 = int(rows.mean()) + int(8 / a.row_mm), int(columns.mean())
    zoom = (slice(r0 - int(HALF_MM / a.row_mm), r0 + int(HALF_MM / a.row_mm)),
            slice(c0 - int(HALF_MM / a.column_mm), c0 + int(HALF_MM / a.column_mm)))  # fmt: skip
    vmax = float(np.percentile(phantom.scan.voxels, 99.5))
    axes_row = figure.subplots(1, COLUMNS)
    for axes in axes_row:
        axes.axis("off")
    for axes, k in zip(axes_row, slices, strict=False):
        axes.imshow(
            phantom.scan.voxels[k][zoom], cmap="gray", vmin=0, vmax=vmax, aspect=a.row_mm / a.column_mm
        )
        for region, colour in ((truth, "lime"), (mask, "red")):
            if region[k].any():
                axes.contour(region[k][zoom], levels=[0.5], colors=colour, linewidths=1.0)
        axes.set_title(f"slice {k}" + (" (click)" if k == seed[0] else ""), fontsize=9)
    figure.suptitle(
        f"{phantom.spec.name} {'right' if label == 1 else 'left'} hip, {a.thickness_mm:g} mm slices: {title}; "
        f"Dice {dice:.3f}, volume {100 * (mask.sum() / truth.sum() - 1):+.1f}%",
        fontsize=10,
    )


def main() -> None:
    figure = plt.figure(figsize=(2.2 * COLUMNS, 2.9 * len(LESIONS)), layout="constrained")
    for row, (study, label, title) in zip(figure.subfigures(len(LESIONS), 1), LESIONS, strict=True):
        lesion_row(row, study, label, title)
    figure.savefig(ROOT / "docs/images/trace-slices.png", dpi=80)


if __name__ == "__main__":
    main()
