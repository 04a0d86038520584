"""`python -m tests.pausing_cli STAGE MARKER <umkm-bot arguments>`: umkm-bot (bot.cli.main) that
stops dead at one stage of an index build, writes MARKER and sleeps until it is killed, so that a
test can SIGKILL `build-index` at a known point instead of at a guessed moment. STAGE:

- ``embed``: at the first batch of passages sent to the encoder (nothing written yet);
- ``manifest``: the new index's files are in its staging folder but its manifest is not (a
  half-built index beside the old one);
- ``none``: no pause (the same process, for comparison).

Only the pause is added; everything else is the real command.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any


def _pause(marker: str) -> None:
    Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    while True:
        time.sleep(60)


class _PausingEncoder:
    def __init__(self, embedder: Any, marker: str) -> None:
        self._embedder = embedder
        self._marker = marker

    def encode(self, texts: Any, *args: Any, **kwargs: Any) -> Any:
        _pause(self._marker)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)


def main() -> int:
    stage, marker, *args = sys.argv[1:]
    import index.store as store

    if stage == "embed":
        build_index = store.build_index

        def pausing_build(knowledge: Any, out: Any, embedder: Any, **kwargs: Any) -> Any:
            return build_index(knowledge, out, _PausingEncoder(embedder, marker), **kwargs)

        store.build_index = pausing_build  # bot.search_service imports it when it builds
    elif stage == "manifest":
        write_json = store._write_json

        def pausing_write(path: Path, data: object) -> None:
            if path.name == store.MANIFEST_FILE:
                _pause(marker)
            write_json(path, data)

        store._write_json = pausing_write
    elif stage != "none":
        raise SystemExit(f"unknown stage {stage!r}")
    from bot.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
