"""A Numba cache locator that keeps compiled kernels in one folder we choose.

Why not `NUMBA_CACHE_DIR`: numba's locators all start from the kernel's source
file. In a frozen (PyInstaller) agent the source file names are relative
(`agent/analysis/sigma.py`) and do not exist, so numba skips
`NUMBA_CACHE_DIR` and falls back to a per-user folder named after the
*absolute* form of that relative path, that is after the current working
directory: a service started from another directory finds nothing and
compiles every kernel again (5-9 s at every start).

This locator is tried before numba's own. Its folder depends only on the
kernel's module name, never on the working directory or the install path,
and its freshness stamp is the content of what holds the code (the frozen
executable, or the source file), so a rebuilt agent never loads stale
machine code while a reinstall of the same build keeps the cache warm.

Importing this module imports numba; only the analysis worker does that
(docs/decisions/0004). `agent.analysis.kernel_cache` decides the folder and calls
`register` before any kernel module is imported.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path
from typing import Any, ClassVar

from numba.core.caching import CacheImpl, _CacheLocator

_HASH_CHUNK = 1024 * 1024


@functools.lru_cache(maxsize=16)
def _content_hash(path: str, mtime_ns: int, size: int) -> str:
    """SHA-256 of a file; mtime and size are in the key so a replaced file is hashed again."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def code_stamp(py_file: str) -> str:
    """What must be unchanged for cached machine code to be valid.

    Frozen: the executable, which embeds every module's byte code, so any
    rebuild invalidates the cache (numba's own rule for frozen apps). From
    source: the kernel's own file, as numba does.
    """
    path = sys.executable if getattr(sys, "frozen", False) else py_file
    stat = os.stat(path)
    return _content_hash(os.path.abspath(path), stat.st_mtime_ns, stat.st_size)


class FolderCacheLocator(_CacheLocator):
    """Caches every kernel under `root/<module name>/`; unused while `root` is None."""

    root: ClassVar[Path | None] = None

    def __init__(self, py_func: Any, py_file: str, root: Path) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        module = str(getattr(py_func, "__module__", None) or Path(py_file).stem)
        self._cache_path = str(root / module.replace("<", "").replace(">", ""))

    def get_cache_path(self) -> str:
        return self._cache_path

    def get_source_stamp(self) -> str:
        return code_stamp(self._py_file)

    def get_disambiguator(self) -> str:
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> FolderCacheLocator | None:
        root = cls.root
        if root is None:
            return None
        frozen = getattr(sys, "frozen", False)
        if not frozen and not os.path.exists(py_file):  # e.g. "<string>": nothing to stamp
            return None
        locator = cls(py_func, py_file, root)
        try:
            locator.ensure_cache_path()  # type: ignore[no-untyped-call]
        except OSError:  # not writable: numba's own locators get their turn
            return None
        return locator


def register(root: Path) -> None:
    """Use `root` for every kernel decorated from now on (call before importing them)."""
    FolderCacheLocator.root = root
    classes: list[Any] = CacheImpl._locator_classes
    if FolderCacheLocator not in classes:
        classes.insert(0, FolderCacheLocator)


def unregister() -> None:
    """Back to numba's own locators (tests)."""
    FolderCacheLocator.root = None
    classes: list[Any] = CacheImpl._locator_classes
    if FolderCacheLocator in classes:
        classes.remove(FolderCacheLocator)
