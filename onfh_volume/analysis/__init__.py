"""Reader agreement and a study's statistics, from a cohort's manifest and results.

:mod:`~onfh_volume.analysis.agreement` (``onfh-volume agreement``): ICC, Bland–Altman, smallest
detectable change, κ of the change categories, Dice and HD95 of the masks.
:mod:`~onfh_volume.analysis.statistics` (``onfh-volume stats``): per group and between groups,
Kaplan–Meier and log-rank. Every test is named in the output.
"""
