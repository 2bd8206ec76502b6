"""Issue 13, finding 8: the agent loads compiled kernels (a pickled index and machine code)
only from a folder no other account can write; else it compiles into a private one.

Real folders with real modes on this machine; POSIX only (Windows relies on
the installer's ACL).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agent.analysis import kernel_cache
from shared.version import __version__

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX owners and modes")


def installed_cache(data: Path) -> Path:
    """The kernel folder as an installed agent leaves it: one module folder, an index."""
    folder = data / "kernel-cache" / __version__ / "agent.analysis.sigma"
    folder.mkdir(parents=True)
    (folder / "sigma.gradient-20.py311.nbi").write_bytes(b"index")
    data.chmod(0o750)
    return folder.parent


def test_a_folder_only_the_agent_writes_is_used(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cache = installed_cache(data)
    assert kernel_cache.distrust_reason(cache) is None
    assert kernel_cache.worker_cache_dir(data, frozen=True) == cache


def test_a_fresh_folder_is_used(tmp_path: Path) -> None:
    assert kernel_cache.worker_cache_dir(tmp_path / "new", frozen=True) == (
        tmp_path / "new" / "kernel-cache" / __version__
    )


@pytest.mark.parametrize(
    "loosen",
    [
        lambda cache: cache.chmod(0o777),  # anyone may plant a module folder
        lambda cache: (cache / "agent.analysis.sigma").chmod(0o775),  # the group may
        lambda cache: next(cache.rglob("*.nbi")).chmod(0o666),  # anyone may rewrite the index
        lambda cache: cache.parent.chmod(0o777),  # anyone may swap the version folder
        lambda cache: cache.parent.parent.chmod(0o777),  # ... or the whole data folder
        lambda cache: (cache / "agent.analysis.extra").symlink_to("/tmp"),
    ],
    ids=["folder", "module-group", "index-file", "cache-root", "data-folder", "symlink"],
)
def test_a_folder_others_can_write_is_never_loaded(tmp_path: Path, loosen: object) -> None:
    data = tmp_path / "data"
    cache = installed_cache(data)
    loosen(cache)  # type: ignore[operator]

    chosen = kernel_cache.worker_cache_dir(data, frozen=True)

    assert chosen is not None
    assert data not in chosen.parents
    assert list(chosen.iterdir()) == []  # nothing planted comes along: compiled afresh
    mode = chosen.stat().st_mode
    assert chosen.stat().st_uid == os.geteuid()
    assert not mode & (stat.S_IRWXG | stat.S_IRWXO)


def test_the_reason_names_the_folder_and_what_is_wrong(tmp_path: Path) -> None:
    cache = installed_cache(tmp_path / "data")
    cache.chmod(0o777)
    reason = kernel_cache.distrust_reason(cache)
    assert reason is not None
    assert str(cache) in reason and "writable by other accounts" in reason
