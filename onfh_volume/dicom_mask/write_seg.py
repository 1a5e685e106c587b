"""Write a lesion mask as a DICOM SEG beside its scan's series, for the PACS (highdicom)."""

from __future__ import annotations

import unicodedata
import warnings
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from .. import __version__
from ..atomic import write_atomically
from ..errors import SegExportError, shown
from ..scan import Scan
from ..side import side_of
from ..vocabulary import LABEL_NAMES, LABEL_OF_SIDE, RIGHT
from .source import source_headers

if TYPE_CHECKING:
    import highdicom as hd

    from ..load.dicom_header import Header

MANUFACTURER = "onfh-volume"
#: highdicom requires a device serial number; software has none, so a constant stands in.
DEVICE_SERIAL = "1"
#: The SEG's series number: the source's plus this, so it sorts after its scan in a PACS.
SERIES_NUMBER_OFFSET = 1000
#: Patient and study attributes a SEG copies from its source (DICOM type 2: present, possibly empty),
#: and nothing else of the patient: a source without one gets it empty, no identifier is made up,
#: and the source's other patient fields (comments, history, other names, clinical-trial IDs) stay
#: out of the SEG.
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
#: What highdicom reads of each source image besides COPIED_TYPE_2: which image it is, and where.
SOURCE_REFERENCE = (
    "SOPClassUID",
    "SOPInstanceUID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SeriesNumber",
    "Modality",
    "FrameOfReferenceUID",
    "PositionReferenceIndicator",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
    "SpacingBetweenSlices",
    "Rows",
    "Columns",
)
#: A Person Name component group holds at most 64 characters.
MAX_READER_CHARACTERS = 64


def segment_descriptions(scan: Scan, labels: np.ndarray) -> tuple[list, np.ndarray, list[str]]:
    """One segment per label, named and coded by its hip; the labels as segment numbers 1..n; and
    what the side rule warns about.

    Each segment is SCT "Necrosis" (a morphologically abnormal structure) in the femoral head,
    with the side as the anatomic region's laterality, traced manually.

    Raises
    ------
    SegExportError
        A label centred on the midline, or lying on both sides of it: a segment is coded with one
        side, so a label spanning both hips would go to the PACS as one hip's lesion.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    present = [int(v) for v in np.unique(labels) if v != 0]
    numbers = np.zeros(labels.shape, dtype=np.uint8 if len(present) < 256 else np.uint16)
    descriptions, seen, warnings = [], dict.fromkeys(LABEL_OF_SIDE, 0), []
    for number, label in enumerate(present, start=1):
        voxels = labels == label
        decision = side_of(scan, np.argwhere(voxels), label)
        side = decision.side
        if not side:
            raise SegExportError(
                scan.source, f"label {label} is centred on the scan's left-right centre: which hip?"
            )
        if decision.straddles:
            raise SegExportError(
                scan.source,
                f"label {label} lies on both sides of the patient's midline: a SEG segment is one hip's "
                "lesion (give each hip's lesion its own label)",
            )
        warnings += decision.warnings
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
    return descriptions, numbers, warnings


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
    the source images (:data:`COPIED_TYPE_2` only), the reader as content creator and this
    software's version. Frames are written only where a segment has pixels.
    :func:`write_seg_with_warnings` also returns what the side rule warns about.

    Raises
    ------
    SegExportError
        A scan without DICOM source images (NIfTI, Enhanced multi-frame), images of several
        studies or patients, a mask without lesions, a label spanning both hips, or a reader's name
        that is not one DICOM person name.
    OutputIsInputError
        ``path`` is the scan or lies in its folder.
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    OutputError
        The folder cannot be written (a full disk, no permission): nothing is replaced.
    """
    return write_seg_with_warnings(path, labels, scan, reader=reader, overwrite=overwrite)[0]


def write_seg_with_warnings(
    path: str | PathLike[str],
    labels: np.ndarray,
    scan: Scan,
    *,
    reader: str | None = None,
    overwrite: bool = False,
) -> tuple[Path, list[str]]:
    """:func:`write_seg`, with the side rule's warnings about the lesions."""
    creator = reader_name(path, reader)
    headers = source_headers(scan, whole=True)
    if headers is None:
        raise SegExportError(
            scan.source,
            "a DICOM SEG references the scan's DICOM images, and this scan has none a SEG can reference "
            "(a NIfTI file or an Enhanced multi-frame file): export from the DICOM series",
        )
    one_study(scan, headers)
    if not np.any(labels):
        raise SegExportError(path, "the mask holds no lesion: a DICOM SEG needs at least one segment")
    descriptions, numbers, warnings_ = segment_descriptions(scan, np.asarray(labels))
    with warnings.catch_warnings():
        # The patient's name is copied as the source states it; how it is split is not ours to judge.
        warnings.filterwarnings("ignore", message=".*person name", category=UserWarning)
        seg = _segmentation([copied(header) for header in headers], numbers, descriptions, creator)
    written = write_atomically(
        path, lambda temporary: seg.save_as(temporary), overwrite=overwrite, inputs=[scan.source]
    )
    return written, warnings_


def reader_name(path: str | PathLike[str], reader: str | None) -> str | None:
    """``--reader`` as the SEG's ContentCreatorName: one DICOM person name, as typed.

    A name without ``^`` is one name component (a trailing ``^`` says so), e.g. initials. A
    backslash (which would make it several names), ``=`` (which starts an ideographic
    spelling), a control character such as a line break, or more than 64 characters is refused
    rather than changed: the name is the reader's signature on the SEG.

    Examples
    --------
    >>> reader_name("seg.dcm", "JD"), reader_name("seg.dcm", "Doe^Jane"), reader_name("seg.dcm", "")
    ('JD^', 'Doe^Jane', None)
    """
    if not reader:
        return None
    bad = next((c for c in reader if c in "\\=" or unicodedata.category(c).startswith("C")), None)
    if bad is not None:
        raise SegExportError(
            path,
            f"--reader '{shown(reader)}' holds {bad!r}, which a DICOM person name cannot hold: type the name alone",
        )
    if len(reader) > MAX_READER_CHARACTERS:
        raise SegExportError(
            path,
            f"--reader is {len(reader)} characters long; a DICOM person name holds at most {MAX_READER_CHARACTERS}",
        )
    return reader if "^" in reader else f"{reader}^"


def one_study(scan: Scan, headers: list) -> None:
    """Refuse source images of several studies or patients: a SEG belongs to one study of one patient."""
    for keyword, what in (("StudyInstanceUID", "studies"), ("PatientID", "patients")):
        values = {str(header.get(keyword, "")) for header in headers}
        if len(values) > 1:
            raise SegExportError(
                scan.source,
                f"the series' images name {len(values)} different {what} ({keyword}): a SEG belongs to one "
                "study of one patient; fix the series' headers first",
            )


def copied(header: Header | Dataset) -> Dataset:
    """What the SEG takes from one source image: its reference and geometry, and COPIED_TYPE_2.

    A SpecificCharacterSet present but empty means the default repertoire: it is left out.
    """
    kept = Dataset()
    for keyword in (*SOURCE_REFERENCE, "SpecificCharacterSet"):
        value = header.get(keyword)
        if any(str(v).strip() for v in (value if isinstance(value, MultiValue | list) else [value or ""])):
            setattr(kept, keyword, value)
    for keyword in COPIED_TYPE_2:
        setattr(kept, keyword, header.get(keyword))
    return kept


def _segmentation(
    headers: list, numbers: np.ndarray, descriptions: list, creator: str | None
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
        content_creator_name=creator,
    )
