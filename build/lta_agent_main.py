"""Entry point of the frozen station agent: what PyInstaller runs as `__main__`.

`freeze_support` must run first: the analysis worker is a spawned child
(docs/decisions/0004), and in a frozen app a spawned child is this same
executable started again with multiprocessing's arguments.
"""

from __future__ import annotations

import multiprocessing
import sys


def run() -> int:
    multiprocessing.freeze_support()
    from agent.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
