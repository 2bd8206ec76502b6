"""Where the analysis worker keeps its compiled kernels, and whether they are warm.

A frozen agent has no source tree for numba to cache next to, and numba's
fallback for frozen apps depends on the working directory
(`agent.analysis.cache_locator` explains). So the installed agent keeps its
kernels in its data folder, `<data_dir>/kernel-cache/<version>/`: the service
account can write there, it survives restarts from any directory and a
reinstall of the same version, and an upgrade starts a fresh folder (the old
versions' folders are removed, so the cache stays bounded).

Run from source (development, tests) numba's own place next to the sources
is kept: it already does not depend on the working directory, and a fresh
data folder per test would otherwise compile every kernel again (~15 s).

This module never imports numba: the service process only decides the folder;
the worker applies it (`apply`) before it imports any kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from shared.config_values import default_data_dir
from shared.version import __version__

CACHE_DIR_NAME = "kernel-cache"
WARM_FILE = "warm.json"


def is_frozen() -> bool:
    """True inside the PyInstaller-built agent."""
    return bool(getattr(sys, "frozen", False))


def cache_root(data_dir: Path) -> Path:
    return data_dir / CACHE_DIR_NAME


def cache_dir(data_dir: Path, version: str = __version__) -> Path:
    """This version's kernel folder inside the data folder."""
    return cache_root(data_dir) / version


def worker_cache_dir(data_dir: Path | None, frozen: bool | None = None) -> Path | None:
    """The folder the worker caches kernels in, or None for numba's place beside the sources.

    Frozen without a data folder (`lta-agent analyze` has no config) the
    default data folder of the account running it is used.
    """
    if not (is_frozen() if frozen is None else frozen):
        return None
    return cache_dir(data_dir if data_dir is not None else default_data_dir("agent", os.environ))


def apply(folder: Path | None) -> None:
    """In the worker, before any kernel module is imported: cache kernels in `folder`."""
    if folder is None:
        return
    from agent.analysis.cache_locator import register

    register(folder)


def prune_other_versions(data_dir: Path, version: str = __version__) -> list[Path]:
    """Remove other versions' kernel folders (their machine code can never be used again)."""
    root = cache_root(data_dir)
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for entry in root.iterdir():
        if entry.is_dir() and entry.name != version:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def record_warm(folder: Path, report: dict[str, Any]) -> None:
    """Written by the worker after warm-up, so `lta-agent doctor` can tell a warm cache."""
    body = {**report, "version": __version__}
    temporary = folder / f"{WARM_FILE}.tmp"
    temporary.write_text(json.dumps(body), encoding="utf-8")
    os.replace(temporary, folder / WARM_FILE)


def warm_status(data_dir: Path, version: str = __version__) -> dict[str, Any] | None:
    """The last warm-up of this version (`loaded`, `compiled`, `seconds`), or None if never.

    Present means the kernels are on disk: the next start loads them. The
    very first start reports every kernel as `compiled`; a restart reports 0.
    """
    path = cache_dir(data_dir, version) / WARM_FILE
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None
