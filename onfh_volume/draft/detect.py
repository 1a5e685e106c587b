"""Find every lesion of a scan without a click: each femoral head, lesion or not, and the lesion traced.

For each head found (:func:`onfh_volume.draft.heads.find_heads`), the band fill's own band test is
run over the whole head (:mod:`onfh_volume.draft.pockets`): marrow that a closed dark band cuts
off from the head's far side, across from the dome, is a pocket. The head's marrow is also checked
against its neck's (:mod:`onfh_volume.draft.junction`): marrow a dark line seals off from the
neck's marrow is a lesion's, also where the lesion fills most of the head and reaches its far side.

- **lesion**: the largest pocket spans at least ``MIN_SLICES`` slices and ``MIN_POCKET_MM3``, and
  the band fill traced from its deepest voxel gives a lesion of at least ``MIN_LESION_CM3``;
  the lesion is that tracing, band and subchondral plate included.
  A smaller pocket (or one on one slice) is a lesion too when its band fill runs over
  ``CONFIRMING_SLICES`` slices and ``CONFIRMING_CM3``: thick slices cut the band obliquely.
- **uncertain**: a pocket is there but smaller than that, or the tracing from it fails or stays
  small; the reasons say which. Nothing is traced: the reader looks.
- **lesion** still, when the pocket's tracing is doubtful (any reason here or below): the band
  fill from the head's dome, if it takes in the pocket's seed, runs over ``CONFIRMING_SLICES``
  slices and ``CONFIRMING_CM3`` and passes the same checks (a pocket cut off by a gap of its
  band traces short; the dome's seed reaches the whole lesion).
- **uncertain** too: no pocket, but a dark line of ``DARK_LINE_MM2`` lies deeper than
  :data:`~onfh_volume.draft.pockets.DARK_LINE_DEPTH_MM` inside the head (healthy marrow has none:
  a band open wider than the closing bridges, or one cutting off a lesion that fills the head),
  or the band fill from the head's dome traces a lesion.
- **lesion** too, with no pocket: the head's marrow has lost the fatty signal the same hip's
  trochanter keeps, all over the head (:mod:`onfh_volume.draft.whole_head`), or is darker than
  it (not half dark and half bright), or mottled, with a dark line inside the head: a lesion filling the head, its band at or
  beyond the head-neck junction; never when the head's far side, across from the dome, keeps
  bright and even fatty marrow (a large lesion short of filling the head: ``uncertain`` then). It is traced as the head within its fitted sphere, out to the
  outer bone surface. So is a head with a pocket whose tracing fails or stays under
  ``MIN_LESION_CM3`` when the head's marrow has lost its fatty signal all over or is mottled.
- **uncertain** too: a detected lesion whose tracing stops short of its band (the band runs on
  past its end slice, or a slice between two traced ones lost its marrow:
  :mod:`onfh_volume.draft.under_traced`), or holds less than ``FILLING_SHARE`` of a head whose
  marrow has lost its fatty signal all over (a pocket of marrow inside a lesion filling the
  head, or a small lesion in a head darkened by the field: the whole head would be wrong for
  the second); or, without a pocket, a head darker than the trochanter but not all over.
- **lesion** too, or in place of the draft above: the head's marrow sealed off from the neck's
  over ``MIN_SLICES``, ``MIN_POCKET_MM3`` and ``LARGE_SHARE`` of the head's marrow on the slices
  through the neck, that the draft does not hold (``COVERED`` of it): the junction's draft (the
  head less the healthy marrow the neck's reaches first), unless it is doubtful as a tracing is
  (``uncertain`` then).
- **uncertain** too: any sealed marrow at all in a hip that would be ``no lesion``.
- **no lesion**: none of these.

Thresholds were chosen on the draft set's development seeds (``DEVELOPMENT_SEEDS``,
``SEEN_SEEDS``, ``SEEN_AGAIN_SEEDS``, ``SEEN_THIRD_SEEDS``, ``SEEN_FOURTH_SEEDS`` of
:mod:`onfh_volume.testing.draft_set`); its
``HELD_OUT_SEEDS`` are measured only, by ``benchmarks/bench_detect.py``.

Every draft is for a reader's review.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import OnfhError, ScanError
from ..head.fit import HeadSphere
from ..scan import Scan
from ..trace.barrier import HeadWindow, Settings, head_window
from ..trace.head import Head
from ..trace.segment import trace_lesion
from ..vocabulary import LABEL_OF_SIDE
from .field_edge import flag_detected
from .heads import find_heads
from .inputs import refuse_non_finite, require_orientation
from .junction import Junction, junction
from .pockets import dark_line_mm2, deepest, dome, largest_pocket
from .under_traced import under_traced
from .whole_head import MarrowContrast, head_mask, marrow_contrast

MIN_POCKET_MM3 = 300.0  # enclosed marrow, over the slices, that is a lesion's
MIN_SLICES = 2
MIN_LESION_CM3 = 0.3
CONFIRMING_SLICES = 3  # a small pocket's band fill over this many slices and CONFIRMING_CM3: a lesion
CONFIRMING_CM3 = 1.0
#: A head whose marrow has lost its fatty signal all over, with a pocket whose tracing holds less
#: than this share of the head: the pocket may be marrow enclosed within a lesion filling the
#: head, or a small lesion in a head darkened by the field (a reader tells them apart).
FILLING_SHARE = 0.1
#: A draft holding at least this share of the marrow sealed off from the neck is kept; one
#: holding less stopped short of its band (the junction's draft replaces it).
COVERED = 0.9
#: Sealed marrow over this share of the head's marrow on the slices through the neck: a large
#: lesion, whose band fill competes with a far side inside the lesion (smaller ones, under the
#: dome, are traced by band fill better than by the head less its healthy marrow).
LARGE_SHARE = 0.4
DARK_LINE_MM2 = 10.0  # a dark patch this large inside the head, enclosing nothing: uncertain

Status = str  # "lesion", "no lesion", "uncertain"


@dataclass
class HipDraft:
    """One hip's draft: its head, the decision, why a reader must look, and where the lesion was seeded."""

    side: str
    head: HeadSphere
    status: Status
    reasons: list[str] = field(default_factory=list)
    seed_ras: tuple[float, float, float] | None = None
    mask: np.ndarray | None = None  # the lesion on the scan grid, for status "lesion"

    @property
    def label(self) -> int:
        """The mask label of this hip's lesion: 1 right, 2 left."""
        return LABEL_OF_SIDE[self.side]


