"""The dashboard's web front (aiohttp): thin handlers that read the request, run one page
function in a worker thread inside one database transaction, and write the response.

Every request with a session passes the same gate: a live session (cookie), the user's role
from `actor_for` (coach or admin, as the chat's COACH routes), the CSRF token on every POST,
then the page, whose ownership checks go through `CoachAccess`; a refusal rolls back whatever
the page had begun and shows a plain 403 page. Refusals are logged with the user id and a
reason only. The bot token is used for the Mini App signature check and never shown or logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aiohttp import web

from bot.coaching.access import AccessDenied, Who, actor_for
from bot.config import Settings
from bot.dashboard import cohort_page, events_page, inbox, member_page, overview, reminders_page
from bot.dashboard.auth import csrf_matches, redeem_login, session_for, start_session
from bot.dashboard.initdata import InitDataError, check_init_data
from bot.dashboard.render import page_html, pick_locale
from bot.dashboard.urls import PREFIX, is_https
from bot.dashboard.viewer import Download, Page, Redirect, Result, Viewer
from bot.storage import Database, Repositories, run_with_retry, utcnow

__all__ = ["COOKIE", "Dashboard"]

log = logging.getLogger(__name__)

COOKIE = "umkm_dashboard"
STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {"dashboard.css": "text/css", "dashboard.js": "application/javascript"}
# Telegram Web shows Mini Apps in a frame; nothing else may frame the pages.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'; "
        "frame-ancestors 'self' https://web.telegram.org"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
ID = r"{%s:\d{1,9}}"


@dataclass
class Outcome:
    """A response computed in the worker thread."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)
    location: str | None = None
    new_session: tuple[str, float] | None = None  # token, max age in seconds
    end_session: bool = False


