"""Inflating a gzipped NIfTI mask: into a buffer of the stated length, so a batch's masks reuse memory."""

from __future__ import annotations

import subprocess
import sys

from helpers import SAMPLES

#: Reads every sample mask five times in a fresh process; prints the minor page faults of one
#: read, and the pages its data fill.
FAULTS = f"""
import resource
from pathlib import Path
from onfh_volume.load.nifti import read_nifti
masks = sorted(Path({str(SAMPLES / "masks")!r}).glob("*.nii.gz"))
read_nifti(masks[0])
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    for mask in masks:
        header, data = read_nifti(mask)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / (5 * len(masks)), data.nbytes / 4096)
"""


def test_masks_read_in_a_row_reuse_the_memory_of_the_one_before() -> None:
    """A buffer grown while inflating was mapped afresh for each mask: a page fault for every 4 kB
    of data (171 a sample mask), most of the inflate's time. Inflated into a buffer of the length
    the gzip trailer states, the next mask's data take the memory the last one's freed."""
    result = subprocess.run([sys.executable, "-c", FAULTS], capture_output=True, text=True, check=True)
    faults, pages = map(float, result.stdout.split())
    assert pages > 100  # large enough to be mapped on its own, as a scan-sized mask is
    assert faults < pages / 4
