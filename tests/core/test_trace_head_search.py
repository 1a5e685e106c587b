"""Band fill from a seed inside a femoral head where the head search from the seed itself fails."""

from __future__ import annotations

import numpy as np
import pytest

from onfh_volume.errors import HeadError
from onfh_volume.head.find import find_head as find_head_sphere
from onfh_volume.testing.draft_set import detect_spec
from onfh_volume.testing.phantom import make_phantom
from onfh_volume.trace.segment import trace_lesion

#: Hip 1021 at baseline: a lesion over most of the head, 3 mm slices 3.5 mm apart; this voxel, on
#: the fifth slice from the head's middle, is where no-click detection seeded band fill.
SEED_1021 = (14, 54, 46)


@pytest.fixture(scope="module")
def phantom():
    return make_phantom(detect_spec(1021))


def test_the_head_search_fails_from_the_seed_itself(phantom) -> None:
    """The case the fallback is for (guards the test below against a phantom that changed)."""
    (head,) = phantom.heads
    centre = phantom.scan.index_to_patient(np.array([SEED_1021], dtype=float))[0]
    assert head.radius_mm - np.linalg.norm(centre - head.centre_ras) > 5.0  # well inside the head
    assert phantom.labels[SEED_1021] == 1
    try:
        sphere = find_head_sphere(phantom.scan, SEED_1021)
    except HeadError:
        return
    # A head fitted from the seed: then it must be away from the slices (beyond the scan), which
    # the band fill refuses as well.
    k = np.linalg.solve(phantom.scan.affine[:3, :3], sphere.centre_ras - phantom.scan.affine[:3, 3])[0]
    assert not 0 <= k <= phantom.scan.shape[0] - 1


def test_a_seed_inside_the_head_is_traced_in_the_head_found_from_a_nearby_slice(phantom) -> None:
    tracing = trace_lesion(phantom.scan, SEED_1021)
    (head,) = phantom.heads
    assert np.linalg.norm(tracing.head.centre_ras(phantom.scan) - head.centre_ras) < 1.5
    assert abs(tracing.head.radius_mm - head.radius_mm) < 1.0
    assert tracing.mask[SEED_1021]
    truth = phantom.labels == 1
    # What it traces is lesion (band and plate included), not the healthy marrow around it.
    assert np.count_nonzero(tracing.mask & truth) / np.count_nonzero(tracing.mask) > 0.75
