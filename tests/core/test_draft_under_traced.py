"""A drafted tracing that stops short of its band is flagged; the whole lesion is not.

The phantom's own truth stands in for the tracing: the follow-up of family hip 512, whose band
fill once stopped four slices short (band fill now reaches the band there, so the truth cut short
is the tracing that stops short).
"""

from __future__ import annotations

import numpy as np
import pytest

from onfh_volume.draft.under_traced import under_traced
from onfh_volume.testing.draft_set import detect_spec, followup, followup_move
from onfh_volume.trace.barrier import Settings, head_window
from onfh_volume.trace.head import Head


@pytest.fixture(scope="module")
def case():
    spec = detect_spec(512)
    phantom = followup(spec, followup_move(512), 512)
    (sphere,) = phantom.heads
    head = Head.from_sphere(phantom.scan, sphere)
    label = spec.lesions[0].label
    window = head_window(phantom.scan, head, phantom.central_click(label), Settings())
    truth = (phantom.labels == label)[:, window.rows, window.columns]
    return window, truth, head.radius_mm


def test_the_whole_lesion_is_not_flagged(case) -> None:
    window, truth, radius_mm = case
    assert under_traced(window, truth, radius_mm) == []


@pytest.mark.parametrize("end", ["first", "last"])
def test_a_tracing_three_slices_short_is_flagged_on_a_slice_the_lesion_goes_on(case, end) -> None:
    window, truth, radius_mm = case
    slices = np.nonzero(truth.any(axis=(1, 2)))[0]
    short = truth.copy()
    if end == "last":
        short[slices[-3] :] = False
    else:
        short[: slices[2] + 1] = False
    reasons = [reason for reason in under_traced(window, short, radius_mm) if "band runs on" in reason]
    assert len(reasons) == 1, reasons
    beyond = int(reasons[0].rsplit("slice ", 1)[1])
    assert truth[beyond].any() and not short[beyond].any()
