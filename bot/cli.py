"""The `umkm-bot` command: run, chat, ask, build-index, eval, kb lint, db upgrade, dashboard."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bot import admin_cli
from bot.config import ConfigError, Settings, load_settings
from index.embedder import ModelNotFoundError
from index.entries import KnowledgeError
from index.errors import IndexUnavailable

if TYPE_CHECKING:
    from index.search import SearchResult

EXIT_USAGE = 2


def _question_lines(stream) -> Iterator[str]:  # type: ignore[no-untyped-def]
    for line in stream:
        yield line.rstrip("\n")


def result_json(result: SearchResult) -> dict[str, object]:
    """The stable JSON contract of `ask --json`: the question, the decision, the entries offered
    when clarifying, and the hits best first (score = estimated probability the entry answers)."""
    return {
        "query": result.query,
        "answered": result.answered,
        "decision": result.decision,
        "options": [hit.entry.id for hit in result.options],
        "results": [
            {
                "id": hit.entry.id,
                "title": hit.entry.title,
                "topic": hit.entry.topic,
                "score": round(hit.score, 4),
                "text": hit.entry.plain_text(),
            }
            for hit in result.hits
        ],
    }


def result_text(result: SearchResult, locale: str) -> str:
    """What a user sees for this result (the same templates as the chat fronts; the entries
    offered when clarifying are numbered as the terminal chat numbers buttons)."""
    from bot.rendering import html_to_text, render  # jinja2: not needed for --json

    if result.reason == "empty":
        return html_to_text(render(locale, "empty_question"))
    if result.reason == "small_talk":
        return html_to_text(render(locale, "small_talk", name=None))
    if result.decision == "answer":
        entry = result.hits[0].entry  # the whole card: the short answer and its steps
        card = render(locale, "answer", entry=entry) + "\n\n" + render(locale, "answer_steps", entry=entry)
        return html_to_text(card)
    if result.decision == "clarify":
        choices = "\n".join(f"  [{n}] {hit.entry.title}" for n, hit in enumerate(result.options, start=1))
        return html_to_text(render(locale, "did_you_mean")) + "\n" + choices
    return html_to_text(render(locale, "no_answer", suggestions=[]))


def cmd_build_index(settings: Settings, args: argparse.Namespace) -> int:
    from bot.search_service import build, load_embedder

    count = build(settings, load_embedder(settings), progress=not args.quiet)
    print(f"Indexed {count} entries into {settings.index_dir}")
    return 0


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.search_service import open_index  # heavy: imported while the encoder loads

    index = open_index(settings)
    k = args.k or settings.search.k
    questions = [args.question] if args.question is not None else _question_lines(sys.stdin)
    for n, question in enumerate(questions):
        result = index.search(question, k=k, mode=args.mode)
        if args.json:
            print(json.dumps(result_json(result), ensure_ascii=False), flush=True)
        else:
            if n:
                print("\n" + "-" * 40)
            print(result_text(result, settings.bot.default_locale), flush=True)
    return 0


EVAL_COLUMNS = (
    ("Hit@1", "hit1"), ("Hit@3", "hit3"), ("MRR", "mrr"), ("direct", "direct_correct"),
    ("clarify", "clarify_rate"), ("clar-ok", "clarify_right"), ("wrong", "wrong_answer"),
    ("refused", "wrong_refusal"), ("off-rej", "rejection_rate"),
)


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.search_service import open_index
    from index.evaluate import evaluate, load_eval_set

    path = Path(args.file) if args.file else settings.knowledge.eval_file
    eval_set = load_eval_set(path)
    index = open_index(settings)
    splits = [args.split]
    if args.split == "each":
        fresh = eval_set.only("fresh")
        splits = ["dev", "test", *(["fresh"] if fresh.domain or fresh.off_topic else []), "all"]
    rows = []
    for split in splits:
        subset = eval_set.only(split)
        for mode in ("hybrid", "dense", "bm25"):
            m = evaluate(index, subset, mode)
            rows.append({"split": split, **m.__dict__})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print("direct = answered with the right entry; clarify = asked which one (clar-ok: right entry offered);")
    print("wrong = answered with a wrong entry; refused = no answer to a domain question; off-rej = off-topic refused")
    print(f"{'split':<6} {'mode':<7} " + " ".join(f"{name:>7}" for name, _ in EVAL_COLUMNS) + "  n")
    for r in rows:
        cells = [f"{'-':>7}" if key == "clarify_right" and not r["clarify_rate"] else f"{r[key]:7.3f}"
                 for _, key in EVAL_COLUMNS]  # no clarification: "right entry offered" is undefined
        print(f"{r['split']:<6} {r['mode']:<7} " + " ".join(cells) + f"  {r['n_domain']}+{r['n_off_topic']}")
    return 0


def cmd_kb_lint(settings: Settings, args: argparse.Namespace) -> int:
    from bot.search_service import load_embedder
    from index.lint import lint_knowledge

    embedder = None if args.no_embeddings else load_embedder(settings)
    entries, problems = lint_knowledge(settings.knowledge.dir, embedder, settings.knowledge.near_duplicate_threshold)
    for problem in problems:
        print(problem)
    print(f"{len(entries)} entries checked, {len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_kb_gaps(settings: Settings, args: argparse.Namespace) -> int:
    """Unanswered, 👎-rated and handed-off questions grouped by meaning: what to write next."""
    from datetime import UTC, datetime, timedelta

    from bot.knowledge_gaps import collect_gaps, group_gaps
    from bot.search_service import load_embedder
    from bot.storage import Database, Repositories
    from bot.storage.migrate import upgrade
    from bot.tabular import csv_bytes

    since = (
        datetime.fromisoformat(args.since).replace(tzinfo=UTC) if args.since else datetime.now(UTC) - timedelta(days=90)
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.transaction() as session:
            items = collect_gaps(Repositories(session), since)
    finally:
        database.dispose()
    gaps = group_gaps(items, load_embedder(settings)) if items else []
    if args.csv:
        rows = [
            (n, gap.count, item.kind, item.text, item.at.isoformat(), item.entry_id or "")
            for n, gap in enumerate(gaps, start=1)
            for item in gap.items
        ]
        Path(args.csv).write_bytes(csv_bytes(("group", "group_size", "kind", "text", "at", "bot_entry"), rows))
    if args.json:
        print(
            json.dumps(
                [
                    {"count": g.count, "kinds": dict(g.kinds), "examples": g.examples, "bot_entries": dict(g.entries)}
                    for g in gaps
                ],
                ensure_ascii=False,
            )
        )
        return 0
    print(f"{len(items)} message(s) since {since.date().isoformat()} in {len(gaps)} group(s), most frequent first")
    for n, gap in enumerate(gaps, start=1):
        kinds = ", ".join(f"{kind} {count}" for kind, count in gap.kinds.most_common())
        print(f"\n{n}. {gap.count}× ({kinds})")
        for example in gap.examples:
            print(f"   - {example[:120]}")
        if gap.entries:
            print(f"   bot answered with: {', '.join(e for e, _ in gap.entries.most_common(3))}")
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import open_application

    app = open_application(settings)
    try:
        return _terminal(settings, app, user_id=args.user)
    finally:
        app.close()


def _terminal(settings: Settings, app, *, user_id: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """The terminal chat with its files folder and the delivery of messages from others."""
    from bot.chat import run_chat, terminal_delivery

    return run_chat(
        app.conversation,
        user_id=user_id,
        locale=settings.bot.default_locale,
        files=settings.data_dir / "files",
        delivery=terminal_delivery(settings, app.database),
    )


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat on the same core."""
    import os

    from bot.app import open_application
    from bot.config import TOKEN_ENV, WEBHOOK_SECRET_ENV

    token = os.environ.get(TOKEN_ENV, "").strip()
    app = open_application(settings)
    try:
        if not token:
            from bot.rendering import html_to_text, render

            print(html_to_text(render(settings.bot.default_locale, "telegram_hint")), file=sys.stderr)
            return _terminal(settings, app)
        from bot.delivery import telegram_sender
        from bot.delivery.service import BackgroundDelivery
        from bot.telegram.app import ALLOWED_UPDATES, build_application, silence_token_logging
        from bot.telegram.polling import HandledUpdates, serve_polling

        silence_token_logging()
        background = BackgroundDelivery(
            settings,
            app.database,
            telegram_sender(settings, token) if settings.delivery.in_process else None,
            scheduler=settings.engagement.in_process,
        )
        handled = HandledUpdates()
        application = build_application(settings, app.conversation, token, background, handled)
        if settings.telegram.mode == "webhook":
            from bot.telegram.runner import run_webhook

            secret = os.environ.get(WEBHOOK_SECRET_ENV, "")
            if not secret:
                raise ConfigError(f"webhook mode needs {WEBHOOK_SECRET_ENV} in the environment")
            dashboard = None
            if settings.dashboard.enabled:
                from bot.dashboard.server import Dashboard

                dashboard = Dashboard(settings, app.database, token)
            run_webhook(application, settings, secret, dashboard)
        else:
            from bot.telegram.runner import run_until_signal

            # Not PTB's run_polling: its Updater confirms updates before they are handled.
            run_until_signal(
                lambda stop: serve_polling(application, handled, stop, allowed_updates=ALLOWED_UPDATES)
            )
        return 0
    finally:
        app.close()


