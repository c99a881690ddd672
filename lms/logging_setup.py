"""Logs go to stderr, one line per request at INFO."""

from __future__ import annotations

import logging
import sys
import time

from flask import Flask, g, request


def init_app(app: Flask) -> None:
    logger = logging.getLogger("lms")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(app.config["LOG_LEVEL"])
    logger.propagate = False
    # Our own request line replaces the development server's access log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    request_logger = logging.getLogger("lms.request")

    @app.before_request
    def start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        request_logger.info(
            '%s "%s %s" %s %.1fms',
            request.remote_addr,
            request.method,
            _loggable_path(),
            response.status_code,
            elapsed_ms,
        )
        return response


def _loggable_path() -> str:
    """The path and query, with a secret in the address (a calendar feed's token) masked."""
    path = request.full_path.rstrip("?")
    token = (request.view_args or {}).get("token")
    return path.replace(token, "[token]") if isinstance(token, str) and token else path
