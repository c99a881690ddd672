"""Logs go to stderr, one line per request at INFO.

A request line holds no personal data it does not need: the route (`/people/<int:user_id>/profile`),
not the address with its ids and query string, and the client's network, not its address.
"""

from __future__ import annotations

import logging
import sys
import time

from flask import Flask, g, request

from lms.common.addresses import shortened


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
            shortened(request.remote_addr),
            request.method,
            _loggable_route(),
            response.status_code,
            elapsed_ms,
        )
        return response


def _loggable_route() -> str:
    """The matched route's pattern; an address that matched none is logged as such (it could hold anything)."""
    rule = request.url_rule
    return rule.rule if rule is not None else "(no route)"
