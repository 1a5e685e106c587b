"""Lesion volumes and 15% categories with SimpleITK: the script a researcher would write."""

import csv
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

manifest, output = Path(sys.argv[1]), sys.argv[2]
labels = {"right": 1, "left": 2}
volumes = {}
series = {}  # each series folder is read once, whatever number of masks were traced on it
with open(manifest, newline="") as f:
    for row in csv.DictReader(f):
        folder = str(manifest.parent / row["scan"])
        if folder not in series:
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(reader.GetGDCMSeriesFileNames(folder))
            reader.MetaDataDictionaryArrayUpdateOn()
            series[folder] = reader.Execute(), float(reader.GetMetaData(0, "0018|0050"))
        image, thickness = series[folder]
        mask = sitk.ReadImage(str(manifest.parent / row["mask"]))
        if mask.GetSize() != image.GetSize():
            sys.exit(f"{row['mask']}: mask and scan sizes differ")
        count = int(np.count_nonzero(sitk.GetArrayViewFromImage(mask) == labels[row["side"]]))
        column_spacing, row_spacing, _ = image.GetSpacing()
        volume = count * column_spacing * row_spacing * thickness / 1000
        volumes.setdefault((row["patient_id"], row["side"]), {})[row["timepoint"]] = volume

with open(output, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(
        ["patient_id", "side", "baseline_volume_cm3", "followup_volume_cm3", "change_pct", "category"]
    )
    for (patient, side), volume in sorted(volumes.items()):
        before, after = volume["baseline"], volume["followup"]
        if before == 0:
            change, category = None, "new lesion" if after > 0 else "no lesion"
        else:
            change = (after - before) / before * 100
            category = (
                "increase" if change >= 15 - 1e-4 else "decrease" if change <= -15 + 1e-4 else "no change"
            )
        writer.writerow([patient, side, before, after, change, category])
