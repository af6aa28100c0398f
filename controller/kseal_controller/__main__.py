"""``python -m kseal_controller``: the same entry point as the ``kseal-controller`` script."""

import sys

from kseal_controller.main import run

sys.exit(run())
