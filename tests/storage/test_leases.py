"""Leases: another holder's lease waits until it lapses, unless the holder was a process of this
machine that is gone (killed): then a restarted process takes it over at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

from bot.storage import Database, Repositories
from bot.storage.repos.leases import holder_is_gone


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid names no process now
    return child.pid


def test_a_lease_of_a_dead_local_process_is_taken_over_at_once(database: Database) -> None:
    host = socket.gethostname()
    dead = f"{host}:{_dead_pid()}:abc"
    alive_here = f"{host}:{os.getppid()}:abc"
    with database.transaction() as session:
        leases = Repositories(session).leases
        assert leases.acquire("job", alive_here, timedelta(minutes=5))
        assert not leases.acquire("job", "restarted", timedelta(minutes=5))  # a live holder: wait
        leases.release("job", alive_here)
        assert leases.acquire("job", dead, timedelta(minutes=5))
        assert leases.acquire("job", "restarted", timedelta(minutes=5))  # the holder is gone
        assert leases.holder("job") == "restarted"


def test_only_a_local_holder_that_is_surely_gone_counts_as_gone() -> None:
    host = socket.gethostname()
    assert holder_is_gone(f"{host}:{_dead_pid()}:x")
    assert holder_is_gone(f"{host[:40]}:{_dead_pid()}:x")  # workers cut the host name at 40
    assert not holder_is_gone(f"{host}:{os.getpid()}:x")  # ourselves
    assert not holder_is_gone(f"{host}:{os.getppid()}:x")  # alive
    assert not holder_is_gone(f"{host}:1:x")  # init, or a container's first process
    assert not holder_is_gone(f"another-machine:{_dead_pid()}:x")  # cannot be told: wait it out
    assert not holder_is_gone("w1")
    assert not holder_is_gone("")
