"""``export-sr`` and ``compare --sr``: measure, then write the report, from files named by the user."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import check_not_inputs
from .document import report_dataset, timepoint, write_report

if TYPE_CHECKING:
    from ..change import Comparison
    from ..volume import Measurement

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
    from ..mask import load_mask

    inputs = [measurement.scan.source, mask, *([seg] if seg else [])]
    check_not_inputs([out], inputs)
    labels = load_mask(mask, measurement.scan)
    sr = report_dataset([timepoint(measurement, labels, seg)], reader)
    return write_report(out, sr, overwrite=overwrite, inputs=inputs)


def export_compare_sr(
    comparison: Comparison,
    baseline: tuple[Measurement, PathText],
    followup: tuple[Measurement, PathText],
    out: PathText,
    *,
    reader: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the report of a baseline and a follow-up (each a measurement and its mask) and each hip's change.

    The report is in the follow-up's study; its evidence lists both series.
    """
    from ..mask import load_mask

    inputs = [m.scan.source for m, _ in (baseline, followup)] + [mask for _, mask in (baseline, followup)]
    check_not_inputs([out], inputs)
    timepoints = [
        timepoint(measurement, load_mask(mask, measurement.scan), time_point=when)
        for when, (measurement, mask) in (("followup", followup), ("baseline", baseline))
    ]
    sr = report_dataset(timepoints, reader, comparison)
    return write_report(out, sr, overwrite=overwrite, inputs=inputs)
