"""DICOM structured reports of the measures: a TID 1500 Measurement Report, written with highdicom.

:func:`export_sr` writes one scan's lesions; :func:`export_compare_sr` a baseline and a follow-up
with each hip's change. The report's content tree is drawn in the user guide.
"""

from __future__ import annotations

from .export import export_compare_sr, export_sr

__all__ = ["export_compare_sr", "export_sr"]
