"""``batch --draft-masks DIR``: a drafted mask for every manifest row without one.

A baseline row without a mask gets :func:`onfh_volume.draft.detect.detect`'s mask; a follow-up
row without one gets its baseline's mask (traced or drafted) carried over by
:func:`onfh_volume.draft.propagate.propagate`, or a detected one when the hip has no baseline mask
to carry (a hip without a baseline lesion is searched by ``detect`` at follow-up too, and
listed as such). The masks are written to ``DIR`` and measured as any other; the results gain
``mask_source_baseline`` and ``mask_source_followup`` (``traced``, ``detected``, ``propagated``),
and a hip whose draft is ``uncertain`` or needs ``review`` gets that as its status, never a
silent volume. ``DIR/drafts.csv`` lists every drafted hip for review, uncertain ones first.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..batch.manifest import ROI_SEPARATOR, Entry, Manifest
from ..errors import ManifestError, OnfhError

SOURCE_COLUMNS = ("mask_source_baseline", "mask_source_followup")
NEEDS_LOOK = {"uncertain": 0, "review": 1, "failed": 0}


@dataclass(frozen=True)
class Draft:
    """One drafted hip: whose, when, how, what was decided and why."""

    patient_id: str
    reader: str
    timepoint: str
    side: str
    source: str  # "detected" or "propagated"
    status: str  # detect's or propagate's status, or "failed"
    reasons: str
    mask: str


def refuse_roi_on_drafts(manifest: Manifest) -> None:
    """Refuse a row to be drafted that gives a ``roi``, before minutes of drafting.

    A ``roi`` names segments or ROIs of a DICOM SEG or RTSTRUCT; a drafted mask is a label image,
    which has none, so no meaning of it could be honoured: the hip is chosen by ``side``.

    Raises
    ------
    ManifestError
        Naming each such row by its line.
    """
    problems = [
        f"line {entry.line}: roi '{ROI_SEPARATOR.join(entry.roi)}' names segments or ROIs of a DICOM SEG or "
        "RTSTRUCT, but this row's mask is to be drafted, a label image without any: leave roi empty (side "
        "picks the hip)"
        for entry in manifest.entries
        if entry.roi and not entry.mask
    ]
    if problems:
        raise ManifestError(manifest.path, problems)


def draft_masks(manifest: Manifest, folder: Path, overwrite: bool) -> tuple[Manifest, list[Draft]]:
    """The manifest with a drafted mask on every row without one, and every drafted hip."""
    folder.mkdir(parents=True, exist_ok=True)
    done: dict[tuple[str, str, str], tuple[Entry, str]] = {}  # (patient, reader, timepoint) -> row, source
    drafts: list[Draft] = []
    for entry in sorted(manifest.entries, key=lambda e: e.timepoint != "baseline"):
        key = (entry.patient_id, entry.reader, entry.timepoint)
        if entry.mask:
            done[key] = (entry, "traced")
            continue
        path = folder / f"{_safe(entry.patient_id)}_{_safe(entry.reader or 'draft')}_{entry.timepoint}.nii.gz"
        drafted = dataclasses.replace(entry, mask=str(path.resolve()))
        baseline = done.get((entry.patient_id, entry.reader, "baseline"))
        try:
            source, hips = _draft(
                drafted, baseline[0] if baseline and baseline[1] != "failed" else None, overwrite
            )
        except OnfhError as exc:
            drafts.append(
                Draft(
                    entry.patient_id,
                    entry.reader,
                    entry.timepoint,
                    entry.side,
                    "none",
                    "failed",
                    str(exc),
                    "",
                )
            )
            done[key] = (drafted, "failed")
            continue
        done[key] = (drafted, source)
        drafts += [
            Draft(entry.patient_id, entry.reader, entry.timepoint, side, how, status, reasons, str(path))
            for side, how, status, reasons in hips
            if not entry.side or side == entry.side
        ]
    sources = {(p, r): {} for p, r, _ in done}  # type: ignore[var-annotated]
    for (patient, reader, timepoint), (_, source) in done.items():
        sources[patient, reader][f"mask_source_{timepoint}"] = source
    entries = tuple(
        dataclasses.replace(
            done[e.patient_id, e.reader, e.timepoint][0],
            extra=e.extra + tuple((c, sources[e.patient_id, e.reader].get(c, "")) for c in SOURCE_COLUMNS),
        )
        for e in manifest.entries
    )
    extra = manifest.extra_columns + SOURCE_COLUMNS
    return dataclasses.replace(manifest, entries=entries, extra_columns=extra), drafts


def _draft(
    entry: Entry, baseline: Entry | None, overwrite: bool
) -> tuple[str, list[tuple[str, str, str, str]]]:
    """Write the row's drafted mask (``entry.mask``); its source and each hip's (side, source, status,
    reasons): a hip of a propagated row without a baseline lesion is ``detected``."""
    from ..load import load_scan
    from ..mask import load_mask, save_mask
    from ..mask_series import load_scan_for_mask
    from .detect import detect
    from .output import check_output
    from .propagate import propagate

    check_output(entry.mask_path, [entry.scan_path], overwrite)
    scan = load_scan(entry.scan_path, series=entry.series)
    if baseline is not None and entry.timepoint == "followup":
        # The baseline as its row is measured: on the series its DICOM mask references (in a folder
        # of several), and only the lesions of its roi's segments or ROIs.
        baseline_scan = load_scan_for_mask(baseline.scan_path, baseline.mask_path, series=baseline.series)
        baseline_labels = load_mask(baseline.mask_path, baseline_scan, baseline.roi)
        if baseline_labels.any():
            labels, carried = propagate(baseline_scan, baseline_labels, scan)
            hips = [(hip.side, "propagated", hip.status, "; ".join(hip.reasons)) for hip in carried]
            # A hip without a baseline lesion is searched afresh: a new lesion must not go unseen.
            found_labels, found = detect(scan)
            for hip in found:
                if hip.side not in {side for side, *_ in hips}:
                    labels[(found_labels == hip.label) & (labels == 0)] = hip.label
                    hips.append((hip.side, "detected", hip.status, "; ".join(hip.reasons)))
            save_mask(entry.mask_path, labels, scan, overwrite=overwrite)
            return "propagated", hips
    labels, found = detect(scan)
    save_mask(entry.mask_path, labels, scan, overwrite=overwrite)
    return "detected", [(hip.side, "detected", hip.status, "; ".join(hip.reasons)) for hip in found]


def _safe(text: str) -> str:
    """A manifest value as part of a file name."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def mark_rows(rows: list[dict[str, Any]], drafts: list[Draft]) -> None:
    """Give each hip whose draft is uncertain, needs review or failed that as its status."""
    for row in rows:
        for draft in drafts:
            mine = (draft.patient_id, draft.reader) == (row["patient_id"], row["reader"])
            if mine and draft.side in ("", row["side"]) and draft.status in NEEDS_LOOK:
                problem = f"{draft.timepoint} draft {draft.status}: {draft.reasons} (review {draft.mask or 'the row'})"
                row["status"] = problem if row["status"] == "ok" else f"{row['status']}; {problem}"


def write_review_list(folder: Path, drafts: list[Draft], overwrite: bool) -> Path:
    """``folder/drafts.csv``: every drafted hip, uncertain and failed first, then review, then the rest."""
    from ..atomic import write_atomically
    from ..spreadsheet import write_rows

    ordered = sorted(
        drafts, key=lambda d: (NEEDS_LOOK.get(d.status, 2), d.patient_id, d.reader, d.timepoint, d.side)
    )
    columns = [f.name for f in dataclasses.fields(Draft)]

    def write(path: Path) -> None:
        with open(path, "w", encoding="utf-8", newline="") as f:
            write_rows(f, columns, (dataclasses.asdict(draft) for draft in ordered))

    return write_atomically(folder / "drafts.csv", write, overwrite=overwrite)
