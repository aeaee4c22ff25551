"""`make_handouts serve`: the web app under uvicorn, on the loopback interface unless
told otherwise. Logs say what was asked and how it went (method, path without query,
status, time), never a body."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import uvicorn

from .app import create_app

LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                            "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "make_handouts": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}

PROXY_WARNING = (
    "serve: warning: listening on {host}, not only this machine. The app has no log-in of "
    "its own: put it behind the hospital's authenticating reverse proxy (HTTPS, single "
    "sign-on) and let only that proxy reach this port (see README, 'Web app').")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(host: str, port: int, sources_dir: Path, layouts_dir: Path, workers: int | None,
          timeout: float) -> int:
    """Run until interrupted; the render workers warm up as the server starts."""
    if not is_loopback(host):
        print(PROXY_WARNING.format(host=host), file=sys.stderr)
    app = create_app(sources_dir, layouts_dir, workers, timeout)
    uvicorn.run(app, host=host, port=port, log_config=LOG_CONFIG, access_log=False,
                server_header=False, proxy_headers=False, timeout_graceful_shutdown=10)
    return 0