def detect(scan: Scan, settings: Settings | None = None) -> tuple[np.ndarray, list[HipDraft]]:
    """Labels (1 right hip, 2 left) of the lesions found, and each hip's draft, right hip first.

    Raises
    ------
    HeadNotFoundError
        When no femoral head is found in the field.
    SeedError
        When the scan does not say where the patient's left and right are.
    NonFiniteError
        When a pixel is NaN or infinite.

    Examples
    --------
    >>> from onfh_volume.testing.phantom_set import small_bilateral_phantom
    >>> phantom = small_bilateral_phantom()
    >>> labels, hips = detect(phantom.scan)
    >>> [(hip.side, hip.status) for hip in hips]
    [('right', 'lesion'), ('left', 'lesion')]
    """
    if scan.voxels is None:
        raise ScanError(scan.source, "the scan was loaded without its pixels: nothing to search")
    refuse_non_finite(scan)
    require_orientation(scan)
    settings = settings or Settings()
    labels = np.zeros(scan.shape, dtype=np.uint8)
    hips = []
    for side, sphere in sorted(find_heads(scan).items(), key=lambda item: item[0] != "right"):
        hip = _hip(scan, side, sphere, settings)
        if hip.mask is not None:
            labels[hip.mask & (labels == 0)] = hip.label
        hips.append(hip)
    flag_detected(scan, hips)
    return labels, hips


def _hip(scan: Scan, side: str, sphere: HeadSphere, settings: Settings) -> HipDraft:
    """Decide one hip (see the module's description)."""
    head = Head.from_sphere(scan, sphere)
    window = head_window(scan, head, dome(scan, head), settings)
    contrast = marrow_contrast(scan, head, side)
    pocket, slices = largest_pocket(window, head)
    if pocket is None:
        draft = _without_pocket(
            scan, side, sphere, settings, dark_line_mm2(window, head, _thickness(scan)), contrast
        )
    else:
        draft = _from_pocket(scan, side, sphere, settings, window, contrast, pocket, slices)
    seal = junction(scan, head, side, dome(scan, head), settings)
    if seal.seed is None:
        return draft
    if seal.lesion.any():
        doubts = _doubts(window, head, contrast, seal.lesion, head_mask(scan, head))
    else:
        doubts = ["the sealed marrow is too thin (under 3 mm across) to draft from"]
    return _against_the_neck(scan, draft, seal, doubts)


