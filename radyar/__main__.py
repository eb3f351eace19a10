"""``python -m radyar``: the ``radyar`` command."""

import sys

from radyar.cli import main

sys.exit(main())
