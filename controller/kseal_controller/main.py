"""``kseal-controller``: parse the flags, connect, start the controller and its two servers,
and stop gracefully on SIGTERM (SIGUSR1 makes a new sealing key now)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kseal_controller.config import Config
    from kseal_controller.controller import Controller
    from kseal_controller.kube import Kube

from kseal.errors import KsealError

log = logging.getLogger("kseal_controller")


def run(argv: Sequence[str] | None = None) -> int:
    import os

    from kseal_controller import config as config_mod

    try:
        cfg = config_mod.parse(sys.argv[1:] if argv is None else argv, os.environ)
    except KsealError as exc:
        print(f"kseal-controller: error: {exc}", file=sys.stderr)
        for hint in exc.hints:
            print(f"kseal-controller: hint: {hint}", file=sys.stderr)
        return 2
    if cfg.help:
        print(config_mod.usage())
        return 0
    if cfg.version:
        from kseal import __version__

        print(f"kseal-controller {__version__}")
        return 0
    from kseal_controller import logs

    logs.setup(cfg.log_level, cfg.log_format, cfg.log_info_stdout)
    from kseal_controller.apierrors import ApiError

    try:
        return serve(cfg)
    except KsealError as exc:
        log.error("%s", exc.message)
        for hint in exc.hints:
            log.error("hint: %s", hint)
        return 1
    except (ApiError, TimeoutError) as exc:  # ApiError messages name requests, never bodies
        log.error("cannot start: %s", exc)
        return 1


@dataclass
class Running:
    """A started controller and the ports its two servers listen on."""

    controller: Controller
    api_port: int
    metrics_port: int


def serve(
    cfg: Config,
    *,
    kube: Kube | None = None,
    stop: threading.Event | None = None,
    on_ready: Callable[[Running], None] | None = None,
) -> int:
    """Run until ``stop`` is set or SIGTERM/SIGINT arrives (signals only in the main thread)."""
    from kseal_controller import http, metrics
    from kseal_controller.api import Handlers
    from kseal_controller.controller import Controller
    from kseal_controller.kube import Kube

    stop = stop or threading.Event()
    kube = kube or Kube.connect(cfg.kubeconfig, cfg.context)
    meters = metrics.Metrics()
    controller = Controller(cfg, kube, meters)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGUSR1, lambda *_: controller.new_key_now.set())
    for warning in cfg.warnings:
        log.warning("%s", warning)
    controller.start(cfg.workers)
    api_server = http.serve(
        cfg.listen_addr,
        Handlers(controller),
        meters,
        cfg.rate_limit,
        cfg.rate_limit_burst,
        read_timeout=cfg.read_timeout.total_seconds(),
    )
    metrics_server = meters.serve(cfg.listen_metrics_addr)
    log.info(
        "controller started: %d key(s), %d worker(s), namespaces %s",
        len(controller.keyring),
        cfg.workers,
        "all" if cfg.all_namespaces else cfg.namespace,
    )
    if on_ready is not None:
        on_ready(Running(controller, api_server.port, metrics_server.port))
    stop.wait()
    log.info("stopping: finishing in-flight work")
    api_server.shutdown()
    controller.stop()
    metrics_server.shutdown()
    log.info("stopped")
    return 0
