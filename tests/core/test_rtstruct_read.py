"""RTSTRUCT contours land on the scan's slices, filled like an independent rasteriser fills them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import SAMPLES, oblique, series_datasets, write_dicom_series
from rt_utils import RTStructBuilder
from skimage.draw import disk, polygon

from onfh_volume import load_mask, load_scan
from onfh_volume.cli import main
from onfh_volume.errors import DicomMaskError
from onfh_volume.mask import load_mask_with_warnings
from onfh_volume.measure_files import measure_file
from onfh_volume.testing.rtstruct import pixel_to_lps, write_rtstruct
from onfh_volume.vocabulary import RIGHT_LABEL
from onfh_volume.volume import measure

# rt-utils sets attributes pydicom 3 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:'FileDataset.is_:DeprecationWarning")

SHAPE = (6, 40, 320)
#: Vertices at arbitrary (not half-pixel) places, so no pixel centre lies on an edge and any two
#: correct "centre inside" rasterisations agree exactly.
RIGHT_OUTLINE = np.array([[5.3, 20.1], [8.7, 41.6], [27.2, 47.9], [33.6, 30.4], [24.1, 14.7], [12.9, 24.3]])
HOLE = np.array([[14.2, 28.3], [15.1, 36.6], [21.8, 35.2], [20.3, 27.1]])
LEFT_OUTLINE = np.array([[10.4, 250.2], [12.6, 281.7], [30.3, 276.8], [28.8, 255.5]])


def rasterised(outline: np.ndarray) -> np.ndarray:
    """scikit-image's polygon fill of an outline given in (row, column) pixel indices."""
    image = np.zeros(SHAPE[1:], dtype=bool)
    rows, columns = polygon(outline[:, 0], outline[:, 1], SHAPE[1:])
    image[rows, columns] = True
    return image


def contour(images, index: int, outline: np.ndarray) -> tuple[int, np.ndarray]:
    return index, pixel_to_lps(images[index], outline[:, 0], outline[:, 1])


@pytest.mark.parametrize("degrees", [0, 25], ids=["coronal", "oblique"])
def test_hand_written_contours_fill_like_skimage_with_holes_and_sides(tmp_path: Path, degrees: float) -> None:
    folder = write_dicom_series(tmp_path / "series", orientation=oblique(degrees))
    images = series_datasets(folder)
    rois = {
        # The hole is a second contour on the same slice, inside the first.
        "lesion": [
            contour(images, 2, RIGHT_OUTLINE),
            contour(images, 3, RIGHT_OUTLINE),
            contour(images, 3, HOLE),
        ],
        "other lesion": [contour(images, 4, LEFT_OUTLINE)],
    }
    path = write_rtstruct(tmp_path / "rs.dcm", images, rois)
    scan = load_scan(folder, pixels=False)
    labels, warnings = load_mask_with_warnings(path, scan)
    expected = np.zeros(SHAPE, dtype=np.int32)
    expected[2][rasterised(RIGHT_OUTLINE)] = 1
    expected[3][rasterised(RIGHT_OUTLINE) & ~rasterised(HOLE)] = 1
    expected[4][rasterised(LEFT_OUTLINE)] = 2
    assert warnings == []
    assert np.array_equal(labels, expected)
    # And close to the polygon's exact area (shoelace), within the pixels along its perimeter.
    rows, columns = RIGHT_OUTLINE.T
    area = 0.5 * abs(np.dot(rows, np.roll(columns, 1)) - np.dot(columns, np.roll(rows, 1)))
    perimeter = np.linalg.norm(np.diff(np.vstack([RIGHT_OUTLINE, RIGHT_OUTLINE[:1]]), axis=0), axis=1).sum()
    assert abs((labels[2] == 1).sum() - area) < perimeter / 2
    lesions = measure(scan, labels).lesions
    assert [(x.label, x.side) for x in lesions] == [(1, "right"), (2, "left")]


def axial_or_coronal_series(folder: Path, orientation: tuple[float, ...]) -> Path:
    """Square pixels (rt-utils swaps row and column spacing) and the study attributes rt-utils copies."""
    return with_study_attributes(
        write_dicom_series(folder, pixel_spacing=(0.9, 0.9), orientation=orientation)
    )


def with_study_attributes(folder: Path) -> Path:
    """The series rewritten with the (empty) study attributes rt-utils copies, such as StudyID."""
    for ds in series_datasets(folder):
        ds.save_as(ds.filename)
    return folder


