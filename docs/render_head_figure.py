"""Render docs/images/head-fit.png: the femoral head found around a lesion, on a hip of the phantom family
with a film of joint fluid and a collapsed dome (``onfh_volume.testing.hip_family``, seed SEED).

Left: the coronal slice nearest the head's centre, with the fitted sphere's section, the drawn
sphere's, the surface points read on that slice (intact surface, left out, over the lesion), the
traced lesion and its Kerboul arc. Right: the
mid-sagittal plane reformatted from the volume, with the same. Run
``.venv/bin/python docs/render_head_figure.py`` from the repository root (about 15 s).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, Wedge
from scipy import ndimage

from onfh_volume import measure
from onfh_volume.head import lesions_in_heads
from onfh_volume.head.edges import surface_points
from onfh_volume.head.find import contrast_levels
from onfh_volume.head.measures import SUBCHONDRAL_MM, signed_distance
from onfh_volume.testing.hip_family import collapse_truth_mm, family_spec
from onfh_volume.testing.phantom import make_phantom

ROOT = Path(__file__).resolve().parents[1]
HALF_MM = 36.0
SEED = 1  # a film of fluid (0.5 mm), collapse 3.6 mm, a lesion of an eighth of the head
STEP_MM = 0.25


def plane(scan, volume, centre, across, order=1):
    """``volume`` resampled on the plane through ``centre`` spanned by ``across`` and superior (RAS)."""
    u = np.arange(-HALF_MM, HALF_MM, STEP_MM)
    grid = centre + u[None, :, None] * across + -u[:, None, None] * np.array([0.0, 0.0, 1.0])
    inverse = np.linalg.inv(scan.affine)
    index = grid.reshape(-1, 3) @ inverse[:3, :3].T + inverse[:3, 3]
    return ndimage.map_coordinates(volume, index.T, order=order, mode="nearest").reshape(len(u), len(u))


def arcs(ax, directions, covered, radius, colour):
    """Wedges over the runs of covered directions (degrees from ``across`` towards superior)."""
    runs = np.flatnonzero(np.diff(np.r_[0, covered.astype(int), 0]))
    for start, stop in zip(runs[::2], runs[1::2], strict=True):
        ax.add_patch(Wedge((0, 0), radius, directions[start], directions[stop - 1], width=SUBCHONDRAL_MM,
                           color=colour, alpha=0.35))  # fmt: skip


def panel(ax, scan, image, lesion_distance, head, truth, across, title, points=None, depth=0.0):
    ax.imshow(image, cmap="gray", vmin=0, vmax=np.percentile(image, 99.5),
              extent=(-HALF_MM, HALF_MM, -HALF_MM, HALF_MM))  # fmt: skip
    centre = np.array(head.centre_ras)
    lesion = plane(scan, lesion_distance, centre, across)
    u = np.arange(-HALF_MM, HALF_MM, STEP_MM)
    ax.contour(u, -u, lesion, levels=[0], colors="#ff8c1a", linewidths=1.2)
    # Each sphere's section by the plane shown, ``depth`` mm from the fitted centre.
    section = np.sqrt(head.radius_mm**2 - depth**2)
    ax.add_patch(Circle((0, 0), section, fill=False, color="#33ccff", lw=1.4, label="fitted sphere"))
    offset = np.subtract(truth.centre_ras, centre)
    normal = np.cross(across, [0.0, 0.0, 1.0])
    truth_section = np.sqrt(truth.radius_mm**2 - (depth - offset @ normal) ** 2)
    ax.add_patch(Circle((offset @ across, offset[2]), truth_section, fill=False, color="#ffee33", lw=0.9,
                        ls="--", label="drawn sphere (truth)"))  # fmt: skip
    if points is not None:
        points, over = points
        kept = np.abs(np.linalg.norm(points - centre, axis=1) - head.radius_mm) <= 1.5
        for chosen, marker, colour, label in (
            (kept & ~over, ".", "#33ff66", "intact surface (fitted)"),
            (~kept & ~over, "x", "#ff4444", "points left out (neck, acetabulum)"),
            (over, ".", "#ff66ff", "surface over the lesion (collapse)"),
        ):
            ax.plot((points[chosen] - centre) @ across, (points[chosen] - centre)[:, 2], marker, ms=3,
                    color=colour, label=label)  # fmt: skip
    directions = np.arange(0.0, 360.0, 0.5)
    rad = np.radians(directions)
    rho = np.arange(head.radius_mm - SUBCHONDRAL_MM, head.radius_mm, STEP_MM)
    rays = centre + rho[None, :, None] * (
        np.cos(rad)[:, None, None] * across + np.sin(rad)[:, None, None] * [0, 0, 1]
    )
    inverse = np.linalg.inv(scan.affine)
    index = rays.reshape(-1, 3) @ inverse[:3, :3].T + inverse[:3, 3]
    covered = (ndimage.map_coordinates(lesion_distance, index.T, order=1, mode="nearest") < 0).reshape(
        len(rad), -1
    )
    arcs(ax, directions, covered.any(axis=1), head.radius_mm, "#ff3355")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(-HALF_MM, HALF_MM)
    ax.set_ylim(-HALF_MM, HALF_MM)
    ax.set_xticks([])
    ax.set_yticks([])


def main() -> None:
    phantom = make_phantom(family_spec(SEED))
    scan = phantom.scan
    measurement = measure(scan, phantom.labels)
    (lesion,) = measurement.lesions
    result = lesions_in_heads(measurement, phantom.labels)[lesion.label]
    head, (truth,), kerboul = result.head, phantom.heads, result.kerboul
    centre = np.array(head.centre_ras)
    inside = phantom.labels == lesion.label
    distance = signed_distance(scan, inside)
    voxels = scan.voxels.astype(np.float32)
    # The coronal slice nearest the centre, and the surface points read on it.
    k = round(float(np.linalg.solve(scan.affine[:3, :3], centre - scan.affine[:3, 3])[0]))
    on_slice = scan.index_to_patient(np.array([[k, 0, 0]]))[0]
    slice_centre = centre + ((on_slice - centre) @ [0, 1, 0]) * np.array([0, 1, 0])
    contrast = contrast_levels(scan, voxels, centre, head.radius_mm)
    surface = surface_points(scan, voxels, inside, centre, head.radius_mm, contrast)
    on = np.abs(surface.points[:, 1] - slice_centre[1]) < 1.0
    points = (surface.points[on], surface.over_lesion[on])
    left = np.array([-1.0, 0.0, 0.0])  # image left = the patient's right, as radiologists read it
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.4), facecolor="black")
    coronal = plane(scan, voxels, slice_centre, left, order=0)
    depth = float((slice_centre - centre)[1])
    panel(axes[0], scan, coronal, distance, head, truth, left,
          f"coronal slice {k} ({depth:+.1f} mm from the centre)", points, depth)  # fmt: skip
    posterior = np.array([0.0, -1.0, 0.0])  # anterior on the left
    sagittal = plane(scan, voxels, centre, posterior)
    panel(axes[1], scan, sagittal, distance, head, truth, posterior,
          f"mid-sagittal reformat (anterior left): Kerboul arc {kerboul.sagittal:.0f}°")  # fmt: skip
    for ax in axes:
        ax.title.set_color("white")
    axes[0].legend(loc="lower left", fontsize=7, framealpha=0.6)
    spec = phantom.spec
    fig.suptitle(
        f"{truth.side} femoral head, {spec.fluid} of joint fluid {spec.fluid_mm:.1f} mm, cartilage "
        f"{spec.cartilage_head_mm:.1f}/{spec.cartilage_acetabulum_mm:.1f} mm: fitted r = {head.radius_mm:.1f} mm "
        f"(truth {truth.radius_mm:.1f}), necrotic ratio {result.necrotic_ratio_pct:.1f}% (Steinberg "
        f"{result.steinberg_extent}), Kerboul {kerboul.combined:.0f}°\ncollapse {result.collapse_depth_mm:.1f} mm "
        f"(truth {collapse_truth_mm(spec):.1f}): {result.collapse}; head quality {head.quality}",
        color="white",
        fontsize=9,
    )
    fig.tight_layout()
    out = ROOT / "docs" / "images" / "head-fit.png"
    fig.savefig(out, dpi=110, facecolor="black")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
