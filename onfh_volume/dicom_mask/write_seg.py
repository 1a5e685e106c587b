"""Write a lesion mask as a DICOM SEG beside its scan's series, for the PACS (highdicom)."""

from __future__ import annotations

import warnings
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import __version__
from ..atomic import check_not_inputs, write_atomically
from ..errors import SegExportError
from ..mask import load_mask
from ..scan import Scan
from ..side import side_of
from ..vocabulary import LABEL_NAMES, LABEL_OF_SIDE, RIGHT
from .source import source_headers

if TYPE_CHECKING:
    import highdicom as hd

MANUFACTURER = "onfh-volume"
#: highdicom requires a device serial number; software has none, so a constant stands in.
DEVICE_SERIAL = "1"
#: The SEG's series number: the source's plus this, so it sorts after its scan in a PACS.
SERIES_NUMBER_OFFSET = 1000
#: Patient and study attributes a SEG copies from its source (DICOM type 2: present, possibly empty).
#: A source without one gets it empty: no identifier is ever made up.
COPIED_TYPE_2 = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "AccessionNumber",
    "StudyID",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
)


def segment_descriptions(scan: Scan, labels: np.ndarray) -> tuple[list, np.ndarray]:
    """One segment per label, named and coded by its hip; and the labels as segment numbers 1..n.

    Each segment is SCT "Necrosis" (a morphologically abnormal structure) in the femoral head,
    with the side as the anatomic region's laterality, traced manually.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    present = [int(v) for v in np.unique(labels) if v != 0]
    numbers = np.zeros(labels.shape, dtype=np.uint8 if len(present) < 256 else np.uint16)
    descriptions, seen = [], dict.fromkeys(LABEL_OF_SIDE, 0)
    for number, label in enumerate(present, start=1):
        voxels = labels == label
        side = side_of(scan, np.argwhere(voxels)).side
        if not side:
            raise SegExportError(
                scan.source, f"label {label} is centred on the scan's left-right centre: which hip?"
            )
        seen[side] += 1
        name = LABEL_NAMES[LABEL_OF_SIDE[side]] + (f" {seen[side]}" if seen[side] > 1 else "")
        description = hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=name,
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Necrosis,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            anatomic_regions=[codes.SCT.FemoralHead],
        )
        laterality = codes.SCT.Right if side == RIGHT else codes.SCT.Left
        description.AnatomicRegionSequence[0].AnatomicRegionModifierSequence = [
            hd.sr.CodedConcept.from_code(laterality)
        ]
        descriptions.append(description)
        numbers[voxels] = number
    return descriptions, numbers


def write_seg(
    path: str | PathLike[str],
    labels: np.ndarray,
    scan: Scan,
    *,
    reader: str | None = None,
    overwrite: bool = False,
    series: str | None = None,
) -> Path:
    """Write ``labels`` (slice, row, column) on ``scan`` as a DICOM SEG file, atomically.

    The SEG references the scan's series and each source image, carries the patient and study of
    the source images (and no other identifier), the reader as content creator and this
    software's version. Frames are written only where a segment has pixels.

    Raises
    ------
    SegExportError
        A scan without DICOM source images (NIfTI, Enhanced multi-frame), or a mask without lesions.
    OutputIsInputError
        ``path`` is the scan or lies in its folder.
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    """
    headers = source_headers(scan, whole=True)
    if headers is None:
        raise SegExportError(
            scan.source,
            "a DICOM SEG references the scan's DICOM images, and this scan has none a SEG can reference "
            "(a NIfTI file or an Enhanced multi-frame file): export from the DICOM series",
        )
    for header in headers:
        for keyword in COPIED_TYPE_2:
            if keyword not in header:
                setattr(header, keyword, None)
    if not np.any(labels):
        raise SegExportError(path, "the mask holds no lesion: a DICOM SEG needs at least one segment")
    descriptions, numbers = segment_descriptions(scan, np.asarray(labels))
    with warnings.catch_warnings():
        # The patient's name is copied as the source states it; how it is split is not ours to judge.
        warnings.filterwarnings("ignore", message=".*person name", category=UserWarning)
        seg = _segmentation(headers, numbers, descriptions, reader)
    return write_atomically(
        path, lambda temporary: seg.save_as(temporary), overwrite=overwrite, inputs=[scan.source]
    )


def _segmentation(
    headers: list, numbers: np.ndarray, descriptions: list, reader: str | None
) -> hd.seg.Segmentation:
    import highdicom as hd
    from pydicom.uid import generate_uid

    return hd.seg.Segmentation(
        source_images=headers,
        pixel_array=numbers,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=int(headers[0].get("SeriesNumber") or 0) + SERIES_NUMBER_OFFSET,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MANUFACTURER,
        software_versions=__version__,  # the installed package's metadata
        device_serial_number=DEVICE_SERIAL,
        content_label="LESIONS",
        content_description="ONFH necrotic lesions",
        # A name typed freely is one PN component (a trailing ^ says so), e.g. initials.
        content_creator_name=None if not reader else reader if "^" in reader else f"{reader}^",
    )


def export_seg(
    scan_path: str | PathLike[str],
    mask_path: str | PathLike[str],
    out: str | PathLike[str],
    *,
    reader: str | None = None,
    overwrite: bool = False,
    series: str | None = None,
) -> Path:
    """``onfh-volume export-seg``: the mask (NIfTI, SEG or RTSTRUCT) on the DICOM scan as a new SEG.

    Raises
    ------
    OutputIsInputError
        ``out`` is the scan or the mask, or lies in the scan's folder (a PACS export stays as it came).
    SegExportError
        See :func:`write_seg`.

    Examples
    --------
    >>> import tempfile, pydicom
    >>> out = export_seg(
    ...     "sample_scans/dicom/sub-01/baseline",
    ...     "sample_scans/masks/sub-01_baseline_lesions.nii.gz",
    ...     Path(tempfile.mkdtemp()) / "lesions.dcm",
    ...     reader="JD",
    ... )
    >>> seg = pydicom.dcmread(out)
    >>> [segment.SegmentLabel for segment in seg.SegmentSequence], seg.ContentCreatorName
    (['right hip lesion', 'left hip lesion'], 'JD^')
    """
    from ..extras import require
    from ..load import load_scan

    require("seg", "writing a DICOM SEG")
    check_not_inputs([out], [scan_path, mask_path])
    scan = load_scan(scan_path, series=series, pixels=False)
    return write_seg(out, load_mask(mask_path, scan), scan, reader=reader, overwrite=overwrite)
