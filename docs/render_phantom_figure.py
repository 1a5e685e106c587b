"""Render docs/images/phantom-bilateral.png: a benchmark phantom with its exact truth.

Run ``.venv/bin/python docs/render_phantom_figure.py`` from the repository root (about 20 s).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from onfh_volume.testing.phantom import make_phantom
from onfh_volume.testing.phantom_set import benchmark_specs

ROOT = Path(__file__).resolve().parents[1]
STUDY = 0


def main() -> None:
    phantom = make_phantom(benchmark_specs()[STUDY])
    a = phantom.spec.acquisition
    voxels, labels = phantom.scan.voxels, phantom.labels
    k = int(np.argmax((labels > 0).sum(axis=(1, 2))))
    rows, columns = np.nonzero(labels[k] == 1)
    r0, c0 = int(rows.mean()) + 5, int(columns.mean())
    half_r, half_c = int(40 / a.row_mm), int(40 / a.column_mm)
    zoom = (slice(r0 - half_r, r0 + half_r), slice(c0 - half_c, c0 + half_c))
    vmax = float(np.percentile(voxels, 99.5))
    figure, (whole, detail, truth) = plt.subplots(
        1, 3, figsize=(16, 5.4), gridspec_kw={"width_ratios": [2.2, 1, 1]}
    )
    for axes, window in ((whole, (slice(None), slice(None))), (detail, zoom), (truth, zoom)):
        axes.imshow(voxels[k][window], cmap="gray", vmin=0, vmax=vmax, aspect=a.row_mm / a.column_mm)
        axes.axis("off")
    truth.contour(labels[k][zoom] > 0, levels=[0.5], colors="red", linewidths=1.0)
    truth.contour(phantom.band[k][zoom], levels=[0.5], colors="yellow", linewidths=0.6)
    whole.set_title(
        f"phantom {phantom.spec.name}: coronal T1, slice {k} of {a.slices}, {a.thickness_mm:g} mm every "
        f"{a.spacing_mm:g} mm, pixels {a.row_mm:.2f} x {a.column_mm:.2f} mm",
        fontsize=9,
    )
    detail.set_title("right femoral head", fontsize=9)
    truth.set_title("truth: lesion (red, band and plate included), band (yellow)", fontsize=9)
    figure.tight_layout()
    figure.savefig(ROOT / "docs/images/phantom-bilateral.png", dpi=80, bbox_inches="tight")


if __name__ == "__main__":
    main()
