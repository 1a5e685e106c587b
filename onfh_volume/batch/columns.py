"""The columns of a batch's outputs: RESULTS.csv (one row per hip) and PER_SLICE.csv, and their status words.

The manifest refuses a clinical column named like one of these, the results fill them, the report
and the output set lay them out: each imports them from here.

Examples
--------
>>> RESULT_COLUMNS[:3], PER_SLICE_COLUMNS[-2:]
(('patient_id', 'side', 'reader'), ('pixels', 'area_mm2'))
>>> OUTPUT_COLUMNS[-1], COUNT_COLUMNS[-1]
('followup_head_review_reasons', 'failed')
"""

from __future__ import annotations

from ..vocabulary import CATEGORIES

RESULT_COLUMNS = (
    "patient_id",
    "side",
    "reader",
    "group",
    "baseline_volume_cm3",
    "followup_volume_cm3",
    "baseline_cavalieri_cm3",
    "followup_cavalieri_cm3",
    "change_pct",
    "category",
    "baseline_slice_thickness_mm",
    "baseline_slice_spacing_mm",
    "followup_slice_thickness_mm",
    "followup_slice_spacing_mm",
    "baseline_labels",
    "followup_labels",
    "method",
    "threshold_pct",
    "baseline_scan",
    "baseline_mask",
    "baseline_roi",
    "followup_scan",
    "followup_mask",
    "followup_roi",
    "warnings",
    "status",
)
HEAD_COLUMNS = tuple(
    f"{timepoint}_{measure}"
    for measure in (
        "necrotic_ratio_pct",
        "steinberg_extent",
        "kerboul_combined_deg",
        "steinberg_near_boundary_pct",
        "collapse_depth_mm",
        "collapse_arco",
        "head_quality",
        "head_review_reasons",
    )
    for timepoint in ("baseline", "followup")
)
"""Added after the RESULT_COLUMNS by ``batch --head``: each timepoint's femoral head measures."""
#: Every column a batch may write to RESULTS.csv before the manifest's own (clinical) columns.
OUTPUT_COLUMNS = RESULT_COLUMNS + HEAD_COLUMNS
PER_SLICE_COLUMNS = (
    "patient_id",
    "side",
    "reader",
    "group",
    "timepoint",
    "label",
    "slice",
    "pixels",
    "area_mm2",
)
#: The status of a hip measured and compared without a problem.
OK = "ok"
#: The pseudo-category of a hip that could not be classified (its status says why).
FAILED = "failed"
#: Column order of category count tables (:func:`onfh_volume.batch.results.category_counts`).
COUNT_COLUMNS = (*CATEGORIES, FAILED)
#: Between the sentences of one cell (warnings, status).
SEPARATOR = " | "