@pytest.mark.parametrize(
    "orientation", [(1.0, 0.0, 0.0, 0.0, 1.0, 0.0), (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)], ids=["axial", "coronal"]
)
def test_rtstruct_written_by_rt_utils_gives_back_its_mask(tmp_path: Path, orientation) -> None:
    folder = axial_or_coronal_series(tmp_path / "series", orientation)
    mask = np.zeros(SHAPE, dtype=bool)
    for k, radius in ((1, 6), (2, 9), (3, 8)):
        mask[k][disk((20, 40), radius, shape=SHAPE[1:])] = True
    mask[2, 10:30, 250:262] = True  # the other hip, a rectangle
    builder = RTStructBuilder.create_new(dicom_series_path=str(folder))
    # rt-utils takes (row, column, slice) in its own slice order: ascending along the normal, as ours.
    builder.add_roi(mask=np.moveaxis(mask & (np.arange(320) < 160), 0, -1), name="right hip lesion")
    builder.add_roi(mask=np.moveaxis(mask & (np.arange(320) >= 160), 0, -1), name="left hip lesion")
    builder.save(str(tmp_path / "rs.dcm"))
    labels = load_mask(tmp_path / "rs.dcm", load_scan(folder, pixels=False))
    # In both orientations columns run to the patient's left: low columns are the right hip.
    expected = np.where(mask, np.where(np.arange(320) < 160, 1, 2), 0)
    assert np.array_equal(labels, expected)


def test_contour_off_the_slice_planes_or_field_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_dicom_series(tmp_path / "series")
    images = series_datasets(folder)
    scan = load_scan(folder, pixels=False)
    index, points = contour(images, 2, RIGHT_OUTLINE)
    normal = np.cross(*np.array(images[0].ImageOrientationPatient, dtype=float).reshape(2, 3))
    between = write_rtstruct(tmp_path / "between.dcm", images, {"lesion": [(index, points + 1.0 * normal)]})
    with pytest.raises(DicomMaskError, match=r"ROI 1 'lesion': a contour lies up to 1\.00 mm off"):
        load_mask(between, scan)
    assert main(["measure", str(folder), str(between)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"onfh-volume: error: {between}: ROI 1 'lesion'")
    outside = write_rtstruct(
        tmp_path / "outside.dcm",
        images,
        {"lesion": [contour(images, 2, RIGHT_OUTLINE - np.array([0.0, 30.0]))]},
    )
    with pytest.raises(DicomMaskError, match=r"beyond the scan .* field of view"):
        load_mask(outside, scan)
    wrong_image = write_rtstruct(tmp_path / "wrong.dcm", images, {"lesion": [(3, points)]})
    with pytest.raises(DicomMaskError, match="references the image of slice 4"):
        load_mask(wrong_image, scan)


def test_rtstruct_of_another_series_on_the_same_grid_warns(tmp_path: Path) -> None:
    images = series_datasets(write_dicom_series(tmp_path / "a"))
    path = write_rtstruct(tmp_path / "rs.dcm", images, {"lesion": [contour(images, 2, RIGHT_OUTLINE)]})
    labels, warnings = load_mask_with_warnings(
        path, load_scan(write_dicom_series(tmp_path / "b"), pixels=False)
    )
    assert (labels == RIGHT_LABEL).sum() == rasterised(RIGHT_OUTLINE).sum()
    assert len(warnings) == 1 and "another timepoint's mask" in warnings[0]


@pytest.mark.parametrize(("patient", "timepoint"), [("sub-01", "baseline"), ("sub-03", "followup")])
def test_sample_masks_through_rt_utils_measure_as_the_nifti(
    tmp_path: Path, patient: str, timepoint: str
) -> None:
    """The sample's coronal series (square 1.6 mm pixels) and mask, outlined by rt-utils and read back."""
    folder = with_study_attributes(
        shutil.copytree(SAMPLES / "dicom" / patient / timepoint, tmp_path / "series")
    )
    nifti = SAMPLES / "masks" / f"{patient}_{timepoint}_lesions.nii.gz"
    scan = load_scan(folder, pixels=False)
    truth = load_mask(nifti, scan)
    builder = RTStructBuilder.create_new(dicom_series_path=str(folder))
    for label, name in ((1, "right hip lesion"), (2, "left hip lesion")):
        if (truth == label).any():
            builder.add_roi(mask=np.moveaxis(truth == label, 0, -1), name=name)
    builder.save(str(tmp_path / "rs.dcm"))
    assert np.array_equal(load_mask(tmp_path / "rs.dcm", scan), truth)
    from_rtstruct, from_nifti = measure_file(scan, tmp_path / "rs.dcm"), measure_file(scan, nifti)
    assert [(x.side, x.volume_thickness_cm3) for x in from_rtstruct.lesions] == [
        (x.side, x.volume_thickness_cm3) for x in from_nifti.lesions
    ]


def test_body_outline_roi_is_not_measured(tmp_path: Path) -> None:
    folder = write_dicom_series(tmp_path / "series")
    images = series_datasets(folder)
    body = np.array([[1.5, 2.5], [1.5, 300.5], [38.5, 300.5], [38.5, 2.5]])
    path = write_rtstruct(
        tmp_path / "rs.dcm",
        images,
        {"BODY": [contour(images, 2, body)], "lesion": [contour(images, 2, RIGHT_OUTLINE)]},
        interpreted_types={"BODY": "EXTERNAL"},
    )
    labels, warnings = load_mask_with_warnings(path, load_scan(folder, pixels=False))
    assert np.array_equal(labels[2] == RIGHT_LABEL, rasterised(RIGHT_OUTLINE)) and labels.max() == 1
    assert warnings == [
        f"{path}: ROI 1 'BODY' is an RT ROI of type EXTERNAL, not a lesion: not measured (--roi NAME would measure it)"
    ]
