"""A reader's saved tracing: the mask (NIfTI on the scan's grid) with its measurement as JSON and CSV.

The JSON holds everything (per-slice areas, both volumes, method, geometry, the scan's
SeriesInstanceUID, reader, software version, time); the CSV holds the same per-slice areas in long
format, one row per traced slice of each lesion, ready for a spreadsheet. No patient name or other
DICOM identifier is written: the scan is named by its path and SeriesInstanceUID.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .atomic import write_set
from .errors import OutputExistsError
from .export import measurement_dict, to_json
from .mask import mask_writer, scan_inputs
from .scan import Scan
from .spreadsheet import write_rows
from .vocabulary import LABEL_NAMES, RIGHT_LABEL, Method
from .volume import Measurement, measure

if TYPE_CHECKING:
    from .head import LesionInHead

CSV_COLUMNS = (
    "series_instance_uid",
    "scan",
    "mask",
    "reader",
    "saved_at",
    "software",
    "method",
    "pixel_spacing_row_mm",
    "pixel_spacing_column_mm",
    "slice_thickness_mm",
    "slice_spacing_mm",
    "label",
    "side",
    "volume_cm3",
    "volume_thickness_cm3",
    "volume_cavalieri_cm3",
    "slice",
    "pixels",
    "area_mm2",
)


@dataclass(frozen=True)
class RecordPaths:
    """Where a saved tracing goes: the mask and, beside it, its measurement as JSON and CSV."""

    mask: Path
    json: Path
    csv: Path

    @classmethod
    def beside(cls, mask: str | PathLike[str]) -> RecordPaths:
        """``x_lesions.nii.gz`` → ``x_lesions.json`` and ``x_lesions.csv`` in the same folder.

        Examples
        --------
        >>> RecordPaths.beside("out/sub-01_lesions.nii.gz").csv.name
        'sub-01_lesions.csv'
        """
        mask = Path(mask)
        stem = mask.name.removesuffix(".gz").removesuffix(".nii")
        return cls(mask=mask, json=mask.with_name(stem + ".json"), csv=mask.with_name(stem + ".csv"))

    def existing(self) -> list[Path]:
        """The files of the record that exist already."""
        return [path for path in (self.mask, self.json, self.csv) if path.exists()]


def label_side_warnings(measurement: Measurement) -> list[str]:
    """Warn when a lesion drawn with a side's label lies in the other hip (the label was a slip)."""
    warnings = []
    for lesion in measurement.lesions:
        name = LABEL_NAMES.get(lesion.label)
        expected = "right" if lesion.label == RIGHT_LABEL else "left"
        if name and lesion.side in ("right", "left") and lesion.side != expected:
            warnings.append(
                f"label {lesion.label} ('{name}') lies in the patient's {lesion.side} hip: "
                f"it is reported as the {lesion.side} hip's lesion"
            )
    return warnings


#: The per-lesion lists of slices a tracing aid gave rather than the reader traced, by JSON field:
#: filled between traced slices, proposed by band fill (a click inside the lesion), found by
#: "Find lesions" (no click) and carried from the baseline's tracing ("Carry baseline to follow-up").
#: A record saved before a field existed reads back with that field empty.
AIDED_FIELDS = ("interpolated_slices", "band_fill_slices", "detected_slices", "propagated_slices")

AidedSlices = Mapping[str, Mapping[int, Sequence[int]]]


def record_dict(
    measurement: Measurement,
    mask: Path,
    reader: str | None,
    saved_at: datetime,
    aided: AidedSlices | None = None,
) -> dict:
    """The JSON of a saved tracing: :func:`~onfh_volume.export.measurement_dict` plus who and when.

    Each lesion also lists, under each field of :data:`AIDED_FIELDS`, the slices a tracing aid
    filled rather than the reader traced (``aided[field][label]``), so a reviewer can check them.

    Raises
    ------
    ValueError
        When ``aided`` names a field that is not one of :data:`AIDED_FIELDS`.
    """
    aided = aided or {}
    if unknown := set(aided) - set(AIDED_FIELDS):
        raise ValueError(f"unknown aided-slice fields {sorted(unknown)}: expected some of {AIDED_FIELDS}")
    data = measurement_dict(measurement, mask=str(Path(mask).resolve()))
    data["scan"] = str(Path(data["scan"]).resolve())  # both paths absolute: the record may be moved
    data["reader"] = reader or None
    data["saved_at"] = saved_at.isoformat(timespec="seconds")
    for lesion in data["lesions"]:
        for field in AIDED_FIELDS:
            lesion[field] = sorted(int(k) for k in aided.get(field, {}).get(lesion["label"], ()))
    return rounded(data)


#: Decimals kept in saved records: 1e-9 cm³ or mm² is far below any voxel, and 13.588480000000002
#: would puzzle a reader of the file.
DECIMALS = 9


def rounded(value):
    """``value`` with every float (in nested dicts and lists) rounded to :data:`DECIMALS` decimals.

    Examples
    --------
    >>> rounded({"volume_cm3": 13.588480000000002, "slices": [{"area_mm2": 0.1 + 0.2}]})
    {'volume_cm3': 13.58848, 'slices': [{'area_mm2': 0.3}]}
    """
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item) for item in value]
    return value


