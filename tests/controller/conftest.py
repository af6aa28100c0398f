"""The API emulator's fixtures (tests/emulator.py), for the controller's tests."""

from tests.emulator import _kmock_session, kmock_server, kube, objects, seed  # noqa: F401