def _against_the_neck(scan: Scan, draft: HipDraft, seal: Junction, doubts: list[str]) -> HipDraft:
    """The draft checked against the marrow a dark line seals off from the neck (:mod:`.junction`).

    Sealed marrow over ``MIN_SLICES``, ``MIN_POCKET_MM3`` and ``LARGE_SHARE`` of the head's marrow
    on the neck's slices is a large lesion's: a draft holding ``COVERED`` of it is kept; else the
    junction's draft replaces it, unless that draft has ``doubts`` (:func:`_doubts`): ``uncertain``
    then. Any sealed marrow keeps a hip from ``no lesion``: ``uncertain`` then too.
    """
    assert seal.seed is not None
    sealed = (
        f"a dark line seals {seal.sealed_mm3 / 1000:.2f} cm³ of the head's marrow off from the neck's, "
        f"on {seal.sealed_slices} of the {len(seal.neck_slices)} slices through the neck"
    )
    large = seal.sealed_share >= LARGE_SHARE
    if large and seal.sealed_slices >= MIN_SLICES and seal.sealed_mm3 >= MIN_POCKET_MM3:
        held = np.count_nonzero(seal.sealed & draft.mask) if draft.mask is not None else 0
        if held >= COVERED * np.count_nonzero(seal.sealed):
            return draft
        if not doubts:
            return HipDraft(draft.side, draft.head, "lesion", [], _ras(scan, seal.seed), seal.lesion)
        return HipDraft(draft.side, draft.head, "uncertain", [sealed, *doubts], _ras(scan, seal.seed))
    if draft.status != "no lesion":
        return draft
    return HipDraft(draft.side, draft.head, "uncertain", [sealed], _ras(scan, seal.seed))


def _from_pocket(
    scan: Scan,
    side: str,
    sphere: HeadSphere,
    settings: Settings,
    window: HeadWindow,
    contrast: MarrowContrast | None,
    pocket: np.ndarray,
    slices: int,
) -> HipDraft:
    """Decide a hip with a pocket: band fill from its deepest voxel, then from the dome."""
    head = Head.from_sphere(scan, sphere)
    area = float(np.prod(scan.pixel_spacing))
    volume_mm3 = pocket.sum() * area * _slice_mm(scan, "spacing")
    seed = deepest(window, pocket)
    seed_ras = _ras(scan, seed)
    reasons = []
    if slices < MIN_SLICES:
        reasons.append(f"marrow enclosed by a dark band on {slices} slice only")
    if volume_mm3 < MIN_POCKET_MM3:
        reasons.append(f"marrow enclosed by a dark band of {volume_mm3 / 1000:.2f} cm³ only")
    whole = head_mask(scan, head)
    try:
        mask = trace_lesion(scan, seed, settings).mask
    except OnfhError as exc:
        mask, failure = np.zeros_like(whole), f"band fill from it failed: {exc.problem}"
    else:
        failure = ""
    traced_cm3 = mask.sum() * area * _thickness(scan) / 1000
    if contrast is not None and (contrast.whole_head or contrast.mottled) and traced_cm3 < MIN_LESION_CM3:
        return HipDraft(side, sphere, "lesion", [], seed_ras, whole)
    if not failure and slices < MIN_SLICES and traced_cm3 < MIN_LESION_CM3:
        # A ring on one slice that band fill finds no lesion in (a red-marrow island's rim, a
        # vessel's): no pocket; the checks of a head without one still apply.
        return _without_pocket(
            scan, side, sphere, settings, dark_line_mm2(window, head, _thickness(scan)), contrast
        )
    if failure:
        reasons.append(failure)
    elif traced_cm3 < MIN_LESION_CM3:
        reasons.append(f"band fill from it traced {traced_cm3:.2f} cm³ only")
    elif _confirmed(mask, scan):
        # A small pocket (thick slices cut the band obliquely) whose band fill runs on over
        # several slices within a band: the lesion, as the tracing's own band test confirms it.
        reasons = []
    if not reasons:
        reasons = _doubts(window, head, contrast, mask, whole)
    if not reasons:
        return HipDraft(side, sphere, "lesion", [], seed_ras, mask)
    # A second seed: band fill from the dome, kept when it takes in the pocket's seed and passes
    # the same checks (a pocket cut off by a band's gap, or at its edge, traces short).
    top = dome(scan, head)
    try:
        domed = trace_lesion(scan, top, settings).mask
    except OnfhError:
        return HipDraft(side, sphere, "uncertain", reasons, seed_ras)
    if domed[seed] and _confirmed(domed, scan) and not _doubts(window, head, contrast, domed, whole):
        return HipDraft(side, sphere, "lesion", [], _ras(scan, top), domed)
    return HipDraft(side, sphere, "uncertain", reasons, seed_ras)


def _doubts(
    window: HeadWindow, head: Head, contrast: MarrowContrast | None, mask: np.ndarray, whole: np.ndarray
) -> list[str]:
    """Why a tracing is doubtful: it stops short of its band, or is small in a head that lost its fatty signal."""
    reasons = under_traced(window, mask[:, window.rows, window.columns], head.radius_mm)
    return reasons + _smaller_than_its_head(contrast, mask.sum() / max(whole.sum(), 1))


