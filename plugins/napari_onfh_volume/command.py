"""The ``napari-onfh-volume`` console script: without napari installed, one line naming the extra, exit 2.

``pip install onfh-volume`` installs this script with the core; the viewer it opens needs the
``napari`` extra. The check comes before anything of napari or Qt is imported.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run ``napari-onfh-volume`` (:func:`napari_onfh_volume.view.main`) and exit with its code."""
    from onfh_volume.errors import MissingExtraError
    from onfh_volume.extras import require

    try:
        require("napari", "the viewer")
    except MissingExtraError as exc:
        print(f"napari-onfh-volume: error: {exc}", file=sys.stderr)
        sys.exit(2)
    from .view import main as view

    sys.exit(view())
