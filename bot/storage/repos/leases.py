"""Leases: a named job that one process at a time may do, taken over when the holder dies."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.storage.delivery_models import Lease
from bot.storage.repos._common import moment, rowcount

__all__ = ["LeaseRepository"]

_TABLE = Lease.__table__


class LeaseRepository:
    """Leases of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def acquire(self, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
        """Take or renew the lease; True while `holder` has it. Another holder's lease is taken
        over only after it expired, or at once when its holder was a process of this machine that
        is gone (killed, then restarted: no waiting out the lease), by a conditional UPDATE that
        exactly one process wins."""
        now = moment(now)
        until = now + ttl
        module = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        inserted = self.session.execute(
            module.insert(_TABLE)
            .values(name=name, holder=holder, expires_at=until, acquired_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(_TABLE.c.name)
        ).first()
        if inserted is not None:
            return True
        takeover = (Lease.holder == holder) | (Lease.expires_at <= now)
        current = self.session.scalar(select(Lease.holder).where(Lease.name == name))
        if current is not None and current != holder and holder_is_gone(current):
            takeover = takeover | (Lease.holder == current)
        stmt = update(Lease).where(Lease.name == name).where(takeover).values(holder=holder, expires_at=until)
        return rowcount(self.session.execute(stmt)) == 1

    def release(self, name: str, holder: str) -> None:
        """Give the lease up (on a clean shutdown) so another process need not wait for expiry."""
        self.session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))

    def holder(self, name: str, now: datetime | None = None) -> str | None:
        """Who holds the lease now, if anyone."""
        lease = self.session.scalars(select(Lease).where(Lease.name == name)).one_or_none()
        if lease is None or lease.expires_at <= moment(now):
            return None
        return lease.holder


def holder_is_gone(holder: str) -> bool:
    """True when `holder` ("host:pid:…", as workers and schedulers name themselves) was a process
    of this machine that no longer runs. Another machine's holder, or one that cannot be told,
    counts as alive: its lease is waited out."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    here = socket.gethostname()
    if not host or not pid_text.isdigit() or host not in (here, here[:40]):
        return False
    pid = int(pid_text)
    if pid == os.getpid() or pid <= 1:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: someone else's live process
        return False
    return False
