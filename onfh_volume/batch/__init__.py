"""A cohort in one command: a manifest of scans and masks in, one row per hip out.

:mod:`~onfh_volume.batch.manifest` (read and check the manifest) →
:mod:`~onfh_volume.batch.run` (measure each scan's masks, in processes or on Dask) →
:mod:`~onfh_volume.batch.results` (rows per hip and per slice, CSV) →
:mod:`~onfh_volume.batch.report` (HTML page). ``onfh-volume batch`` strings them together; the output columns they share are in
:mod:`~onfh_volume.batch.columns`.
"""
