"""A lesion over most of the head, its band crossing below the head's centre, traced whole from one click.

Hip 1021's follow-up (the draft set's phantom family): the band runs from the articular surface
on one side, down past the head's centre, to the head-neck junction; healthy marrow is left only in
a crescent above the neck. The reader traces everything inside the band.
"""

from __future__ import annotations

import numpy as np
import pytest

from onfh_volume.testing.draft_set import detect_spec, followup, followup_move
from onfh_volume.testing.phantom import make_phantom
from onfh_volume.trace.segment import trace_lesion


@pytest.fixture(scope="module")
def phantom():
    return followup(detect_spec(1021), followup_move(1021), 1021)


def test_the_lesion_reaches_below_the_head_centre(phantom) -> None:
    """The case itself: the lesion's marrow reaches more than a quarter of the head's radius below its centre."""
    (head,) = phantom.heads
    scan = phantom.scan
    lesion = np.argwhere(phantom.labels == 1)
    below = head.centre_ras[2] - scan.index_to_patient(lesion.astype(float))[:, 2]
    assert below.max() > 0.5 * head.radius_mm


def test_one_click_traces_the_whole_lesion(phantom) -> None:
    truth = phantom.labels == 1
    tracing = trace_lesion(phantom.scan, phantom.central_click(1))
    dice = 2 * np.count_nonzero(tracing.mask & truth) / (tracing.mask.sum() + truth.sum())
    assert dice > 0.9
    truth_slices = set(np.nonzero(truth.any(axis=(1, 2)))[0].tolist())
    assert len(truth_slices - set(tracing.slices)) <= 1


def test_healthy_marrow_parted_from_the_far_edge_is_not_taken_for_the_lesion() -> None:
    """Hip 917 at baseline: a lesion under the dome, 5 mm slices; on its last slices a dark line
    parts healthy marrow from the far edge of the head's cross-section. Traced from the voxel
    no-click detection seeds it from, that marrow stays out."""
    phantom = make_phantom(detect_spec(917))
    truth = phantom.labels == 1
    tracing = trace_lesion(phantom.scan, (5, 54, 74))
    assert truth[5, 54, 74]
    dice = 2 * np.count_nonzero(tracing.mask & truth) / (tracing.mask.sum() + truth.sum())
    assert dice > 0.8
    assert tracing.mask.sum() < 1.3 * truth.sum()
