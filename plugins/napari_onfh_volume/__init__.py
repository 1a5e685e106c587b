"""napari plugin of onfh-volume: trace ONFH lesions on hip MRI and read their volume live.

A thin layer over :mod:`onfh_volume`: the reader, writer and sample data contributions, and the
"Lesion volume" dock widget (model in this package, Qt widgets in ``_qt``).
"""

from onfh_volume import __version__

__all__ = ["__version__"]
