"""Property: a SEG with any per-frame segment numbers, plane positions or fraction scale is read as
an independent reading of the same file says, or refused with DicomMaskError; never another count.

SEGs are written by highdicom from random boxes, then their frames edited with pydicom. The
independent reading uses pydicom alone: each frame's segment number, the series image at its plane
position (matched by the images' own ImagePositionPatient), its source image, and its pixels; the
hip of a segment is the side of its centroid's column (the synthetic series is centred on the
midline, columns running to the patient's left).
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from helpers import hd_seg, series_datasets, write_dicom_series
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onfh_volume import load_mask, load_scan
from onfh_volume.errors import DicomMaskError

pytestmark = pytest.mark.filterwarnings("ignore:The string .* person name:UserWarning")

SHAPE = (6, 40, 320)
MIDLINE_COLUMN = (SHAPE[2] - 1) / 2


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[pydicom.Dataset]]:
    folder = write_dicom_series(tmp_path_factory.mktemp("series") / "s")
    return folder, series_datasets(folder)


def boxes(count: int) -> st.SearchStrategy:
    box = st.tuples(
        st.integers(0, 5),
        st.integers(1, 3),
        st.integers(0, 35),
        st.integers(1, 5),
        st.integers(0, 300),
        st.integers(1, 19),
    )
    return st.lists(box, min_size=count, max_size=count)


def paint(specs: list[tuple[int, ...]]) -> np.ndarray:
    masks = np.zeros((*SHAPE, len(specs)), dtype=bool)
    for k, (s, ds_, r, dr, c, dc) in enumerate(specs):
        masks[s : s + ds_, r : r + dr, c : c + dc, k] = True
    return masks


def expected_per_hip(voxels: dict[int, np.ndarray]) -> dict[int, int] | None:
    """Voxels of each hip (1 right, 2 left) from each segment's voxels; None: the file must be refused."""
    hips = {1: np.zeros(SHAPE, bool), 2: np.zeros(SHAPE, bool)}
    for mask in voxels.values():
        if not mask.any():
            continue
        centre = np.argwhere(mask)[:, 2].mean()
        if centre == MIDLINE_COLUMN:
            return None
        hips[1 if centre < MIDLINE_COLUMN else 2] |= mask
    if (hips[1] & hips[2]).any():
        return None  # a voxel in both hips
    return {label: int(mask.sum()) for label, mask in hips.items()}


def independent_reading(seg: pydicom.Dataset, images: list[pydicom.Dataset], member) -> dict[int, int] | None:
    by_position = {
        tuple(np.round(np.array(ds.ImagePositionPatient, float), 3)): k for k, ds in enumerate(images)
    }
    by_uid = {ds.SOPInstanceUID: k for k, ds in enumerate(images)}
    described = {int(item.SegmentNumber) for item in seg.SegmentSequence}
    pixels = seg.pixel_array.reshape(-1, SHAPE[1], SHAPE[2])
    voxels = {n: np.zeros(SHAPE, bool) for n in described}
    for frame, group in enumerate(seg.PerFrameFunctionalGroupsSequence):
        number = int(group.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        position = tuple(np.round(np.array(group.PlanePositionSequence[0].ImagePositionPatient, float), 3))
        source = group.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        if number not in described or by_position.get(position) != by_uid[source]:
            return None
        voxels[number][by_uid[source]] |= member(pixels[frame])
    return expected_per_hip(voxels)


def read_per_hip(path: Path, folder: Path) -> dict[int, int] | None:
    try:
        labels = load_mask(path, load_scan(folder, pixels=False))
    except DicomMaskError:
        return None
    return {label: int((labels == label).sum()) for label in (1, 2)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(boxes(3), st.data())
def test_binary_frames_with_any_segment_numbers_and_positions(series, tmp_path: Path, specs, data) -> None:
    folder, images = series
    seg = hd_seg(images, paint(specs), ["lesion a", "lesion b", "lesion c"])
    positions = [ds.ImagePositionPatient for ds in images]
    for group in seg.PerFrameFunctionalGroupsSequence:
        if data.draw(st.booleans()):
            group.SegmentIdentificationSequence[0].ReferencedSegmentNumber = data.draw(st.integers(0, 4))
        if data.draw(st.integers(0, 4)) == 0:
            group.PlanePositionSequence[0].ImagePositionPatient = positions[data.draw(st.integers(0, 5))]
    path = tmp_path / f"seg{data.draw(st.integers(0, 10**9))}.dcm"
    seg.save_as(path)
    assert read_per_hip(path, folder) == independent_reading(seg, images, lambda frame: frame != 0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(boxes(2), st.sampled_from([None, 0, 1, 50, 100, 150, 199, 200, 255, 256, 511, 65535]), st.data())
def test_fractional_frames_with_any_maximum(series, tmp_path: Path, specs, stated, data) -> None:
    folder, images = series
    masks = paint(specs)
    fractions = masks * data.draw(st.sampled_from([0.25, 0.5, 0.75, 1.0]))
    seg = hd_seg(
        images,
        fractions.astype(np.float32),
        ["lesion a", "lesion b"],
        segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL,
        max_fractional_value=200,
    )
    if stated is None:
        del seg.MaximumFractionalValue
    else:
        seg.MaximumFractionalValue = stated
    path = tmp_path / f"seg{data.draw(st.integers(0, 10**9))}.dcm"
    seg.save_as(path)
    stored_top = int(seg.pixel_array.max())
    if stated is None or not 0 < stated <= 255 or stored_top > stated:
        expected = None
    else:
        expected = independent_reading(seg, images, lambda frame: (frame >= 0.5 * stated) & (frame > 0))
    assert read_per_hip(path, folder) == expected
