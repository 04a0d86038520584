"""Delivery: carries outbox rows (messages to someone other than the sender) to their channel,
within Telegram's limits, with retries, and marks what became of each.

Knows the outbox and a channel sender, not the conversation. See worker.py for the flow.
"""

from bot.delivery.callback_sender import CallbackSender
from bot.delivery.message import (
    Button,
    ChannelSender,
    Document,
    OutgoingMessage,
    PayloadError,
    SendOutcome,
    Status,
)
from bot.delivery.rate import RateGate, memory_gate, postgres_gate, unlimited_gate
from bot.delivery.reports import outbox_problems, outbox_report
from bot.delivery.run import build_worker, delivery_rate, rate_gate, run_worker, serve_worker
from bot.delivery.telegram_sender import TelegramSender, telegram_sender
from bot.delivery.worker import DeliveryWorker, WorkerBusy, WorkerStats

__all__ = [
    "Button",
    "CallbackSender",
    "ChannelSender",
    "DeliveryWorker",
    "Document",
    "OutgoingMessage",
    "PayloadError",
    "RateGate",
    "SendOutcome",
    "Status",
    "TelegramSender",
    "WorkerBusy",
    "WorkerStats",
    "build_worker",
    "delivery_rate",
    "memory_gate",
    "outbox_problems",
    "outbox_report",
    "postgres_gate",
    "rate_gate",
    "run_worker",
    "serve_worker",
    "telegram_sender",
    "unlimited_gate",
]