def read_aided_slices(mask: str | PathLike[str]) -> dict[str, dict[int, list[int]]]:
    """The aided slices of each label recorded in the JSON beside a saved mask, by field ({} without one).

    Each field of :data:`AIDED_FIELDS` is given, empty when the record predates it.

    Examples
    --------
    >>> read_aided_slices("no/such/mask.nii.gz")
    {}
    """
    path = RecordPaths.beside(mask).json
    try:
        lesions = json.loads(path.read_text(encoding="utf-8")).get("lesions", [])
        return {
            field: {int(lesion["label"]): [int(k) for k in lesion.get(field, [])] for lesion in lesions}
            for field in AIDED_FIELDS
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # no record beside the mask (or not ours): no slice is known to come from an aid


def _csv_rows(measurement: Measurement, data: dict) -> list[dict]:
    common = {
        "series_instance_uid": data["series_instance_uid"] or "",
        "scan": data["scan"],
        "mask": data["mask"],
        "reader": data["reader"] or "",
        "saved_at": data["saved_at"],
        "software": data["software"],
        "method": data["method"],
        "pixel_spacing_row_mm": data["pixel_spacing_mm"][0],
        "pixel_spacing_column_mm": data["pixel_spacing_mm"][1],
        "slice_thickness_mm": _blank(data["slice_thickness_mm"]),
        "slice_spacing_mm": _blank(data["slice_spacing_mm"]),
    }
    return [
        common
        | {
            "label": lesion.label,
            "side": lesion.side,
            "volume_cm3": _blank(lesion.volume(measurement.method)),
            "volume_thickness_cm3": _blank(lesion.volume_thickness_cm3),
            "volume_cavalieri_cm3": _blank(lesion.volume_cavalieri_cm3),
            "slice": index,
            "pixels": int(lesion.pixel_counts[index]),
            "area_mm2": area,
        }
        for lesion in measurement.lesions
        for index, area in lesion.traced_slices()
    ]


def _blank(value: float | None) -> float | str:
    return "" if value is None else value


def _refuse_existing(paths: RecordPaths, overwrite: bool) -> None:
    existing = paths.existing()
    if existing and not overwrite:
        raise OutputExistsError(
            existing[0], f"{len(existing)} file(s) of this tracing exist; refusing to overwrite them"
        )


def save_record(
    mask: str | PathLike[str],
    labels: np.ndarray,
    scan: Scan,
    *,
    method: Method = "thickness",
    reader: str | None = None,
    overwrite: bool = False,
    saved_at: datetime | None = None,
    heads: Mapping[int, LesionInHead] | None = None,
    aided: AidedSlices | None = None,
) -> Measurement:
    """Save a tracing: the mask, and its measurement as JSON and CSV beside it (:class:`RecordPaths`).

    Nothing is written when any of the three files exists and ``overwrite`` is false, nor when
    the scan cannot be measured by ``method``. The three files are written as one set
    (:func:`~onfh_volume.atomic.write_set`): after a failure (a full disk) the previous three are
    still in place, whole. None of them is ever written over the scan or its sidecar.

    ``heads`` (each lesion against its femoral head, by label; see :mod:`onfh_volume.head`) go
    into the JSON with each lesion, as ``measure --json`` gives them.

    ``aided`` names, per field of :data:`AIDED_FIELDS`, the slices of each label a tracing aid
    filled (see :func:`record_dict`).

    Returns
    -------
    Measurement
        What was saved, with :func:`label_side_warnings` added to its warnings.

    Raises
    ------
    OutputExistsError
        When a file of the record exists and ``overwrite`` is false.
    GeometryError, MaskError
        When the labels cannot be measured on the scan (see :func:`onfh_volume.measure`).
    OutputIsInputError, OutputError
        When a file would replace the scan, or the folder cannot be written (names the folder).
    """
    paths = RecordPaths.beside(mask)
    _refuse_existing(paths, overwrite)
    measurement = measure(scan, labels, method, mask_source=str(paths.mask))
    measurement.warnings += label_side_warnings(measurement)
    if heads is not None:
        measurement.heads = dict(heads)
    data = record_dict(measurement, paths.mask, reader, saved_at or datetime.now().astimezone(), aided)
    _write_record(paths, labels, scan, measurement, data, overwrite)
    return measurement


def _write_record(
    paths: RecordPaths, labels: np.ndarray, scan: Scan, measurement: Measurement, data: dict, overwrite: bool
) -> None:
    """Write the mask, the JSON ``data`` and the CSV of ``measurement`` as one set."""

    def write_csv(path: Path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as f:
            write_rows(f, CSV_COLUMNS, rounded(_csv_rows(measurement, data)))

    write_set(
        [
            (paths.mask, mask_writer(paths.mask, labels, scan)),
            (paths.json, lambda path: path.write_text(to_json(data), encoding="utf-8")),
            (paths.csv, write_csv),
        ],
        overwrite=overwrite,
        inputs=scan_inputs(scan),
    )
