"""A sphere through points of a surface that cover only part of it: algebraic start, robust geometric fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

#: Residuals (mm) beyond which a point counts as an outlier of the robust loss: the scale of the
#: soft-L1 loss, below which it is least squares.
LOSS_SCALE_MM = 0.5
#: Points farther than this many robust standard deviations (and 1.5 mm) from the fitted surface are
#: dropped before the final fit: edges of the neck, the acetabulum or the lesion picked up by mistake.
OUTLIER_SIGMAS = 3.0
OUTLIER_FLOOR_MM = 1.5


@dataclass(frozen=True)
class SphereFit:
    """A sphere fitted to surface points.

    Attributes
    ----------
    centre
        (3,) centre, in the points' coordinates (mm).
    radius
        Radius, mm.
    rms
        Root mean square distance of the kept points from the sphere, mm.
    kept
        Boolean mask of the points kept (not outliers).
    """

    centre: np.ndarray
    radius: float
    rms: float
    kept: np.ndarray


def algebraic_sphere(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Linear least-squares sphere: |p|² = 2 p·c + (r² - |c|²). Biased when the points cover a cap only.

    Examples
    --------
    >>> t = np.linspace(0, np.pi, 7)
    >>> pts = np.c_[2 + 5 * np.cos(t), 5 * np.sin(t), np.zeros(7)]
    >>> c, r = algebraic_sphere(np.r_[pts, pts[:, [0, 2, 1]]])
    >>> np.round(c, 6).tolist(), round(r, 6)
    ([2.0, 0.0, 0.0], 5.0)
    """
    points = np.asarray(points, dtype=float)
    design = np.c_[2 * points, np.ones(len(points))]
    solution, *_ = np.linalg.lstsq(design, (points**2).sum(axis=1), rcond=None)
    centre = solution[:3]
    return centre, float(np.sqrt(max(solution[3] + centre @ centre, 0.0)))


def _geometric(points: np.ndarray, centre: np.ndarray, radius: float) -> tuple[np.ndarray, float]:
    def residuals(params: np.ndarray) -> np.ndarray:
        return np.linalg.norm(points - params[:3], axis=1) - params[3]

    def jacobian(params: np.ndarray) -> np.ndarray:
        offsets = points - params[:3]
        distances = np.maximum(np.linalg.norm(offsets, axis=1, keepdims=True), 1e-12)
        return np.c_[-offsets / distances, -np.ones(len(points))]

    result = least_squares(
        residuals, np.r_[centre, radius], jac=jacobian, loss="soft_l1", f_scale=LOSS_SCALE_MM, x_scale="jac"
    )
    return result.x[:3], float(result.x[3])


def fit_sphere(points: np.ndarray) -> SphereFit:
    """Fit a sphere to (N, 3) surface points: algebraic start, geometric refinement with a robust loss.

    The geometric fit minimises the distances of the points from the sphere, so a cap of points
    gives an unbiased radius; the soft-L1 loss and one round of outlier removal keep stray edge
    points (neck, acetabulum) from pulling the sphere.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = rng.normal(size=(400, 3)); d[:, 2] = np.abs(d[:, 2])  # an upper hemisphere only
    >>> d /= np.linalg.norm(d, axis=1, keepdims=True)
    >>> fit = fit_sphere(np.array([10.0, -5.0, 3.0]) + 24.0 * d + rng.normal(0, 0.2, (400, 3)))
    >>> bool(np.allclose(fit.centre, [10.0, -5.0, 3.0], atol=0.15)), round(fit.radius, 1)
    (True, 24.0)
    """
    points = np.asarray(points, dtype=float)
    centre, radius = _geometric(points, *algebraic_sphere(points))
    distance = np.abs(np.linalg.norm(points - centre, axis=1) - radius)
    robust_sd = 1.4826 * float(np.median(distance))
    kept = distance <= max(OUTLIER_SIGMAS * robust_sd, OUTLIER_FLOOR_MM)
    if kept.sum() >= 4 and not kept.all():
        centre, radius = _geometric(points[kept], centre, radius)
    residual = np.linalg.norm(points[kept] - centre, axis=1) - radius
    return SphereFit(centre=centre, radius=radius, rms=float(np.sqrt(np.mean(residual**2))), kept=kept)


def jackknife_spheres(points: np.ndarray, fit: SphereFit, groups: np.ndarray) -> np.ndarray:
    """The sphere refitted with each group of points left out in turn: (groups, 4) centre and radius.

    ``groups`` labels each point (e.g. its slice); the fit's outliers stay out and each refit
    starts from ``fit``, as the last step of :func:`fit_sphere` does.

    Examples
    --------
    Three great circles of a sphere of radius 5: any two of them give the same sphere.

    >>> t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    >>> ring = np.c_[5 * np.cos(t), 5 * np.sin(t), np.zeros(12)]
    >>> points = np.r_[ring, ring[:, [2, 0, 1]], ring[:, [1, 2, 0]]]
    >>> refits = jackknife_spheres(points, fit_sphere(points), np.repeat([0, 1, 2], 12))
    >>> (np.round(refits, 6) + 0.0).tolist()
    [[0.0, 0.0, 0.0, 5.0], [0.0, 0.0, 0.0, 5.0], [0.0, 0.0, 0.0, 5.0]]
    """
    points = np.asarray(points, dtype=float)
    refits = []
    for group in np.unique(groups):
        keep = fit.kept & (groups != group)
        centre, radius = _geometric(points[keep], fit.centre, fit.radius)
        refits.append([*centre, radius])
    return np.array(refits)