def _confirmed(mask: np.ndarray, scan: Scan) -> bool:
    """Whether a tracing runs over ``CONFIRMING_SLICES`` slices and ``CONFIRMING_CM3``."""
    cm3 = mask.sum() * float(np.prod(scan.pixel_spacing)) * _thickness(scan) / 1000
    return bool(np.count_nonzero(mask.any(axis=(1, 2))) >= CONFIRMING_SLICES and cm3 >= CONFIRMING_CM3)


def _ras(scan: Scan, index: tuple[int, int, int]) -> tuple[float, float, float]:
    """A voxel's centre in RAS mm."""
    x, y, z = (float(v) for v in scan.index_to_patient(np.array([index]))[0])
    return (x, y, z)


def _smaller_than_its_head(contrast: MarrowContrast | None, traced_share: float) -> list[str]:
    """Why a tracing holding less than ``FILLING_SHARE`` of a head whose marrow has lost its fatty
    signal all over is doubtful (a pocket of marrow enclosed within a lesion that fills the head,
    traced in place of the lesion); empty when it is not."""
    if contrast is None or not contrast.whole_head or traced_share >= FILLING_SHARE:
        return []
    return [
        f"the head's marrow has lost its fatty signal all over ({contrast.median:.2f} of the "
        f"trochanter's, median), but the tracing holds {traced_share:.0%} of the head: "
        "a lesion filling the head?"
    ]


def _without_pocket(
    scan: Scan,
    side: str,
    sphere: HeadSphere,
    settings: Settings,
    dark_line_mm2: float,
    contrast: MarrowContrast | None,
) -> HipDraft:
    """No closed band: a lesion filling the head when the head's marrow has lost its fatty signal
    (:mod:`onfh_volume.draft.whole_head`); else ``no lesion``, unless a dark line runs inside the
    head, the head is darker than the trochanter, or the band fill from the dome finds a lesion (a
    band open wider than the closing bridges, a lesion filling the head): ``uncertain`` then."""
    head = Head.from_sphere(scan, sphere)
    top = dome(scan, head)
    seed_ras = _ras(scan, top)
    dark_line = dark_line_mm2 >= DARK_LINE_MM2
    if contrast is not None and (
        contrast.whole_head
        or (
            dark_line
            and (contrast.mottled or (contrast.darker and not (contrast.patchy or contrast.far_fatty)))
        )
    ):
        return HipDraft(side, sphere, "lesion", [], seed_ras, head_mask(scan, head))
    reasons = []
    if dark_line:
        reasons.append(f"a dark line of {dark_line_mm2:.0f} mm² inside the head encloses no marrow")
    if contrast is not None and contrast.darker:
        reasons.append(
            f"the head's marrow is darker than the trochanter's ({contrast.median:.2f} of it, median)"
        )
        if contrast.far_fatty:
            reasons.append("but its far side keeps fatty marrow: a lesion short of filling the head?")
    try:
        traced_cm3 = trace_lesion(scan, top, settings).mask.sum() * float(np.prod(scan.pixel_spacing))
        traced_cm3 *= _thickness(scan) / 1000
    except OnfhError:
        traced_cm3 = 0.0
    if traced_cm3 >= MIN_LESION_CM3:
        reasons.append(f"band fill from the dome traced {traced_cm3:.2f} cm³")
    if not reasons:
        return HipDraft(side, sphere, "no lesion")
    reasons.append("an open band or a lesion filling the head?")
    return HipDraft(side, sphere, "uncertain", reasons, seed_ras)


def _thickness(scan: Scan) -> float:
    return _slice_mm(scan, "thickness")


def _slice_mm(scan: Scan, first: str) -> float:
    """The slice's length in mm for the detector's own sizes: ``first`` (thickness or spacing) when
    the scan states it, else the other; a scan that states neither is a single slice and refused."""
    lengths = (scan.slice_thickness, scan.slice_spacing)
    for length in lengths if first == "thickness" else lengths[::-1]:
        if length is not None:
            return float(length)
    raise ScanError(scan.source, "a single slice with no stated thickness: the heads are searched in 3D")


def hip_dict(scan: Scan, labels: np.ndarray, hip: HipDraft) -> dict[str, object]:
    """One hip's draft as the JSON gives it: side, status, reasons, seed, volumes and head."""
    from .output import head_dict, volumes_cm3

    return {
        "side": hip.side,
        "label": hip.label,
        "status": hip.status,
        "reasons": hip.reasons,
        "seed_ras_mm": None if hip.seed_ras is None else [round(v, 2) for v in hip.seed_ras],
        **volumes_cm3(scan, labels, hip.label),
        "head": head_dict(hip.head),
    }
