"""Run the Telegram front: long polling, or a webhook server with a secret and /healthz."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.telegram.access_log import app_runner
from bot.telegram.app import ALLOWED_UPDATES

if TYPE_CHECKING:
    from bot.dashboard.server import Dashboard

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_app(
    application: Application, path: str, secret: str, dashboard: Dashboard | None = None
) -> web.Application:
    """aiohttp app: POST /<path> handles updates carrying the secret (else 403) and answers 200
    once done, GET /healthz, and the coach dashboard's pages under /dashboard/ when one is given.
    An empty secret is refused: it would let a request without the header through."""
    if not secret:
        raise ValueError("the webhook needs a secret (TELEGRAM_WEBHOOK_SECRET)")

    async def receive(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise TypeError("an update is a JSON object")
            update = Update.de_json(data, application.bot)
        except (json.JSONDecodeError, ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400, text="bad update")
        # Answered only once handled (replied, or failed and the person told): a process killed
        # meanwhile gives Telegram no answer, so it sends the update again, and the core's claim
        # of the update id makes a copy of one that was in fact handled harmless. Through the
        # update processor, as from the queue: one person's updates in order, others at once.
        await application.update_processor.process_update(update, application.process_update(update))
        return web.Response(text="ok")

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": application.running})

    app = web.Application()
    app.router.add_post(f"/{path.strip('/')}", receive)
    app.router.add_get("/healthz", healthz)
    if dashboard is not None:
        dashboard.add_to(app)
    return app


async def serve_webhook(
    application: Application,
    settings: Settings,
    secret: str,
    stop: asyncio.Event,
    dashboard: Dashboard | None = None,
) -> None:
    """Register the webhook with the Bot API and serve until `stop` is set."""
    t = settings.telegram
    async with application:
        await application.start()
        # PTB runs these only from its own run_polling/run_webhook: the menu, the bot's username,
        # and the in-process delivery worker and scheduler start here.
        if application.post_init is not None:
            await application.post_init(application)
        if t.webhook_public_url:
            url = f"{t.webhook_public_url.rstrip('/')}/{t.webhook_path.strip('/')}"
            await application.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        runner = app_runner(webhook_app(application, t.webhook_path, secret, dashboard))
        await runner.setup()
        await web.TCPSite(runner, t.webhook_listen, t.webhook_port).start()
        log.warning("webhook server listening on %s:%s", t.webhook_listen, t.webhook_port)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
            await application.stop()
            if application.post_shutdown is not None:
                await application.post_shutdown(application)


def run_until_signal(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `main(stop)` until SIGINT or SIGTERM sets `stop`."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())


def run_webhook(
    application: Application, settings: Settings, secret: str, dashboard: Dashboard | None = None
) -> None:
    """Blocking webhook mode until SIGINT/SIGTERM."""
    run_until_signal(lambda stop: serve_webhook(application, settings, secret, stop, dashboard))
