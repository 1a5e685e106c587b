"""SEGs that would lose or misplace voxels without a word are read right or refused, naming why.

Each SEG is written by highdicom, then edited with pydicom into what other software writes;
the expected voxels are the labels given to highdicom.
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from helpers import bilateral_labels, hd_seg, series_datasets, write_dicom_series

from onfh_volume import load_mask, load_scan
from onfh_volume.errors import DicomMaskError
from onfh_volume.mask import load_mask_with_warnings

pytestmark = pytest.mark.filterwarnings("ignore:The string .* person name:UserWarning")

SHAPE = (6, 40, 320)


def shared_plane_position(seg: pydicom.Dataset) -> pydicom.Dataset:
    """The SEG with its frames' positions replaced by the first one, in the shared functional group."""
    frames = seg.PerFrameFunctionalGroupsSequence
    seg.SharedFunctionalGroupsSequence[0].PlanePositionSequence = frames[0].PlanePositionSequence
    for frame in frames:
        del frame.PlanePositionSequence
    return seg


def test_frames_sharing_one_plane_position_are_placed_by_their_source_images(
    series: Path, tmp_path: Path
) -> None:
    labels = bilateral_labels(SHAPE)
    seg = shared_plane_position(hd_seg(series_datasets(series), labels, ["right", "left"]))
    assert int(seg.NumberOfFrames) > 4  # frames on several slices, all stated at one place
    seg.save_as(tmp_path / "seg.dcm")
    read, warnings = load_mask_with_warnings(tmp_path / "seg.dcm", load_scan(series, pixels=False))
    assert np.array_equal(read, labels)
    assert len(warnings) == 1 and "each frame is placed on its source image" in warnings[0]


def test_frames_sharing_one_plane_position_without_their_images_are_refused(
    series: Path, tmp_path: Path
) -> None:
    labels = bilateral_labels(SHAPE)
    seg = shared_plane_position(hd_seg(series_datasets(series), labels, ["right", "left"]))
    seg.save_as(tmp_path / "seg.dcm")
    other = load_scan(write_dicom_series(tmp_path / "other"), pixels=False)  # same grid, another series
    with pytest.raises(DicomMaskError, match="SEG frame 1 states one plane position for all its frames"):
        load_mask(tmp_path / "seg.dcm", other)


def test_a_frame_derived_from_an_image_not_in_the_series_is_refused(series: Path, tmp_path: Path) -> None:
    seg = hd_seg(series_datasets(series), bilateral_labels(SHAPE), ["right", "left"])
    source = seg.PerFrameFunctionalGroupsSequence[2].DerivationImageSequence[0].SourceImageSequence[0]
    source.ReferencedSOPInstanceUID = "1.2.3.4.5"
    seg.save_as(tmp_path / "seg.dcm")
    with pytest.raises(
        DicomMaskError, match=r"SEG frame 3 was derived from image 1\.2\.3\.4\.5, which is not"
    ):
        load_mask(tmp_path / "seg.dcm", load_scan(series, pixels=False))


def test_a_labelmap_value_no_segment_describes_is_refused(series: Path, tmp_path: Path) -> None:
    seg = hd_seg(
        series_datasets(series),
        bilateral_labels(SHAPE),
        ["right", "left"],
        segmentation_type=hd.seg.SegmentationTypeValues.LABELMAP,
    )
    seg.SegmentSequence = [s for s in seg.SegmentSequence if s.SegmentNumber != 2]  # value 2 stays
    seg.save_as(tmp_path / "seg.dcm")
    with pytest.raises(
        DicomMaskError, match=r"LABELMAP pixel value 2 \(first in frame \d+\) is described by no"
    ):
        load_mask(tmp_path / "seg.dcm", load_scan(series, pixels=False))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda seg: setattr(seg.SegmentSequence[1], "SegmentNumber", 1),
            "segment number 1 is described twice",
        ),
        (
            lambda seg: setattr(
                seg.PerFrameFunctionalGroupsSequence[3].SegmentIdentificationSequence[0],
                "ReferencedSegmentNumber",
                7,
            ),
            r"SEG frame 4 refers to segment 7, which no segment",
        ),
    ],
    ids=["duplicated", "undescribed"],
)
def test_frames_of_an_undescribed_or_duplicated_segment_are_refused(
    series: Path, tmp_path: Path, edit, message: str
) -> None:
    seg = hd_seg(series_datasets(series), bilateral_labels(SHAPE), ["right", "left"])
    edit(seg)
    seg.save_as(tmp_path / "seg.dcm")
    with pytest.raises(DicomMaskError, match=message):
        load_mask(tmp_path / "seg.dcm", load_scan(series, pixels=False))


@pytest.mark.parametrize(
    ("stated", "message"),
    [
        (0, "MaximumFractionalValue 0: it must be 1 to 255"),
        (65535, "MaximumFractionalValue 65535: it must be 1 to 255"),
        (511, "MaximumFractionalValue 511: it must be 1 to 255"),
        (None, "MaximumFractionalValue missing"),
        (100, r"SEG frame \d+ holds the fraction value 200, above the MaximumFractionalValue 100"),
    ],
)
def test_fractional_seg_without_a_usable_maximum_is_refused(
    series: Path, tmp_path: Path, stated: int | None, message: str
) -> None:
    fractions = (bilateral_labels(SHAPE) > 0).astype(np.float32)
    seg = hd_seg(
        series_datasets(series),
        fractions,
        ["lesion"],
        segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL,
        max_fractional_value=200,
    )
    if stated is None:
        del seg.MaximumFractionalValue
    else:
        seg.MaximumFractionalValue = stated
    seg.save_as(tmp_path / "seg.dcm")
    with pytest.raises(DicomMaskError, match=message):
        load_mask(tmp_path / "seg.dcm", load_scan(series, pixels=False))


def test_overlapping_segments_of_one_hip_are_their_union(series: Path, tmp_path: Path) -> None:
    first = np.zeros(SHAPE, dtype=bool)
    second = np.zeros(SHAPE, dtype=bool)
    first[1:4, 10:20, 30:45] = True
    second[2:5, 15:25, 40:50] = True  # overlaps the first on 2 x 5 x 5 voxels
    seg = hd_seg(series_datasets(series), np.stack([first, second], axis=-1), ["part 1", "part 2"])
    seg.save_as(tmp_path / "seg.dcm")
    read, warnings = load_mask_with_warnings(tmp_path / "seg.dcm", load_scan(series, pixels=False))
    assert np.array_equal(read == 1, first | second) and (read == 1).sum() == 450 + 300 - 50
    assert warnings == [
        f"{tmp_path / 'seg.dcm'}: segment 1 'part 1' and segment 2 'part 2' all lie in the right hip: measured "
        "together as label 1, their union (50 voxels lie in more than one, counted once)"
    ]


def test_segments_of_the_two_hips_sharing_voxels_are_refused(series: Path, tmp_path: Path) -> None:
    right = np.zeros(SHAPE, dtype=bool)
    left = np.zeros(SHAPE, dtype=bool)
    right[1:4, 10:20, 30:170] = True  # centred right of the midline (column 159.5), reaching over it
    left[1:4, 10:20, 165:300] = True
    seg = hd_seg(series_datasets(series), np.stack([right, left], axis=-1), ["a", "b"])
    seg.save_as(tmp_path / "seg.dcm")
    with pytest.raises(DicomMaskError, match=r"share 150 voxels: no voxel lies in both hips"):
        load_mask(tmp_path / "seg.dcm", load_scan(series, pixels=False))
