"""Inflating a gzipped NIfTI mask: into a buffer of the stated length, so a batch's masks reuse memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

#: Reads the mask at argv[1] 30 times in a fresh process, after 10 reads to settle; prints the
#: minor page faults of one read, and the pages its data fill.
FAULTS = """
import resource, sys
from pathlib import Path
from onfh_volume.load.nifti import read_nifti
mask = Path(sys.argv[1])
for _ in range(10):
    read_nifti(mask)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(30):
    header, data = read_nifti(mask)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 30, data.nbytes / 4096)
"""


def test_masks_read_in_a_row_reuse_the_memory_of_the_one_before(tmp_path: Path) -> None:
    """A buffer grown while inflating was mapped afresh for each mask: a page fault for every 4 kB
    of data (281 for a mask of the benchmark's small cohort), most of the inflate's time. Inflated
    into a buffer of the length the gzip trailer states, a mask's data take the memory the last
    one's freed."""
    labels = np.zeros((240, 200, 24), np.uint8)
    labels[100:130, 80:110, 8:14] = 1
    mask = tmp_path / "mask.nii.gz"
    nib.save(nib.Nifti1Image(labels, np.diag([0.8, 0.8, 3.3, 1.0])), mask)
    # glibc's own settings: a Dask cluster started by another test sets MALLOC_TRIM_THRESHOLD_
    # in this process (its workers give memory back at once, and map it again).
    environment = {name: value for name, value in os.environ.items() if not name.startswith("MALLOC_")}
    result = subprocess.run(
        [sys.executable, "-c", FAULTS, str(mask)], capture_output=True, text=True, check=True, env=environment
    )
    faults, pages = map(float, result.stdout.split())
    assert pages == labels.nbytes / 4096
    assert faults < pages / 4
