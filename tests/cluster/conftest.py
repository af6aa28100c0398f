from tests.emulator import _kmock_session, kmock_server, objects, seed  # noqa: F401
