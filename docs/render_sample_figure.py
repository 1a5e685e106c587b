"""Render docs/images/sample-sub-01-baseline.png: a sample scan with its traced lesions.

Needs matplotlib (``.venv/bin/pip install matplotlib``); run ``.venv/bin/python docs/render_sample_figure.py``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from onfh_volume import load_mask, load_scan, measure

ROOT = Path(__file__).resolve().parents[1]
SLICE = 5


def main() -> None:
    scan = load_scan(ROOT / "sample_scans/dicom/sub-01/baseline")
    labels = load_mask(ROOT / "sample_scans/masks/sub-01_baseline_lesions.nii.gz", scan)
    lesions = {lesion.label: lesion for lesion in measure(scan, labels).lesions}
    figure, (whole, zoom) = plt.subplots(1, 2, figsize=(11, 5.6))
    for axes, window, title in (
        (whole, (slice(None), slice(None)), f"sub-01 baseline, coronal T1, slice {SLICE} of {scan.shape[0]}"),
        (zoom, (slice(70, 135), slice(25, 90)), "right femoral head: the hypointense band traced"),
    ):
        axes.imshow(scan.voxels[SLICE][window], cmap="gray", vmin=0, vmax=1100, interpolation="nearest")
        for label, colour in ((1, "red"), (2, "cyan")):
            outline = labels[SLICE][window] == label
            if outline.any():
                axes.contour(outline, levels=[0.5], colors=colour, linewidths=1.0)
        axes.set_title(title, fontsize=10)
        axes.axis("off")
    figure.suptitle(
        "   ".join(
            f"label {label} ({lesion.side} hip): {lesion.volume_thickness_cm3:.3f} cm³ (area x thickness)"
            for label, lesion in sorted(lesions.items())
        ),
        y=0.02,
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(ROOT / "docs/images/sample-sub-01-baseline.png", dpi=80, bbox_inches="tight")


if __name__ == "__main__":
    main()
