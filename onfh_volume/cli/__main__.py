"""``python -m onfh_volume.cli``: the same as the ``onfh-volume`` command."""

import sys

from . import main

sys.exit(main())
