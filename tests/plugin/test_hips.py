"""Which hip each label's blobs lie in (Qt-free): the readout's wrong-hip warning, property-tested.

The scan is a synthetic coronal grid whose affine puts column c at x = 200 - c mm (RAS), a field
400 mm wide centred on x = 0: the hip of a blob is known from its columns alone.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_onfh_volume.hips import HipCheck
from onfh_volume.scan import Scan

CORONAL = np.array([[0, 0, -1, 200], [-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 0, 1.0]])  # x = 200 - column
SHAPE = (6, 40, 400)
SCAN = Scan(None, (1.0, 1.0), 4.0, 4.0, CORONAL, "bilateral.nii.gz", grid=SHAPE)
#: Columns of each hip, well away from the midline (column 200): x = +150 mm right, -150 mm left.
HIP_COLUMN = {"right": 50, "left": 350}

blob = st.tuples(
    st.integers(0, SHAPE[0] - 1),  # slice
    st.sampled_from([1, 2]),  # label painted
    st.sampled_from(["right", "left"]),  # hip it lies in
    st.integers(1, 6),  # height
    st.integers(1, 8),  # width
)


def paint(blobs) -> tuple[np.ndarray, dict[int, int], dict[int, set[int]]]:
    """Labels with ``blobs`` drawn, each in its own rows; the voxels and slices of each label in the wrong hip."""
    labels = np.zeros(SHAPE, dtype=np.uint8)
    wrong: dict[int, int] = {1: 0, 2: 0}
    slices: dict[int, set[int]] = {1: set(), 2: set()}
    for i, (k, label, hip, height, width) in enumerate(blobs):
        row = 6 * i % (SHAPE[1] - 6)
        column = HIP_COLUMN[hip] + 10 * (6 * i // (SHAPE[1] - 6))
        labels[k, row : row + height, column : column + width] = label
    for label, own in ((1, "right"), (2, "left")):
        columns = np.arange(SHAPE[2])
        other = (columns > 200) if own == "right" else (columns < 200)
        where = (labels == label) & other[None, None, :]
        wrong[label] = int(where.sum())
        slices[label] = set(np.flatnonzero(where.any(axis=(1, 2))).tolist())
    return labels, wrong, slices


@settings(max_examples=60, deadline=None)
@given(st.lists(blob, max_size=8))
def test_voxels_in_the_other_hip_are_counted_and_placed_by_slice(blobs) -> None:
    labels, wrong, slices = paint(blobs)
    check = HipCheck(SCAN)
    check.update(labels)
    found = {m.label: m for m in check.misplaced()}
    for label in (1, 2):
        if not wrong[label]:
            assert label not in found
            continue
        assert found[label].voxels == wrong[label]
        assert set(found[label].slices) == slices[label]
        assert found[label].side == ("left" if label == 1 else "right")
    for k in range(SHAPE[0]):
        assert bool(check.note(k)) == any(k in slices[label] for label in (1, 2))


@settings(max_examples=40, deadline=None)
@given(st.lists(blob, max_size=8), st.lists(blob, max_size=8))
def test_an_update_of_the_edited_slices_equals_a_full_check(before, after) -> None:
    first, _, _ = paint(before)
    second, _, _ = paint(after)
    incremental = HipCheck(SCAN)
    incremental.update(first)
    edited = np.flatnonzero((first != second).any(axis=(1, 2))).tolist()
    incremental.update(second, edited)
    full = HipCheck(SCAN)
    full.update(second)
    assert incremental.misplaced() == full.misplaced()


def test_a_scan_without_orientation_is_not_checked() -> None:
    unknown = Scan(None, (1.0, 1.0), 4.0, 4.0, CORONAL, "x.nii.gz", grid=SHAPE, orientation_known=False)
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[0, 0:3, 350:353] = 1
    check = HipCheck(unknown)
    check.update(labels)
    assert check.misplaced() == []
