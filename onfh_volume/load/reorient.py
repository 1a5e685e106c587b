"""Transpose and flip an array onto another axis order, and the affine that goes with it.

nibabel's ``apply_orientation`` and ``inv_ornt_aff``, operation for operation, so that putting a
mask on the scan's grid needs no nibabel (``tests/core/test_nifti_header.py`` compares them).
"""

from __future__ import annotations

import numpy as np


def reorient(array: np.ndarray, affine: np.ndarray, ornt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transpose/flip ``array`` by a nibabel orientation and return the affine of the result.

    ``ornt[axis]`` is (the axis it becomes, 1 or -1 for a flip), as in nibabel.

    Examples
    --------
    >>> array = np.arange(6).reshape(2, 3)
    >>> swapped, affine = reorient(array, np.eye(3), np.array([[1, 1], [0, -1]]))
    >>> swapped.tolist()  # columns flipped, then rows and columns swapped
    [[2, 5], [1, 4], [0, 3]]
    >>> affine.tolist()  # new (i, j) was old (j, 2 - i)
    [[0.0, 1.0, 0.0], [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]]
    """
    return apply_orientation(array, ornt), affine @ _inverse_affine(ornt, array.shape)


def apply_orientation(array: np.ndarray, ornt: np.ndarray) -> np.ndarray:
    """``array`` transposed and flipped by ``ornt``: a view (:func:`reorient` without the affine)."""
    for axis, flip in enumerate(ornt[:, 1]):
        if flip == -1:
            array = np.flip(array, axis=axis)
    order = np.arange(array.ndim)
    order[: len(ornt)] = np.argsort(ornt[:, 0])
    return array.transpose(order)


def _inverse_affine(ornt: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The affine from the reoriented array's indices to the original's."""
    p = len(ornt)
    sizes = np.array(shape)[:p]
    undo_reorder = np.eye(p + 1)[[int(v) for v in ornt[:, 0]] + [p], :]
    undo_flip = np.diag([*ornt[:, 1], 1.0])
    centre = -(sizes - 1) / 2.0
    undo_flip[:p, p] = ornt[:, 1] * centre - centre
    return np.dot(undo_flip, undo_reorder)
