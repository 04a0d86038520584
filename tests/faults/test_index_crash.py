"""`umkm-bot build-index` killed midway (SIGKILL while it embeds, and with a half-built index
beside the old one) while a real bot keeps answering; a bot started meanwhile loads the old,
complete index; the next build removes what the killed one left and swaps the new index in
atomically: a reader loading the index over and over never sees a half of one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.store import MANIFEST_FILE, read_index
from tests.e2e.fake_bot_api import FakeUser
from tests.processes import ApiThread, BotWorld, wait_until

pytestmark = pytest.mark.slow  # three builds and three bot processes

USER = FakeUser(525252, "Budi")


@pytest.fixture
def api() -> Iterator[ApiThread]:
    thread = ApiThread().start()
    yield thread
    thread.stop()


def _paused_build(world: BotWorld, stage: str, marker: Path):  # type: ignore[no-untyped-def]
    build = world.spawn("build-index", "--quiet", module="tests.pausing_cli", before=(stage, str(marker)))
    wait_until(lambda: marker.exists() or not build.alive(), timeout=180, what=f"the build to reach {stage}")
    assert build.alive(), build.output()
    return build


def test_a_killed_index_build_leaves_the_old_index_serving_and_the_next_one_swaps_atomically(
    tmp_path: Path, api: ApiThread, built_index: tuple[Path, Path]
) -> None:
    world = BotWorld(tmp_path / "bot", api, *built_index)
    var, link = world.data_dir, world.data_dir / "index"
    old = link.resolve()
    try:
        bot = world.start()

        # 1. Killed while it embeds: nothing is written yet; the running bot answers throughout.
        build = _paused_build(world, "embed", tmp_path / "embedding")
        since = api.mark()
        api.queue_text(USER, "cara daftar qris")
        api.wait_text(USER.id, "QRIS", since=since)
        build.kill()
        assert link.resolve() == old
        assert not list(var.glob(".index-build-*"))

        # 2. Killed with the new index half-written beside the old one. A bot started meanwhile
        # loads the old, complete index and answers from it.
        build = _paused_build(world, "manifest", tmp_path / "half-built")
        [staging] = var.glob(".index-build-*")
        assert (staging / "entries.json").is_file() and not (staging / MANIFEST_FILE).exists()
        bot.kill()
        bot = world.start()
        since = api.mark()
        api.queue_text(USER, "cara ngitung hpp")
        api.wait_text(USER.id, "HPP", since=since)
        build.kill()
        assert staging.is_dir()  # what the killed build left
        assert link.resolve() == old

        # 3. The next build removes it and publishes the new index in one swap: a reader loading
        # the index all the while gets the old one or the new one, whole, every time.
        stop, seen, problems = threading.Event(), set(), []

        def reader() -> None:
            while not stop.is_set():
                try:
                    seen.add(read_index(link).folder)
                except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
                    problems.append(exc)
                stop.wait(0.02)

        loading = threading.Thread(target=reader, daemon=True)
        loading.start()
        build = world.spawn("build-index", "--quiet")
        assert build.wait(180) == 0, build.output()
        stop.set()
        loading.join(10)
        new = link.resolve()
        assert not problems, problems[:3]
        assert new != old and new.parent == var and (new / MANIFEST_FILE).is_file()
        assert seen <= {old, new} and old in seen
        assert not staging.exists() and not list(var.glob(".index-build-*"))
        assert "unfinished index build" in build.output()

        # The bot that was running answers on; one started now loads the new index.
        since = api.mark()
        api.queue_text(USER, "cara bikin nib")
        api.wait_text(USER.id, "NIB", since=since)
        bot.kill()
        world.start()
        since = api.mark()
        api.queue_text(USER, "kemasan kopi pakai valve")
        api.wait_text(USER.id, "Kemasan kopi", since=since)
    finally:
        world.stop_all()
        print(world.outputs())
