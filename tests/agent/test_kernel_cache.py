"""The analysis kernels' disk cache: in the data folder, independent of the working directory.

A frozen (PyInstaller) agent is imitated in a fresh interpreter the way the
bootloader leaves it: `sys.frozen` set and module code whose file name is
relative and exists nowhere. Under those conditions numba's own fallback
keys its cache on the working directory (and ignores NUMBA_CACHE_DIR); the
locator in agent/analysis/cache_locator.py must not. `make build-test` checks
the same on the real frozen build.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.analysis import cache_locator, kernel_cache
from shared.version import __version__

REPO = Path(__file__).resolve().parents[2]

KERNEL_SOURCE = """
from numba import njit


@njit(cache=True)
def scaled(x):
    return 2.0 * x
"""

# Imports the kernel module like a frozen app does, calls it once, prints the numba stats.
RUNNER = """
import json, sys, types
from pathlib import Path

frozen, root, source_file = sys.argv[1] == "frozen", sys.argv[2], sys.argv[3]
if frozen:
    sys.frozen = True  # what PyInstaller's bootloader sets
from agent.analysis import kernel_cache

kernel_cache.apply(Path(root) if root else None)
module = types.ModuleType("lta_test_kernels")
name = "lta_test/kernels.py" if frozen else source_file  # frozen: relative, exists nowhere
sys.modules[module.__name__] = module
exec(compile(Path(source_file).read_text(), name, "exec"), module.__dict__)
module.scaled(1.5)
stats = module.scaled.stats
print(json.dumps({"loaded": sum(stats.cache_hits.values()),
                  "compiled": sum(stats.cache_misses.values())}))
"""


@pytest.fixture
def kernel_file(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "kernels.py"
    path.parent.mkdir()
    path.write_text(KERNEL_SOURCE)
    return path


def run_kernel(
    tmp_path: Path, cwd_name: str, source: Path, root: Path | None, frozen: bool = True
) -> dict[str, int]:
    """One fresh process started from its own working directory."""
    cwd = tmp_path / cwd_name
    cwd.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "XDG_CACHE_HOME": str(tmp_path / "user-cache"),  # numba's per-user fallback
        "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache-dir"),
    }
    env.pop("NUMBA_DISABLE_JIT", None)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNNER,
            "frozen" if frozen else "source",
            "" if root is None else str(root),
            str(source),
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    counts: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return counts


def test_numbas_own_fallback_for_frozen_apps_recompiles_in_another_directory(
    tmp_path: Path, kernel_file: Path
) -> None:
    """The failure this module exists for, reproduced so the test above it means something."""
    assert run_kernel(tmp_path, "a", kernel_file, root=None) == {"loaded": 0, "compiled": 1}
    assert run_kernel(tmp_path, "a", kernel_file, root=None) == {"loaded": 1, "compiled": 0}
    assert run_kernel(tmp_path, "b", kernel_file, root=None) == {"loaded": 0, "compiled": 1}
    assert not (tmp_path / "numba-cache-dir").exists()  # NUMBA_CACHE_DIR was ignored


def test_folder_cache_survives_a_start_from_another_directory(
    tmp_path: Path, kernel_file: Path
) -> None:
    root = tmp_path / "data" / "kernel-cache" / __version__
    assert run_kernel(tmp_path, "a", kernel_file, root) == {"loaded": 0, "compiled": 1}
    assert run_kernel(tmp_path, "b", kernel_file, root) == {"loaded": 1, "compiled": 0}
    cached = sorted(p.suffix for p in (root / "lta_test_kernels").iterdir())
    assert cached == [".nbc", ".nbi"]
    assert not (tmp_path / "user-cache").exists()


def test_folder_cache_works_from_source_too(tmp_path: Path, kernel_file: Path) -> None:
    root = tmp_path / "cache"
    first = run_kernel(tmp_path, "a", kernel_file, root, frozen=False)
    second = run_kernel(tmp_path, "b", kernel_file, root, frozen=False)
    assert (first, second) == ({"loaded": 0, "compiled": 1}, {"loaded": 1, "compiled": 0})
    assert not (kernel_file.parent / "__pycache__").exists()


def test_a_rebuilt_executable_invalidates_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frozen, the stamp is the executable's content: a new build never loads old code."""
    exe = tmp_path / "lta-agent"
    exe.write_bytes(b"build 1")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    first = cache_locator.code_stamp("agent/analysis/sigma.py")
    assert cache_locator.code_stamp("agent/analysis/linearity.py") == first
    exe.write_bytes(b"build 2, same size?")
    assert cache_locator.code_stamp("agent/analysis/sigma.py") != first


def test_unwritable_folder_leaves_numbas_own_locators(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache_locator.register(blocker / "cache")
    try:

        def kernel() -> None: ...

        assert cache_locator.FolderCacheLocator.from_function(kernel, __file__) is None
    finally:
        cache_locator.unregister()
    assert cache_locator.FolderCacheLocator.root is None


def test_installed_agent_caches_in_its_data_folder_source_runs_do_not(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert kernel_cache.worker_cache_dir(data, frozen=True) == data / "kernel-cache" / __version__
    assert kernel_cache.worker_cache_dir(data, frozen=False) is None
    default = kernel_cache.worker_cache_dir(None, frozen=True)
    assert default is not None
    assert default.parts[-2:] == ("kernel-cache", __version__)


def test_other_versions_are_pruned_and_warm_status_is_read_back(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = kernel_cache.cache_dir(data, "0.0.1")
    (old / "agent.analysis.sigma").mkdir(parents=True)
    current = kernel_cache.cache_dir(data)
    current.mkdir(parents=True)
    assert kernel_cache.warm_status(data) is None

    kernel_cache.record_warm(current, {"loaded": 13, "compiled": 0, "seconds": 0.4})

    assert kernel_cache.prune_other_versions(data) == [old]
    assert not old.exists()
    assert kernel_cache.warm_status(data) == {
        "loaded": 13,
        "compiled": 0,
        "seconds": 0.4,
        "version": __version__,
    }
    (current / kernel_cache.WARM_FILE).write_text("{not json")
    assert kernel_cache.warm_status(data) is None
    assert kernel_cache.prune_other_versions(tmp_path / "nowhere") == []


def test_locator_names_its_folder_after_the_module_and_stamps_the_source(tmp_path: Path) -> None:
    def kernel() -> None: ...

    cache_locator.register(tmp_path / "cache")
    try:
        locator = cache_locator.FolderCacheLocator.from_function(kernel, __file__)
        assert locator is not None
        assert locator.get_cache_path() == str(tmp_path / "cache" / __name__)
        assert locator.get_disambiguator() == str(kernel.__code__.co_firstlineno)
        assert locator.get_source_stamp() == cache_locator.code_stamp(__file__)
        assert cache_locator.FolderCacheLocator.from_function(kernel, "<string>") is None
    finally:
        cache_locator.unregister()
