"""A cohort in one command: a manifest of scans and masks in, one row per hip out.

:mod:`~onfh_volume.cohort.manifest` (read and check the manifest) →
:mod:`~onfh_volume.cohort.run` (measure each scan's masks, in processes or on Dask) →
:mod:`~onfh_volume.cohort.results` (rows per hip and per slice, CSV) →
:mod:`~onfh_volume.cohort.report` (HTML page). ``onfh-volume batch`` strings them together.
"""

from .manifest import Entry, Manifest, read_manifest
from .report import write_report
from .results import hip_rows, per_slice_rows, write_csv
from .run import measure_cohort

__all__ = [
    "Entry",
    "Manifest",
    "hip_rows",
    "measure_cohort",
    "per_slice_rows",
    "read_manifest",
    "write_csv",
    "write_report",
]
