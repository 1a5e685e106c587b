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
from ..errors import ManifestError, OnfhError, OutputError, OutputExistsError

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


REVIEW_LIST = "drafts.csv"


def draft_path(folder: Path, entry: Entry) -> Path:
    """Where the row's drafted mask is written: ``PATIENT_READER_TIMEPOINT.nii.gz`` in ``folder``."""
    return folder / f"{_safe(entry.patient_id)}_{_safe(entry.reader or 'draft')}_{entry.timepoint}.nii.gz"


def refuse_shared_draft_names(manifest: Manifest) -> dict[str, Entry]:
    """Refuse two rows that would be drafted to one file; each drafted file's first row, by file name.

    Rows of one patient, reader and timepoint on one scan (one row per hip) share their drafted mask.
    Patient IDs differing only by spaces, punctuation or case (``P 1``, ``P_1``, ``p_1``) do not:
    one patient's row would be measured on the other's draft.

    Raises
    ------
    ManifestError
        Naming both lines and the file.
    """
    first: dict[str, Entry] = {}
    for entry in (e for e in manifest.entries if not e.mask):
        # Case-blind: on Windows and macOS "P1" and "p1" are one file.
        name = draft_path(Path(), entry).name
        earlier = first.setdefault(name.casefold(), entry)
        if _key(earlier) != _key(entry) or earlier.scan_path != entry.scan_path:
            raise ManifestError(
                manifest.path,
                [
                    f"lines {earlier.line} and {entry.line}: patient '{earlier.patient_id}' ({earlier.timepoint}) "
                    f"and patient '{entry.patient_id}' ({entry.timepoint}) would both be drafted to {name}: "
                    "make their patient_id (or reader) differ by more than spaces, punctuation and case"
                ],
            )
    return first


def check_drafts(manifest: Manifest, folder: Path, overwrite: bool) -> None:
    """Refuse, before any drafting, a draft folder that is a file, two rows drafting to one file, a
    drafted mask or review list that would replace an input, or (without ``overwrite``) one that exists.

    Raises
    ------
    OutputError, ManifestError, OutputIsInputError, OutputExistsError
        One line naming the file (or the manifest's lines) and the problem.
    """
    from ..atomic import check_not_inputs

    if folder.exists() and not folder.is_dir():
        raise OutputError(
            folder, "is a file, not a folder: --draft-masks names the folder drafted masks go to"
        )
    drafted = refuse_shared_draft_names(manifest).values()
    outputs = [draft_path(folder, entry) for entry in drafted] + [folder / REVIEW_LIST]
    inputs = [manifest.path, *(e.scan_path for e in manifest.entries)]
    check_not_inputs(outputs, inputs + [e.mask_path for e in manifest.entries if e.mask])
    for path in outputs:
        if path.exists() and not overwrite:
            raise OutputExistsError(path, "file exists; refusing to overwrite it (--force replaces it)")


def _key(entry: Entry) -> tuple[str, str, str]:
    return entry.patient_id, entry.reader, entry.timepoint


def draft_masks(manifest: Manifest, folder: Path, overwrite: bool) -> tuple[Manifest, list[Draft]]:
    """The manifest with a drafted mask on every row without one, and every drafted hip.

    Call :func:`check_drafts` first: it refuses what this would write over.
    """
    folder.mkdir(parents=True, exist_ok=True)
    done: dict[tuple[str, str, str], tuple[Entry, str]] = {}  # (patient, reader, timepoint) -> row, source
    hips_of: dict[tuple[str, str, str], list[tuple[str, str, str, str]]] = {}
    drafts: list[Draft] = []
    for entry in sorted(manifest.entries, key=lambda e: e.timepoint != "baseline"):
        key = _key(entry)
        if entry.mask:
            done[key] = (entry, "traced")
            continue
        drafted = dataclasses.replace(entry, mask=str(draft_path(folder, entry).resolve()))
        if key not in hips_of:  # a second row of the same scan (one row per hip) shares the draft
            baseline = done.get((entry.patient_id, entry.reader, "baseline"))
            try:
                source, hips_of[key] = _draft(
                    drafted, baseline[0] if baseline and baseline[1] != "failed" else None, overwrite
                )
            except OnfhError as exc:
                source, hips_of[key] = "failed", [(entry.side, "none", "failed", str(exc))]
            done[key] = (drafted, source)
        mask = "" if done[key][1] == "failed" else drafted.mask
        drafts += [
            Draft(entry.patient_id, entry.reader, entry.timepoint, side, how, status, reasons, mask)
            for side, how, status, reasons in hips_of[key]
            if not entry.side or side in (entry.side, "")
        ]
    sources = {(p, r): {} for p, r, _ in done}  # type: ignore[var-annotated]
    for (patient, reader, timepoint), (_, source) in done.items():
        sources[patient, reader][f"mask_source_{timepoint}"] = source
    entries = tuple(
        dataclasses.replace(
            e,
            # Each row keeps its own traced mask (rows of one scan may trace one hip each).
            mask=e.mask or done[_key(e)][0].mask,
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
    reasons): a hip of a propagated row without a baseline lesion is ``detected``, a hip whose head
    is not found ``uncertain`` (never a healthy hip of 0 cm³)."""
    from ..load import load_scan
    from ..mask import load_mask, save_mask
    from ..mask_series import load_scan_for_mask
    from .checked import checked_detect, checked_propagate
    from .field_edge import missing_sides, not_found
    from .output import check_output

    check_output(entry.mask_path, [entry.scan_path], overwrite)
    scan = load_scan(entry.scan_path, series=entry.series)
    hips: list[tuple[str, str, str, str]] = []
    labels = None
    if baseline is not None and entry.timepoint == "followup":
        # The baseline as its row is measured: on the series its DICOM mask references (in a folder
        # of several), and only the lesions of its roi's segments or ROIs.
        baseline_scan = load_scan_for_mask(baseline.scan_path, baseline.mask_path, series=baseline.series)
        baseline_labels = load_mask(baseline.mask_path, baseline_scan, baseline.roi)
        if baseline_labels.any():
            labels, carried, _ = checked_propagate(baseline_scan, baseline_labels, baseline.mask_path, scan)
            hips = [(hip.side, "propagated", hip.status, "; ".join(hip.reasons)) for hip in carried]
    # A hip without a baseline lesion is searched afresh: a new lesion must not go unseen.
    found_labels, found, *_ = checked_detect(scan)
    if labels is None:
        labels = found_labels
    for hip in found:
        if hip.side not in {side for side, *_ in hips}:
            labels[(found_labels == hip.label) & (labels == 0)] = hip.label
            hips.append((hip.side, "detected", hip.status, "; ".join(hip.reasons)))
    missing = missing_sides(scan, [side for side, *_ in hips], entry.side)
    hips += [(side, "detected", "uncertain", not_found(side)) for side in missing]
    save_mask(entry.mask_path, labels, scan, overwrite=overwrite)
    return ("propagated" if any(how == "propagated" for _, how, *_ in hips) else "detected"), hips


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

    return write_atomically(folder / REVIEW_LIST, write, overwrite=overwrite)
