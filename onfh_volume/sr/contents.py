"""What a measurement report holds, read back with highdicom: one row per value, for people and tests."""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike


@dataclass(frozen=True)
class Row:
    """One value of a report: its group (tracking identifier), what it is, the value and its unit."""

    group: str
    concept: str
    value: str
    unit: str


def report_rows(path: str | PathLike[str]) -> list[Row]:
    """Every measurement and qualitative evaluation (the reasons to review a head among them) of the
    TID 1500 report at ``path``, group by group.

    A measurement is named by its method when it has one (the two volumes), else by its concept.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from onfh_volume import load_scan
    >>> from onfh_volume.measure_files import measure_file
    >>> from onfh_volume.sr import export_sr
    >>> mask = "sample_scans/masks/sub-02_baseline_lesions.nii.gz"
    >>> scan = load_scan("sample_scans/dicom/sub-02/baseline", pixels=False)
    >>> out = export_sr(measure_file(scan, mask), mask, Path(tempfile.mkdtemp()) / "r.dcm")
    >>> for row in report_rows(out)[:2]:
    ...     print(row.group, "|", row.concept, "|", row.value, row.unit)
    right hip lesion 1 | Sum of traced area x slice thickness | 10.24 cm3
    right hip lesion 1 | Cavalieri: sum of traced area x slice spacing | 11.264 cm3
    """
    import highdicom as hd
    from highdicom.sr import ValueTypeValues
    from highdicom.sr.utils import find_content_items

    from .concepts import HEAD_REVIEW_REASON

    report = hd.sr.MeasurementReport.from_sequence([hd.sr.srread(path)])
    groups = [*report.get_volumetric_roi_measurement_groups(), *report.get_image_measurement_groups()]
    rows = []
    for group in groups:
        name = str(group.tracking_identifier)
        for m in group.get_measurements():
            concept = (m.method or m.name).meaning
            rows.append(Row(name, str(concept), f"{m.value:g}", str(m.unit.value)))
        for q in group.get_qualitative_evaluations():
            if q.name.meaning != "Finding category":  # the group's own finding, not an evaluation of it
                rows.append(Row(name, str(q.name.meaning), str(getattr(q.value, "meaning", q.value)), ""))
        for item in find_content_items(group[0], name=HEAD_REVIEW_REASON, value_type=ValueTypeValues.TEXT):
            rows.append(Row(name, str(item.name.meaning), str(item.value), ""))
    return rows