def cmd_dashboard(settings: Settings, args: argparse.Namespace) -> int:
    """The coach dashboard on its own (polling deployments): no search index, no Telegram polling."""
    import os

    from aiohttp import web

    from bot.config import TOKEN_ENV
    from bot.dashboard.server import Dashboard
    from bot.storage import Database
    from bot.storage.migrate import upgrade
    from bot.telegram.access_log import PathOnlyAccessLogger
    from bot.telegram.app import silence_token_logging

    if not settings.dashboard.enabled:
        raise ConfigError("the dashboard is off: set [dashboard] enabled = true (and public_url) in config.toml")
    silence_token_logging()
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        print(f"warning: {TOKEN_ENV} is not set: Mini App sign-in is refused, login links work", file=sys.stderr)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    host = args.listen or settings.dashboard.listen
    port = args.port or settings.dashboard.port
    try:
        print(f"dashboard on http://{host}:{port}/dashboard/ (public: {settings.dashboard.public_url or '-'})")
        web.run_app(
            Dashboard(settings, database, token).application(),
            host=host,
            port=port,
            print=None,
            access_log_class=PathOnlyAccessLogger,
        )
        return 0
    finally:
        database.dispose()


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """Outbox delivery (and the scheduler, one process at a time) without the bot front: run N of
    these beside `umkm-bot run` on PostgreSQL with `[delivery] in_process = false`."""
    import os

    from bot.config import TOKEN_ENV
    from bot.delivery import telegram_sender
    from bot.delivery.service import BackgroundDelivery
    from bot.storage import Database
    from bot.storage.migrate import upgrade
    from bot.telegram.app import silence_token_logging
    from bot.telegram.runner import run_until_signal

    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(f"the worker sends through Telegram: set {TOKEN_ENV}")
    silence_token_logging()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    database = Database(settings.database_url)

    async def main(stop) -> None:  # type: ignore[no-untyped-def]
        background = BackgroundDelivery(
            settings, database, telegram_sender(settings, token), scheduler=not args.no_scheduler
        )
        await background.start()
        try:
            await stop.wait()
        finally:
            await background.stop()

    try:
        run_until_signal(main)
    finally:
        database.dispose()
    return 0


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.storage.migrate import current, upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, args.revision)
    print(f"database at revision {current(settings.database_url)}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command. --config and -v work before or after the
    sub-command (`umkm-bot ask --config x.toml ...`)."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a sub-command without the option keeps the value given before it.
    common.add_argument("--config", default=argparse.SUPPRESS, help="path to config.toml (default: ./config.toml)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more")
    parser = argparse.ArgumentParser(prog="umkm-bot", description="Pendamping UMKM")
    parser.add_argument("--config", help="path to config.toml (default: ./config.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build-index", parents=[common], help="embed and index the knowledge base, train the decision")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build_index)

    p = sub.add_parser("ask", parents=[common], help="answer one question, or one per line from standard input")
    p.add_argument("question", nargs="?", help="the question (omit to read standard input)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--k", type=_positive_int, help="how many results, at least 1 (default from config)")
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", parents=[common], help="what users would see: hybrid vs dense vs BM25")
    p.add_argument("file", nargs="?", help="evaluation YAML (default from config)")
    p.add_argument("--split", choices=("dev", "test", "fresh", "all", "each"), default="each",
                   help="fresh: the part of the test half written after the rest had been read")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("chat", parents=[common], help="talk to the bot in this terminal")
    p.add_argument("--user", help="who you are in the database (default: your login name)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("run", parents=[common],
                       help="run the Telegram bot (TELEGRAM_BOT_TOKEN), else the terminal chat")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("dashboard", parents=[common], help="serve the coach dashboard on its own (polling deployments)")
    p.add_argument("--listen", help="address to listen on (default: [dashboard] listen)")
    p.add_argument("--port", type=int, help="port (default: [dashboard] port)")
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser(
        "worker", parents=[common], help="deliver the outbox to Telegram (and run the scheduler); several may run"
    )
    p.add_argument("--no-scheduler", action="store_true", help="deliver only; another process schedules")
    p.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", parents=[common], help="database tools").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", parents=[common], help="apply database migrations")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_db_upgrade)

    kb = sub.add_parser("kb", parents=[common], help="knowledge base tools").add_subparsers(
        dest="kb_command", required=True)
    p = kb.add_parser("lint", parents=[common], help="check every knowledge entry")
    p.add_argument("--no-embeddings", action="store_true", help="skip the near-duplicate check")
    p.set_defaults(func=cmd_kb_lint)
    p = kb.add_parser(
        "gaps", parents=[common], help="unanswered, 👎 and handed-off questions grouped: what to write next"
    )
    p.add_argument("--since", help="ISO date (default: 90 days ago)")
    p.add_argument("--csv", help="also write every message with its group to this CSV file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kb_gaps)
    admin_cli.register_drafts(kb, common)
    admin_cli.register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    # python-telegram-bot 22 warns that RetryAfter.retry_after becomes a timedelta; the bot reads
    # both, so take the new behaviour now rather than a warning on every 429.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # a usage error (exit 2) or --help (exit 0), already printed
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Callable[[Settings, argparse.Namespace], int] = args.func
    try:
        settings = load_settings(args.config)
        return handler(settings, args)
    except (ConfigError, KnowledgeError, ModelNotFoundError, IndexUnavailable, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
