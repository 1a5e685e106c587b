"""The TID 1500 Measurement Report of one measurement, or of a baseline/follow-up comparison, as a file.

The report is a Comprehensive 3D SR (highdicom) in the study of the scan it measures (the
follow-up's, for a comparison), with the patient and study copied from the source images by the
same rules as the SEG: nothing else, and no identifier made up. Its evidence lists every source
image (and the SEG) it refers to, so a PACS and a viewer can fetch them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from ..atomic import write_atomically
from ..dicom_mask.write_seg import COPIED_TYPE_2, DEVICE_SERIAL, MANUFACTURER, SERIES_NUMBER_OFFSET
from ..errors import SrExportError
from . import concepts as c
from .groups import Timepoint, hip_change_group, lesion_group

if TYPE_CHECKING:
    from ..change import Comparison
    from ..scan import Scan
    from ..volume import Measurement

#: The report's series number: its scan's plus this, so it sorts after the scan and its SEG.
SR_SERIES_OFFSET = SERIES_NUMBER_OFFSET + 1
#: This software as the report's observer device (a UID derived once from its name).
DEVICE_UID = "1.2.826.0.1.3680043.8.498.64753717051647197499959795829621476516"
REPORT_TITLE = "ONFH necrotic lesion measurements"


def scan_headers(scan: Scan) -> list[Any]:
    """The scan's source headers in slice order, each with the type 2 patient and study attributes.

    Raises
    ------
    SrExportError
        A scan without classic DICOM images (NIfTI, Enhanced multi-frame): a report must reference them.
    """
    from ..dicom_mask.source import source_headers

    headers = source_headers(scan, whole=True)
    if headers is None:
        raise SrExportError(
            scan.source,
            "a DICOM structured report references the scan's DICOM images, and this scan has none it can "
            "reference (a NIfTI file or an Enhanced multi-frame file): export from the DICOM series",
        )
    for header in headers:
        for keyword in COPIED_TYPE_2:
            if keyword not in header:
                setattr(header, keyword, None)
    return headers


def match_segments(seg_path: str | PathLike[str], labels: np.ndarray, scan: Scan, headers: list) -> dict:
    """Each lesion label's SEG segment: the one with exactly its voxels (read by highdicom).

    Raises
    ------
    SrExportError
        The SEG is on another series, or a lesion has no segment with the same voxels.
    """
    import highdicom as hd

    try:
        seg = hd.seg.segread(seg_path)
    except Exception as exc:
        raise SrExportError(seg_path, f"not a readable DICOM SEG ({exc})") from exc
    series = {str(item.SeriesInstanceUID) for item in seg.get("ReferencedSeriesSequence", [])}
    if scan.series_uid not in series:
        raise SrExportError(seg_path, f"this SEG is not on the scan's series {scan.series_uid}")
    numbers = [int(segment.SegmentNumber) for segment in seg.SegmentSequence]
    pixels = seg.get_pixels_by_source_instance(
        [str(h.SOPInstanceUID) for h in headers], segment_numbers=numbers, ignore_spatial_locations=True
    )
    found = {}
    for label in (int(v) for v in np.unique(labels) if v):
        same = [n for i, n in enumerate(numbers) if np.array_equal(pixels[..., i] > 0, labels == label)]
        if not same:
            raise SrExportError(seg_path, f"no segment of this SEG holds exactly the mask's lesion {label}")
        found[label] = (seg, same[0])
    return found


def timepoint(
    measurement: Measurement,
    labels: np.ndarray,
    seg: str | PathLike[str] | None = None,
    time_point: str | None = None,
) -> Timepoint:
    """A measurement ready for the report: its source headers, and its SEG's segments when given."""
    headers = scan_headers(measurement.scan)
    segments = {} if seg is None else match_segments(seg, labels, measurement.scan, headers)
    return Timepoint(measurement, headers, segments, time_point)


def _observation_context(reader: str | None) -> Any:
    """The reader who traced (when named) and this software as the device that measured."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    person = None
    if reader:
        person = hd.sr.ObserverContext(
            observer_type=codes.DCM.Person,
            # A name typed freely is one PN component (a trailing ^ says so), as in the SEG.
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                name=reader if "^" in reader else f"{reader}^"
            ),
        )
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=DEVICE_UID, name=MANUFACTURER, model_name=str(__version__)
        ),
    )
    return hd.sr.ObservationContext(observer_person_context=person, observer_device_context=device)


def report_dataset(
    timepoints: list[Timepoint], reader: str | None = None, comparison: Comparison | None = None
) -> Any:
    """The SR dataset: one group per lesion of each timepoint, then one per hip's change.

    The first timepoint's study holds the report (give the follow-up first for a comparison).

    Raises
    ------
    SrExportError
        When no timepoint holds a lesion: a report of nothing says nothing.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    groups = [lesion_group(tp, lesion) for tp in timepoints for lesion in tp.measurement.lesions]
    if comparison is not None:
        baseline, followup = timepoints[1], timepoints[0]
        changes = [hip_change_group(hip, baseline, followup) for hip in comparison.hips]
        groups += [group for group in changes if group is not None]
    if not groups:
        raise SrExportError(
            timepoints[0].measurement.scan.source, "the mask holds no lesion: nothing to report"
        )
    report = hd.sr.MeasurementReport(
        observation_context=_observation_context(reader),
        procedure_reported=codes.SCT.ImagingProcedure,
        imaging_measurements=groups,
    )
    evidence = [header for tp in timepoints for header in tp.headers]
    evidence += list({id(seg): seg for tp in timepoints for seg, _ in tp.segments.values()}.values())
    first = timepoints[0].headers[0]
    with warnings.catch_warnings():
        # The patient's name is copied as the source states it; how it is split is not ours to judge.
        warnings.filterwarnings("ignore", message=".*person name", category=UserWarning)
        sr = hd.sr.Comprehensive3DSR(
            evidence=evidence,
            content=report,
            series_instance_uid=generate_uid(),
            series_number=int(first.get("SeriesNumber") or 0) + SR_SERIES_OFFSET,
            sop_instance_uid=generate_uid(),
            instance_number=1,
            manufacturer=MANUFACTURER,
            manufacturer_model_name=MANUFACTURER,
            software_versions=__version__,
            device_serial_number=DEVICE_SERIAL,
            series_description=REPORT_TITLE,
            is_complete=True,
            is_final=False,
            is_verified=False,
        )
    _declare_scheme(sr)
    return sr


def _declare_scheme(sr: Any) -> None:
    """Name our private coding scheme in the report, as DICOM asks of a local designator."""
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodingSchemeDesignator = c.SCHEME
    item.CodingSchemeName = c.SCHEME_NAME
    item.CodingSchemeResponsibleOrganization = MANUFACTURER
    sr.CodingSchemeIdentificationSequence = [*sr.get("CodingSchemeIdentificationSequence", []), item]


def write_report(
    path: str | PathLike[str],
    sr: Any,
    *,
    overwrite: bool = False,
    inputs: Sequence[str | PathLike[str]] = (),
) -> Path:
    """Write the report atomically (never over an input)."""
    return write_atomically(path, lambda temporary: sr.save_as(temporary), overwrite=overwrite, inputs=inputs)
