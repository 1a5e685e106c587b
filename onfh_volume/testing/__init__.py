"""Builders of synthetic scans with exactly known geometry and truth, for tests, samples and benchmarks.

Nothing in the measurement pipeline imports this package (nibabel keeps the same split in
``nibabel.testing``): it writes files that the loaders then read like any scanner's.
"""
