"""``export-sr`` and ``compare --sr``: measure, then write the report, from files named by the user."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import check_not_inputs
from .document import report_dataset, timepoint, write_report

if TYPE_CHECKING:
    from ..change import Comparison
    from ..volume import Measurement
    from .groups import Timepoint

PathText = str | PathLike[str]


def export_sr(
    measurement: Measurement,
    mask: PathText,
    out: PathText,
    *,
    seg: PathText | None = None,
    reader: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the report of ``measurement`` (of ``mask`` on its scan) to ``out``.

    With ``seg`` (a SEG of the same lesions on the same series) each lesion's group refers to its
    segment; without, to the images it was traced on.

    Raises
    ------
    SrExportError
        A scan without DICOM images, a mask without lesions, a SEG that is not the mask's.
    OutputIsInputError, OutputExistsError
        ``out`` is an input, or exists and ``overwrite`` is false.

    Examples
    --------
    >>> import tempfile
    >>> from onfh_volume import load_scan
    >>> from onfh_volume.measure_files import measure_file
    >>> scan = load_scan("sample_scans/dicom/sub-01/baseline", pixels=False)
    >>> mask = "sample_scans/masks/sub-01_baseline_lesions.nii.gz"
    >>> out = export_sr(measure_file(scan, mask), mask, Path(tempfile.mkdtemp()) / "report.dcm", reader="JD")
    >>> import highdicom as hd
    >>> sr = hd.sr.srread(out)
    >>> report = hd.sr.MeasurementReport.from_sequence([sr])
    >>> [group.tracking_identifier for group in report.get_image_measurement_groups()]
    ['right hip lesion 1', 'left hip lesion 2']
    """
    inputs = _inputs(measurement, mask, seg)
    check_not_inputs([out], inputs)
    sr = report_dataset([_timepoint(measurement, mask, seg)], reader)
    return write_report(out, sr, overwrite=overwrite, inputs=inputs)


def export_compare_sr(
    comparison: Comparison,
    baseline: tuple[Measurement, PathText],
    followup: tuple[Measurement, PathText],
    out: PathText,
    *,
    baseline_seg: PathText | None = None,
    followup_seg: PathText | None = None,
    roi: Sequence[str] = (),
    reader: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the report of a baseline and a follow-up (each a measurement and its mask) and each hip's change.

    The report is in the follow-up's study; its evidence lists both series. A timepoint's SEG
    (``baseline_seg``, ``followup_seg``) makes its lesions' groups refer to their segments, as
    :func:`export_sr`'s ``seg``; ``roi`` names the segments or ROIs the masks were measured by.
    """
    timepoints = (("followup", *followup, followup_seg), ("baseline", *baseline, baseline_seg))
    inputs = [path for _, measurement, mask, seg in timepoints for path in _inputs(measurement, mask, seg)]
    check_not_inputs([out], inputs)
    sr = report_dataset(
        [_timepoint(measurement, mask, seg, when, roi) for when, measurement, mask, seg in timepoints],
        reader,
        comparison,
    )
    return write_report(out, sr, overwrite=overwrite, inputs=inputs)


def _inputs(measurement: Measurement, mask: PathText, seg: PathText | None) -> list[PathText]:
    """The files a timepoint of the report is made from, which the report must never replace."""
    return [measurement.scan.source, mask, *([seg] if seg else [])]


def _timepoint(
    measurement: Measurement,
    mask: PathText,
    seg: PathText | None,
    time_point: str | None = None,
    roi: Sequence[str] = (),
) -> Timepoint:
    """A measurement of ``mask`` ready for the report, its lesions matched to ``seg``'s segments when given."""
    from ..mask import load_mask

    # The lesions measured (``roi``'s segments only), so that each is matched to its segment.
    return timepoint(measurement, load_mask(mask, measurement.scan, roi), seg, time_point)
