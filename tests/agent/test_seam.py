"""agent.seam: the Windows rules that need no Windows to check (paths, codes, structures)."""

from __future__ import annotations

import ctypes
import errno
import sys
from pathlib import Path

import pytest

from agent.seam import (
    ERROR_BAD_NET_NAME,
    ERROR_BAD_NETPATH,
    ERROR_SHARING_VIOLATION,
    ErrorKind,
    JobExtendedLimits,
    Platform,
    WindowsPlatform,
    extended_path,
    job_limits,
)
from tests.windows_semantics import win_error


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("C:\\Trim\\a\\..\\b\\unit.xls", "\\\\?\\C:\\Trim\\b\\unit.xls"),
        ("D:/Trim/unit.xls", "\\\\?\\D:\\Trim\\unit.xls"),
        ("\\\\nas01\\trim\\line4\\unit.xls", "\\\\?\\UNC\\nas01\\trim\\line4\\unit.xls"),
    ],
)
def test_extended_paths_for_drives_and_shares(given: str, expected: str) -> None:
    assert extended_path(given) == expected


def test_only_long_paths_take_the_extended_form() -> None:
    windows = WindowsPlatform()
    assert windows.fs("C:\\Trim\\unit.xls") == "C:\\Trim\\unit.xls"
    assert windows.fs("C:\\" + "d" * 300).startswith("\\\\?\\C:\\")


def test_a_share_blip_is_not_a_missing_file() -> None:
    windows, posix = WindowsPlatform(), Platform()
    for code in (ERROR_BAD_NETPATH, ERROR_BAD_NET_NAME):
        blip = win_error(FileNotFoundError, code, errno.ENOENT, "network path", "x")
        assert windows.classify(blip) is ErrorKind.UNREACHABLE
    locked = win_error(PermissionError, ERROR_SHARING_VIOLATION, errno.EACCES, "in use", "x")
    assert windows.classify(locked) is ErrorKind.LOCKED
    gone = FileNotFoundError(errno.ENOENT, "No such file", "x")
    assert windows.classify(gone) is ErrorKind.MISSING
    assert posix.classify(gone) is ErrorKind.MISSING
    assert posix.classify(OSError(errno.EHOSTDOWN, "host is down")) is ErrorKind.UNREACHABLE


@pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8, reason="the layout of 64-bit Windows")
def test_the_job_object_structure_has_winnt_h_layout() -> None:
    # JOBOBJECT_EXTENDED_LIMIT_INFORMATION is 144 bytes on x64; the memory limit at 112.
    assert ctypes.sizeof(JobExtendedLimits) == 144
    assert JobExtendedLimits.ProcessMemoryLimit.offset == 112
    info = job_limits(2 * 1024**3)
    assert info.BasicLimitInformation.LimitFlags == 0x2100
    assert info.ProcessMemoryLimit == 2 * 1024**3


def test_probe_write_leaves_nothing(tmp_path: Path) -> None:
    assert Platform().probe_write(tmp_path) is None
    assert list(tmp_path.iterdir()) == []
    assert isinstance(Platform().probe_write(tmp_path / "missing"), OSError)


@pytest.mark.skipif(sys.platform != "win32", reason="real Job Objects: the Windows workflow")
def test_a_real_job_object_stops_an_allocation_past_its_limit() -> None:
    import subprocess

    from agent.seam import host

    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.readline(); bytearray(512 * 1024**2)"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    handle = host().cap_memory(child.pid, 128 * 1024**2)
    try:
        _, err = child.communicate(b"go\n", timeout=60)
    finally:
        host().release_cap(handle)
    assert child.returncode != 0 and b"MemoryError" in err
