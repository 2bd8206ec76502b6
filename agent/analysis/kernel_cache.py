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

Numba's cache index is a pickle and its cache files hold machine code: whoever
can write the folder runs code as the service account (SYSTEM on Windows). So
on Linux and macOS the folder, everything in it and every folder above it must
be the service account's (or root's) and writable by nobody else; otherwise
kernels are compiled into a fresh private folder instead, and the log says
why (`trusted_or_private`). On Windows the installer gives the folder an ACL
of SYSTEM and Administrators only (installer/windows/lta-agent.iss).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from loguru import logger

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
    folder = cache_dir(data_dir if data_dir is not None else default_data_dir("agent", os.environ))
    return trusted_or_private(folder)


def _unsafe(path: Path, info: os.stat_result, own: bool) -> str | None:
    """Why another account could change `path`, or None. own: it must be ours, not root's."""
    uid = os.geteuid()
    if info.st_uid != uid and (own or info.st_uid != 0):
        return f"{path} belongs to another account (uid {info.st_uid})"
    writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    sticky = stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX
    if writable and not (sticky and not own):  # /tmp: others may add, not replace ours
        return f"{path} is writable by other accounts (mode {stat.filemode(info.st_mode)})"
    return None


def distrust_reason(folder: Path) -> str | None:
    """Why kernels in `folder` could have been planted by another account, or None.

    Checked: every existing folder above it (ours or root's, not writable by others
    unless sticky), the folder and everything inside (ours, writable by nobody else,
    no symbolic links). Windows relies on the installer's ACL: None.
    """
    if os.name == "nt":
        return None
    folder = folder.absolute()
    for above in reversed(folder.parents):
        try:
            info = above.lstat()
        except FileNotFoundError:
            break
        reason = _unsafe(above, info, own=False)
        if reason:
            return reason
    if not folder.exists():
        return None
    for root, dirs, files in os.walk(folder):
        for name in [".", *dirs, *files]:
            path = Path(root) / name if name != "." else Path(root)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                return f"{path} is a symbolic link"
            reason = _unsafe(path, info, own=True)
            if reason:
                return reason
    return None


def trusted_or_private(folder: Path) -> Path:
    """`folder` if only this account can have written its kernels, else a new private one.

    The private folder (mode 0700, removed at exit) costs a compile at every start;
    the warning says what to fix so the shared one is used again.
    """
    reason = distrust_reason(folder)
    if reason is None:
        return folder
    private = Path(tempfile.mkdtemp(prefix="lta-kernels-"))
    atexit.register(shutil.rmtree, private, True)
    logger.warning(
        "Not loading compiled kernels from {}: {}. Compiling into the private folder {} "
        "instead (each start compiles again). Let only the agent's account write to the "
        "data folder (the installers set this up).",
        folder,
        reason,
        private,
    )
    return private


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
