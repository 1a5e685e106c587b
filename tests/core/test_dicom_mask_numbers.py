"""A DICOM SEG's or RTSTRUCT's geometry is read as DICOM numbers: NaN or "1_6" is refused, never compared.

A SEG whose PixelSpacing was NaN passed the check that its grid is the scan's (every comparison
with NaN is false) and was measured; a NaN in a frame position or a contour point was an error
about converting NaN to an integer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers import bilateral_labels, hd_seg, series_datasets, write_dicom_series

from onfh_volume.cli import main
from onfh_volume.testing.rtstruct import pixel_to_lps, write_rtstruct

pytestmark = pytest.mark.filterwarnings("ignore:The string .* person name:UserWarning")

BAD = ["nan", "1_6", "inf"]


def refused(capsys: pytest.CaptureFixture[str], scan: Path, mask: Path, words: str) -> None:
    assert main(["measure", str(scan), str(mask)]) == 2
    err = capsys.readouterr().err
    assert err == f"onfh-volume: error: {mask}: {words}\n"


@pytest.fixture
def seg(tmp_path: Path) -> tuple[Path, Path]:
    """A 6-slice series and a two-segment binary SEG of it written by highdicom."""
    folder = write_dicom_series(tmp_path / "series")
    hd_seg(series_datasets(folder), bilateral_labels((6, 40, 320)), ["right", "left"]).save_as(
        tmp_path / "seg.dcm"
    )
    return folder, tmp_path / "seg.dcm"


@pytest.mark.parametrize("bad", BAD)
def test_seg_pixel_spacing_that_is_no_number_is_refused(capsys, seg, bad: str) -> None:
    folder, path = seg
    ds = pydicom.dcmread(path)
    ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing = [bad, bad]
    ds.save_as(path)
    refused(
        capsys, folder, path, f"a SEG frame has an invalid PixelSpacing '{bad}' (not a DICOM decimal string)"
    )


@pytest.mark.parametrize("bad", BAD)
def test_seg_frame_position_that_is_no_number_is_refused(capsys, seg, bad: str) -> None:
    folder, path = seg
    ds = pydicom.dcmread(path)
    position = ds.PerFrameFunctionalGroupsSequence[0].PlanePositionSequence[0]
    position.ImagePositionPatient = [*position.ImagePositionPatient[:2], bad]
    ds.save_as(path)
    refused(
        capsys,
        folder,
        path,
        f"SEG frame 1 has an invalid ImagePositionPatient '{bad}' (not a DICOM decimal string)",
    )


@pytest.mark.parametrize("bad", BAD)
def test_rtstruct_contour_point_that_is_no_number_is_refused(capsys, tmp_path: Path, bad: str) -> None:
    folder = write_dicom_series(tmp_path / "series")
    images = series_datasets(folder)
    points = pixel_to_lps(images[2], np.array([10, 10, 20, 20]), np.array([50, 70, 70, 50]))
    path = write_rtstruct(tmp_path / "rs.dcm", images, {"lesion": [(2, points)]})
    ds = pydicom.dcmread(path)
    contour = ds.ROIContourSequence[0].ContourSequence[0]
    contour.ContourData = [contour.ContourData[0], bad, *contour.ContourData[2:]]
    ds.save_as(path)
    refused(
        capsys,
        folder,
        path,
        f"ROI 1 'lesion' has an invalid ContourData '{bad}' (not a DICOM decimal string)",
    )
