"""Access log lines for the bot's web server (webhook, /healthz, the coach dashboard) without
query strings: a dashboard login link carries a one-time sign-in code (?code=…), and whoever reads
the log within its lifetime could use it."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

__all__ = ["PathOnlyAccessLogger", "app_runner"]


class PathOnlyAccessLogger(AbstractAccessLogger):
    """`GET /dashboard/login 200 0.004s`: method, path, status and time; never the query."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


def app_runner(app: web.Application) -> web.AppRunner:
    """An AppRunner that logs access lines with PathOnlyAccessLogger."""
    return web.AppRunner(app, access_log_class=PathOnlyAccessLogger)