class Dashboard:
    """The dashboard's routes over one database; add them to the webhook server or serve alone."""

    def __init__(
        self, settings: Settings, database: Database, bot_token: str = "", *, now: Callable[[], datetime] = utcnow
    ) -> None:
        self.settings = settings
        self.database = database
        self._token = bot_token  # for the Mini App signature only
        self.now = now
        self.admins = settings.admin_ids()
        self._static = {name: (STATIC / name).read_bytes() for name in STATIC_TYPES}

    # -- wiring -------------------------------------------------------------------------------

    def routes(self) -> list[web.AbstractRouteDef]:
        p = PREFIX
        return [
            web.get(f"{p}", self._home_redirect),
            web.get(f"{p}/", self.home),
            web.get(f"{p}/app", self.mini_app),
            web.post(f"{p}/auth/webapp", self.mini_app_login),
            web.get(f"{p}/login", self.login_page),
            web.post(f"{p}/login", self.login),
            web.post(f"{p}/logout", self.logout),
            web.get(f"{p}/signed-out", self.signed_out),
            web.get(f"{p}/static/{{name}}", self.static),
            web.get(f"{p}/cohorts/{ID % 'cohort'}", self.cohort),
            web.get(f"{p}/cohorts/{ID % 'cohort'}/export.{{kind:csv|xlsx}}", self.export),
            web.get(f"{p}/cohorts/{ID % 'cohort'}/members/{ID % 'user'}", self.member),
            web.get(f"{p}/cohorts/{ID % 'cohort'}/events", self.events),
            web.get(f"{p}/cohorts/{ID % 'cohort'}/reminders", self.reminders),
            web.get(f"{p}/events/{ID % 'event'}", self.event),
            web.post(f"{p}/events/{ID % 'event'}/attendance", self.attendance),
            web.post(f"{p}/events/{ID % 'event'}/attendance-all", self.attendance_all),
            web.post(f"{p}/reminders/{ID % 'reminder'}/{{action:pause|resume|cancel}}", self.reminder_action),
            web.get(f"{p}/inbox", self.inbox),
            web.post(f"{p}/inbox/{ID % 'thread'}/reply", self.reply),
            web.post(f"{p}/inbox/{ID % 'thread'}/draft", self.draft),
        ]

    def add_to(self, app: web.Application) -> None:
        """Serve the dashboard from an existing aiohttp application (the webhook server's)."""
        app.router.add_routes(self.routes())

    def application(self) -> web.Application:
        """A stand-alone aiohttp application (`umkm-bot dashboard`), with /healthz."""
        app = web.Application()
        self.add_to(app)

        async def healthz(_: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        app.router.add_get("/healthz", healthz)
        return app

    # -- pages behind a session ---------------------------------------------------------------

    async def home(self, request: web.Request) -> web.StreamResponse:
        return await self._viewer_page(request, overview.overview)

    async def cohort(self, request: web.Request) -> web.StreamResponse:
        chosen = cohort_page.TableFilter.parse(request.query)
        cohort_id = int(request.match_info["cohort"])
        return await self._viewer_page(request, lambda v: cohort_page.cohort_page(v, cohort_id, chosen))

    async def export(self, request: web.Request) -> web.StreamResponse:
        chosen = cohort_page.TableFilter.parse(request.query)
        cohort_id, kind = int(request.match_info["cohort"]), request.match_info["kind"]
        return await self._viewer_page(request, lambda v: cohort_page.cohort_export(v, cohort_id, chosen, kind))

    async def member(self, request: web.Request) -> web.StreamResponse:
        cohort_id, user_id = int(request.match_info["cohort"]), int(request.match_info["user"])
        return await self._viewer_page(request, lambda v: member_page.member_page(v, cohort_id, user_id))

    async def events(self, request: web.Request) -> web.StreamResponse:
        cohort_id = int(request.match_info["cohort"])
        return await self._viewer_page(request, lambda v: events_page.events_page(v, cohort_id))

    async def event(self, request: web.Request) -> web.StreamResponse:
        event_id, notice = int(request.match_info["event"]), request.query.get("notice", "")[:20]
        return await self._viewer_page(request, lambda v: events_page.event_page(v, event_id, notice))

    async def attendance(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        event_id, user = int(request.match_info["event"]), str(form.get("user", ""))
        if not user.isdigit() or len(user) > 9:
            raise web.HTTPBadRequest()
        attended = form.get("attended") == "yes"
        work = lambda v: events_page.mark(v, event_id, int(user), attended)  # noqa: E731
        return await self._viewer_page(request, work, form=form)

    async def attendance_all(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        event_id = int(request.match_info["event"])
        return await self._viewer_page(request, lambda v: events_page.mark_all(v, event_id), form=form)

    async def reminders(self, request: web.Request) -> web.StreamResponse:
        cohort_id, notice = int(request.match_info["cohort"]), request.query.get("notice", "")[:20]
        return await self._viewer_page(request, lambda v: reminders_page.reminders_page(v, cohort_id, notice))

    async def reminder_action(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        reminder_id, action = int(request.match_info["reminder"]), request.match_info["action"]
        return await self._viewer_page(request, lambda v: reminders_page.change(v, reminder_id, action), form=form)

    async def inbox(self, request: web.Request) -> web.StreamResponse:
        notice = request.query.get("notice", "")[:20]
        thread = request.query.get("thread", "")
        thread_id = int(thread) if thread.isdigit() and len(thread) < 10 else None
        return await self._viewer_page(request, lambda v: inbox.inbox_page(v, notice, thread_id))

    async def reply(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        thread_id, text = int(request.match_info["thread"]), str(form.get("text", ""))
        return await self._viewer_page(request, lambda v: inbox.reply(v, thread_id, text), form=form)

    async def draft(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        thread_id = int(request.match_info["thread"])
        return await self._viewer_page(request, lambda v: inbox.save_draft(v, thread_id), form=form)

    async def _viewer_page(
        self, request: web.Request, work: Callable[[Viewer], Result], *, form: object = None
    ) -> web.StreamResponse:
        token = request.cookies.get(COOKIE)
        csrf = None if form is None else str(form.get("csrf", ""))  # type: ignore[attr-defined]
        locale = self._guest_locale(request)
        outcome = await asyncio.to_thread(
            run_with_retry, lambda: self._as_viewer(token, form is not None, csrf, locale, work)
        )
        return self._response(request, outcome)

    def _as_viewer(
        self, token: str | None, post: bool, csrf: str | None, locale: str, work: Callable[[Viewer], Result]
    ) -> Outcome:
        """The gate every signed-in page passes, then the page, in one transaction."""
        with self.database.transaction() as session:
            repos = Repositories(session)
            now = self.now()
            row = session_for(repos, token, now)
            user = None if row is None else repos.users.by_id(row.user_id)
            if row is None or user is None:
                if token:
                    self._refused(None, "session-ended")
                return self._html(locale, "signed_out", {}, 401, end_session=bool(token))
            actor = actor_for(repos, user, self.admins)
            viewer = Viewer(repos, user, actor, row, now, self.settings)
            if not actor.may(Who.COACH):
                self._refused(user.id, "not-coach")
                return self._html(user.locale, "refused", {"kind": "not_coach"}, 403)
            if post and not csrf_matches(row, csrf):
                self._refused(user.id, "csrf")
                return self._html(user.locale, "refused", {"kind": "csrf", "viewer": viewer}, 403)
            repos.web.touch(row, now)
            savepoint = session.begin_nested()
            try:
                result = work(viewer)
                outcome = self._result(viewer, result)
            except AccessDenied:
                savepoint.rollback()
                return self._html(user.locale, "refused", {"kind": "not_yours", "viewer": viewer}, 403)
            savepoint.commit()
            return outcome

    def _result(self, viewer: Viewer, result: Result) -> Outcome:
        if isinstance(result, Redirect):
            return Outcome(status=303, location=result.location)
        if isinstance(result, Download):
            disposition = f'attachment; filename="{result.filename}"'
            return Outcome(body=result.content, content_type=result.content_type,
                           headers={"Content-Disposition": disposition})  # fmt: skip
        assert isinstance(result, Page)
        return self._html(viewer.locale, result.template, {**result.context, "viewer": viewer}, result.status)

    # -- signing in and out -------------------------------------------------------------------

    async def mini_app(self, request: web.Request) -> web.StreamResponse:
        """The Mini App's first page: its script posts the signed initData from the fragment."""
        return self._response(request, self._html(self._guest_locale(request), "app", {}, 200))

    async def mini_app_login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        init_data = str(form.get("init_data", ""))
        locale = self._guest_locale(request)
        outcome = await asyncio.to_thread(run_with_retry, lambda: self._mini_app_login(init_data, locale))
        return self._response(request, outcome)

    def _mini_app_login(self, init_data: str, locale: str) -> Outcome:
        config = self.settings.dashboard
        now = self.now()
        try:
            telegram_user = check_init_data(init_data, self._token, now, config.initdata_max_age_seconds)
        except InitDataError as exc:
            self._refused(None, f"initdata-{exc.reason}")
            return self._html(locale, "refused", {"kind": "signature"}, 403)
        with self.database.transaction() as session:
            repos = Repositories(session)
            user = repos.users.get("telegram", str(telegram_user.telegram_id))
            return self._sign_in(repos, user, now, locale)

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        """A link preview or a prefetch must not spend the code: GET only shows a button."""
        code = request.query.get("code", "")[:128]
        return self._response(request, self._html(self._guest_locale(request), "login", {"code": code}, 200))

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        code = str(form.get("code", ""))
        locale = self._guest_locale(request)
        outcome = await asyncio.to_thread(run_with_retry, lambda: self._login(code, locale))
        return self._response(request, outcome)

    def _login(self, code: str, locale: str) -> Outcome:
        with self.database.transaction() as session:
            repos = Repositories(session)
            now = self.now()
            user_id = redeem_login(repos, code, now)
            if user_id is None:
                self._refused(None, "login-link-used-or-expired")
                return self._html(locale, "refused", {"kind": "link"}, 403)
            return self._sign_in(repos, repos.users.by_id(user_id), now, locale)

    def _sign_in(self, repos: Repositories, user, now: datetime, locale: str) -> Outcome:  # type: ignore[no-untyped-def]
        if user is None or user.consent_at is None:
            self._refused(None if user is None else user.id, "unknown-user")
            return self._html(locale, "refused", {"kind": "not_coach"}, 403)
        if not actor_for(repos, user, self.admins).may(Who.COACH):
            self._refused(user.id, "not-coach")
            return self._html(user.locale, "refused", {"kind": "not_coach"}, 403)
        hours = self.settings.dashboard.session_hours
        token, _ = start_session(repos, user.id, now, hours)
        return Outcome(status=303, location=f"{PREFIX}/", new_session=(token, hours * 3600))

    async def logout(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        token, csrf = request.cookies.get(COOKIE), str(form.get("csrf", ""))
        locale = self._guest_locale(request)
        outcome = await asyncio.to_thread(run_with_retry, lambda: self._logout(token, csrf, locale))
        return self._response(request, outcome)

    def _logout(self, token: str | None, csrf: str, locale: str) -> Outcome:
        with self.database.transaction() as session:
            repos = Repositories(session)
            now = self.now()
            row = session_for(repos, token, now)
            if row is not None:
                if not csrf_matches(row, csrf):
                    self._refused(row.user_id, "csrf")
                    return self._html(locale, "refused", {"kind": "csrf"}, 403)
                repos.web.revoke(row, now)
            return Outcome(status=303, location=f"{PREFIX}/signed-out", end_session=True)

    async def signed_out(self, request: web.Request) -> web.StreamResponse:
        return self._response(request, self._html(self._guest_locale(request), "signed_out", {"bye": True}, 200))

    async def _home_redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{PREFIX}/")

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self._static:
            raise web.HTTPNotFound()
        response = web.Response(body=self._static[name], content_type=STATIC_TYPES[name], charset="utf-8")
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-cache"
        return response

    # -- helpers ------------------------------------------------------------------------------

    def _guest_locale(self, request: web.Request) -> str:
        return pick_locale(request.headers.get("Accept-Language", ""), self.settings.bot.default_locale)

    def _html(self, locale: str, template: str, context: dict[str, object], status: int, **extra: bool) -> Outcome:
        context.setdefault("viewer", None)
        html = page_html(locale, template, prefix=PREFIX, **context)
        return Outcome(status=status, body=html.encode("utf-8"), **extra)  # type: ignore[arg-type]

    @staticmethod
    def _refused(user_id: int | None, reason: str) -> None:
        log.warning("dashboard refused: user=%s reason=%s", user_id, reason)

    def _secure(self, request: web.Request) -> bool:
        forwarded = request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        return request.secure or forwarded or is_https(self.settings.dashboard.public_url)

    def _response(self, request: web.Request, outcome: Outcome) -> web.StreamResponse:
        if outcome.location is not None:
            response = web.Response(status=outcome.status, headers={"Location": outcome.location})
        else:
            response = web.Response(
                status=outcome.status, body=outcome.body, content_type=outcome.content_type,
                charset="utf-8" if outcome.content_type.startswith("text/") else None,
            )  # fmt: skip
        response.headers.update(SECURITY_HEADERS)
        response.headers.update(outcome.headers)
        if outcome.new_session is not None:
            token, max_age = outcome.new_session
            response.set_cookie(
                COOKIE, token, max_age=int(max_age), path=PREFIX, httponly=True, samesite="Lax",
                secure=self._secure(request),
            )  # fmt: skip
        elif outcome.end_session:
            response.del_cookie(COOKIE, path=PREFIX)
        return response
