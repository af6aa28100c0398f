"""``python -m kseal_controller``: the same entry point as the ``kseal-controller`` script."""

from kseal_controller.main import run

run()
