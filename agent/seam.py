"""The one place where the agent touches the file system, processes, time and ports.

Station PCs run Windows; the agent is developed and tested on Linux. What
differs (files held open by the station, negative timestamps, network-path
errors that look like "file not found", MAX_PATH, spawn-only processes, port
sharing, memory caps) is decided here and nowhere else, so the rest of the
code asks the seam and never `sys.platform`.

`host()` is the platform the agent runs on. `WindowsPlatform` holds the
Windows rules; its primitives (the `_os_*` methods) are the only calls into
the operating system, so the test double `tests/windows_semantics.py` can
replace just those with Windows behaviour on Linux and every rule above them
runs in the tests as it runs on a station. docs/decisions/0017-windows-seam.md
says why it is shaped like this.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import getpass
import multiprocessing
import ntpath
import os
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path, PureWindowsPath
from typing import Any

from shared.errors import ErrorCode, LtaError

NS_PER_S = 1_000_000_000
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)

# Windows error numbers (winerror.h) the agent tells apart.
ERROR_FILE_NOT_FOUND = 2
ERROR_PATH_NOT_FOUND = 3
ERROR_ACCESS_DENIED = 5
ERROR_NOT_SAME_DEVICE = 17
ERROR_SHARING_VIOLATION = 32
ERROR_LOCK_VIOLATION = 33
ERROR_BAD_NETPATH = 53
ERROR_NETNAME_DELETED = 64
ERROR_BAD_NET_NAME = 67
ERROR_FILENAME_EXCED_RANGE = 206
ERROR_NETWORK_UNREACHABLE = 1231
ERROR_HOST_UNREACHABLE = 1232
ERROR_CANT_ACCESS_FILE = 1920  # e.g. an antivirus or cloud placeholder holds it
ERROR_LOGON_FAILURE = 1326
ERROR_BAD_NETPATH_NAMES = frozenset(
    {
        ERROR_BAD_NETPATH,
        ERROR_NETNAME_DELETED,
        ERROR_BAD_NET_NAME,
        ERROR_NETWORK_UNREACHABLE,
        ERROR_HOST_UNREACHABLE,
        ERROR_LOGON_FAILURE,
    }
)
WSAEADDRINUSE = 10048

# Winsock's SO_EXCLUSIVEADDRUSE is defined as ~SO_REUSEADDR; the socket module
# only has it on Windows, the double needs the number everywhere.
SO_EXCLUSIVEADDRUSE: int = getattr(socket, "SO_EXCLUSIVEADDRUSE", ~4)

# Paths this long need the \\?\ form on Windows (MAX_PATH is 260 with the NUL;
# CreateDirectory stops at 248 so there is room for an 8.3 name).
MAX_PATH_CHARS = 248
EXTENDED_PREFIX = "\\\\?\\"


class ErrorKind(StrEnum):
    """What an OSError means for the agent, whatever the OS said."""

    MISSING = "missing"  # the file certainly is not there
    UNREACHABLE = "unreachable"  # the share or drive is not there: says nothing of the file
    LOCKED = "locked"  # another program holds it (the station still writing): retry
    DENIED = "denied"  # this account has no right to it: IT must act
    TOO_LONG = "too_long"  # the path is longer than this OS call allows
    OTHER = "other"


class SeamError(LtaError):
    """An operation the platform refuses for a reason IT can act on."""


@dataclass(frozen=True)
class Entry:
    """One directory entry, with its stat when the listing had it for free (Windows)."""

    name: str
    path: Path
    is_dir: bool
    is_file: bool


class Platform:
    """POSIX behaviour; `WindowsPlatform` overrides what Windows does differently."""

    windows = False
    name = "posix"

    # ------------------------------------------------------------------ primitives
    # The only calls into the OS. The test double overrides these and nothing else.

    def _os_scandir(self, folder: str) -> list[os.DirEntry[str]]:
        with os.scandir(folder) as entries:
            return list(entries)

    def _os_stat(self, path: str) -> os.stat_result:
        return os.stat(path)

    def _os_read(self, path: str) -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    def _os_rename(self, src: str, dst: str) -> None:
        os.rename(src, dst)

    def _os_copy(self, src: str, dst: str) -> None:
        import shutil

        shutil.copy2(src, dst)

    def _os_unlink(self, path: str) -> None:
        os.unlink(path)

    def _os_write_new(self, path: str, data: bytes) -> None:
        with open(path, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def _os_fromtimestamp(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds)

    def _os_setsockopt(self, sock: socket.socket, option: int, value: int) -> None:
        sock.setsockopt(socket.SOL_SOCKET, option, value)

    def _os_bind(self, sock: socket.socket, address: tuple[Any, ...]) -> None:
        sock.bind(address)

    def _os_mp_context(self, method: str) -> Any:
        return multiprocessing.get_context(method)

    def _os_start_methods(self) -> list[str]:
        return multiprocessing.get_all_start_methods()

    # ------------------------------------------------------------------ file system

    def fs(self, path: Path | str) -> str:
        """The string to hand the OS for `path`."""
        return str(path)

    def scandir(self, folder: Path) -> list[Entry]:
        """The folder's entries; raises OSError when it cannot be listed."""
        found = []
        for entry in self._os_scandir(self.fs(folder)):
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = not is_dir and entry.is_file()
            except OSError:
                continue  # vanished between listing and stat: the next scan decides
            found.append(Entry(entry.name, folder / entry.name, is_dir, is_file))
        return found

    def stat(self, path: Path) -> os.stat_result:
        return self._os_stat(self.fs(path))

    def read_bytes(self, path: Path) -> bytes:
        return self._os_read(self.fs(path))

    def remove(self, path: Path) -> None:
        self._os_unlink(self.fs(path))

    def move(self, src: Path, dst: Path) -> None:
        """Move a file, never leaving it in both places.

        `shutil.move` copies then deletes when a rename is refused; on Windows the
        delete fails while the station still holds the file, and the copy stays
        too (two results for one unit on the next import). Here a rename is tried;
        across drives the file is copied under a temporary name, the source deleted,
        and only then the copy named; if the delete fails the copy is removed and
        the OSError raised, so the caller tries again later.
        """
        try:
            self._os_rename(self.fs(src), self.fs(dst))
            return
        except OSError as exc:
            if not self._cross_device(exc):
                raise
        partial = dst.with_name(f"~$lta-{dst.name}.partial")
        self._os_copy(self.fs(src), self.fs(partial))
        try:
            self._os_unlink(self.fs(src))
        except OSError:
            with contextlib.suppress(OSError):
                self._os_unlink(self.fs(partial))
            raise
        self._os_rename(self.fs(partial), self.fs(dst))

    @staticmethod
    def _cross_device(exc: OSError) -> bool:
        return getattr(exc, "winerror", None) == ERROR_NOT_SAME_DEVICE or exc.errno == errno.EXDEV

    def probe_write(self, folder: Path, name: str = ".lta-doctor-probe") -> OSError | None:
        """Create and delete a small file in `folder`: None when this account can write there.

        `os.access` answers from the mode bits; on Windows it ignores ACLs, so it says
        "writable" for folders the service cannot write. Only trying tells.
        """
        path = folder / name
        try:
            self._os_write_new(self.fs(path), b"lta")
        except FileExistsError:
            pass  # a probe left by a killed run: delete it below
        except OSError as exc:
            return exc
        try:
            self._os_unlink(self.fs(path))
        except OSError as exc:
            return exc
        return None

    def classify(self, exc: OSError) -> ErrorKind:
        """What an OSError from a file operation means (see ErrorKind)."""
        if exc.errno in (errno.ENAMETOOLONG,):
            return ErrorKind.TOO_LONG
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return ErrorKind.MISSING
        if exc.errno in (errno.EACCES, errno.EPERM):
            return ErrorKind.DENIED
        if exc.errno in (errno.EBUSY, errno.ETXTBSY):
            return ErrorKind.LOCKED
        if exc.errno in (errno.EHOSTDOWN, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EIO):
            return ErrorKind.UNREACHABLE
        if exc.errno in (getattr(errno, "ESTALE", -1), getattr(errno, "ENOTCONN", -1)):
            return ErrorKind.UNREACHABLE
        return ErrorKind.OTHER

    def drive_problem(self, path: Path) -> str | None:
        """Why a service could not see `path` although the person asking can (None: no reason)."""
        return None

    # ------------------------------------------------------------------ time

    def local_time(self, ns: int) -> datetime:
        """A file time (ns since 1970) as naive local time, for any value a file can carry.

        Windows raises OSError for times before 1970 (and some file systems store
        them: FAT dates from 1980 restored with bad clocks, copies from old NAS
        boxes); such a file must not stop every scan. Outside what the OS converts,
        the time is placed with today's UTC offset: good to the hour, which is all
        the history window needs.
        """
        try:
            return self._os_fromtimestamp(ns / NS_PER_S)
        except (OSError, OverflowError, ValueError):
            offset = datetime.now(UTC).astimezone().utcoffset() or timedelta(0)
            try:
                moment = _EPOCH_UTC + timedelta(microseconds=ns // 1000) + offset
            except OverflowError:
                return datetime.min if ns < 0 else datetime.max
            return moment.replace(tzinfo=None)

    # ------------------------------------------------------------------ processes

    def mp_context(self, preferred: str = "spawn") -> Any:
        """A multiprocessing context: `preferred` where the OS has it, else spawn.

        The service always spawns (a forked child of a threaded server can inherit
        a held lock, and Windows has nothing else); the batch CLI prefers fork on
        Linux for its start-up time and gets spawn on Windows.
        """
        method = preferred if preferred in self._os_start_methods() else "spawn"
        return self._os_mp_context(method)

    def worker_limits_itself(self) -> bool:
        """True when the worker applies its own memory cap (rlimit); False: `cap_memory`."""
        return True

    def cap_memory(self, pid: int, limit: int) -> object | None:
        """Cap a running worker's memory from the parent; POSIX workers cap themselves."""
        return None

    def release_cap(self, handle: object | None) -> None:
        """Give back what `cap_memory` holds (a Job Object handle on Windows)."""

    # ------------------------------------------------------------------ ports

    def listen_socket(self, host: str, port: int) -> socket.socket:
        """A bound (not yet listening) TCP socket no second agent can bind too.

        Raises OSError with errno EADDRINUSE when the port is taken.
        """
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            self._claim(sock)
            self._os_bind(sock, (host, port))
        except OSError:
            sock.close()
            raise
        return sock

    def _claim(self, sock: socket.socket) -> None:
        # Linux refuses a second listener on a port even with SO_REUSEADDR; it only
        # lets a restarted agent bind past the old one's TIME_WAIT connections.
        self._os_setsockopt(sock, socket.SO_REUSEADDR, 1)

    @staticmethod
    def address_in_use(exc: OSError) -> bool:
        return exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", None) == WSAEADDRINUSE

    # ------------------------------------------------------------------ processes

    def own_group(self) -> dict[str, Any]:
        """Popen arguments that start a child outside this process's group and session.

        A demo stops its children itself, in order (agents, then central and its
        PostgreSQL). A terminal's Ctrl-C or a script's `kill -INT -group` must reach
        only the demo, or the children die first and look like crashes.
        """
        return {"start_new_session": True}

    # ------------------------------------------------------------------ identity

    def account(self) -> str:
        """The account this process runs as, as IT would name it."""
        try:
            return getpass.getuser()
        except (OSError, KeyError):  # no name for this uid (containers)
            return f"uid {os.getuid()}" if hasattr(os, "getuid") else "this account"

    def scheduler_timezone(self) -> Any:
        """The scheduler's zone: UTC, never the local zone.

        APScheduler otherwise asks tzlocal for the local zone at start-up; a Windows
        zone tzlocal cannot map, or a missing tzdata, then stops the agent. Every job
        runs on an interval, so the zone changes nothing they do.
        """
        return UTC


class WindowsPlatform(Platform):
    """Windows rules: extended paths, WinError codes, exclusive ports, Job Objects."""

    windows = True
    name = "windows"

    def _os_start_methods(self) -> list[str]:
        return ["spawn"]  # what multiprocessing has on Windows

    def _os_mp_context(self, method: str) -> Any:
        if method != "spawn":  # what multiprocessing says on Windows
            raise ValueError(f"cannot find context for {method!r}")
        return multiprocessing.get_context(method)

    def fs(self, path: Path | str) -> str:
        """Long paths in their \\\\?\\ form, which Windows does not cut at MAX_PATH."""
        text = str(path)
        if len(text) < MAX_PATH_CHARS or text.startswith(EXTENDED_PREFIX):
            return text
        return extended_path(text)

    def classify(self, exc: OSError) -> ErrorKind:
        code = getattr(exc, "winerror", None)
        if code in (ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION, ERROR_CANT_ACCESS_FILE):
            return ErrorKind.LOCKED
        if code in ERROR_BAD_NETPATH_NAMES:  # Python maps 53 and 67 to ENOENT
            return ErrorKind.UNREACHABLE
        if code == ERROR_FILENAME_EXCED_RANGE:
            return ErrorKind.TOO_LONG
        if code == ERROR_ACCESS_DENIED:
            return ErrorKind.DENIED
        return super().classify(exc)

    def _os_drive(self, path: str) -> str:
        return PureWindowsPath(path).drive

    def _os_drive_type(self, root: str) -> int:
        return int(ctypes.windll.kernel32.GetDriveTypeW(root))  # type: ignore[attr-defined]

    def drive_problem(self, path: Path) -> str | None:
        """Mapped drive letters belong to a logon session; a service has none of them."""
        drive = self._os_drive(str(path))
        if len(drive) != 2 or drive[1] != ":":
            return None  # UNC path (\\server\share) or relative: seen the same by everyone
        kind = self._os_drive_type(drive + "\\")
        if kind == DRIVE_REMOTE:
            return (
                f"{drive} is a mapped network drive: the service does not see drives mapped "
                "at logon. Use the share's UNC path (\\\\server\\share\\folder) in inbox.paths "
                "and run the service as an account with rights on the share "
                "(docs/install.md, 'Inbox on a network share')."
            )
        if kind == DRIVE_NO_ROOT_DIR:
            return (
                f"{drive} does not exist for this account (a drive mapped by another user?). "
                "Use the UNC path (\\\\server\\share\\folder) in inbox.paths."
            )
        return None

    def _os_fromtimestamp(self, seconds: float) -> datetime:
        if seconds < 0:  # the C runtime's localtime refuses; make it explicit
            raise OSError(errno.EINVAL, "Invalid argument")
        return super()._os_fromtimestamp(seconds)

    def own_group(self) -> dict[str, Any]:
        """Windows: a new process group, so a console Ctrl-C reaches only the parent."""
        return {"creationflags": 0x00000200}  # CREATE_NEW_PROCESS_GROUP

    def worker_limits_itself(self) -> bool:
        return False

    def cap_memory(self, pid: int, limit: int) -> object | None:
        """A Job Object whose process memory limit is `limit`; the worker is put in it.

        Windows has no rlimit. A process in a job with JOB_OBJECT_LIMIT_PROCESS_MEMORY
        gets allocation failures past the limit (MemoryError, or the reader aborts):
        the worker dies on that file, not the PC in paging. KILL_ON_JOB_CLOSE ends the
        worker with the agent even when the agent is killed.
        """
        return self._os_job_limit(pid, limit)

    def _os_job_limit(self, pid: int, limit: int) -> object | None:
        return job_object_limit(pid, limit)

    def release_cap(self, handle: object | None) -> None:
        if handle is not None:
            self._os_close_handle(handle)

    def _os_close_handle(self, handle: object) -> None:
        ctypes.windll.kernel32.CloseHandle(handle)  # type: ignore[attr-defined]

    def _claim(self, sock: socket.socket) -> None:
        # Windows lets a second socket with SO_REUSEADDR bind a port in use (two
        # agents, two writers on one store); SO_EXCLUSIVEADDRUSE forbids any other
        # bind to it, and waitress's own SO_REUSEADDR afterwards is refused (ignored).
        self._os_setsockopt(sock, SO_EXCLUSIVEADDRUSE, 1)

    def account(self) -> str:
        domain, user = os.environ.get("USERDOMAIN", ""), os.environ.get("USERNAME", "")
        if user.endswith("$"):  # LocalSystem and NetworkService show the computer account
            return f"{domain}\\{user} (LocalSystem or NetworkService)"
        return f"{domain}\\{user}" if domain and user else super().account()


DRIVE_NO_ROOT_DIR = 1
DRIVE_REMOTE = 4


def extended_path(text: str) -> str:
    """`C:\\a\\b` -> `\\\\?\\C:\\a\\b`; `\\\\server\\share\\a` -> `\\\\?\\UNC\\server\\share\\a`.

    The extended form takes no `.`/`..` and no forward slashes, so the path is
    normalised first.
    """
    normal = ntpath.normpath(text.replace("/", "\\"))
    if normal.startswith("\\\\"):
        return EXTENDED_PREFIX + "UNC\\" + normal[2:]
    return EXTENDED_PREFIX + normal


# ---------------------------------------------------------------------- Job Objects
# The structures of winnt.h, declared with ctypes so their layout can be checked on
# any OS (tests/agent/test_seam.py); only the calls need Windows.

JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x00000100
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
PROCESS_SET_QUOTA = 0x0100
PROCESS_TERMINATE = 0x0001


class IoCounters(ctypes.Structure):
    _fields_ = [
        ("ReadOperationCount", ctypes.c_ulonglong),
        ("WriteOperationCount", ctypes.c_ulonglong),
        ("OtherOperationCount", ctypes.c_ulonglong),
        ("ReadTransferCount", ctypes.c_ulonglong),
        ("WriteTransferCount", ctypes.c_ulonglong),
        ("OtherTransferCount", ctypes.c_ulonglong),
    ]


class JobBasicLimits(ctypes.Structure):
    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_longlong),
        ("PerJobUserTimeLimit", ctypes.c_longlong),
        ("LimitFlags", ctypes.c_uint32),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", ctypes.c_uint32),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", ctypes.c_uint32),
        ("SchedulingClass", ctypes.c_uint32),
    ]


class JobExtendedLimits(ctypes.Structure):
    _fields_ = [
        ("BasicLimitInformation", JobBasicLimits),
        ("IoInfo", IoCounters),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


def job_limits(limit: int) -> JobExtendedLimits:
    """The limits the worker's job gets: `limit` bytes per process, killed with the job."""
    info = JobExtendedLimits()
    info.BasicLimitInformation.LimitFlags = (
        JOB_OBJECT_LIMIT_PROCESS_MEMORY | JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    )
    info.ProcessMemoryLimit = limit
    return info


def job_object_limit(pid: int, limit: int) -> object:
    """Create a Job Object with `job_limits(limit)` and put process `pid` in it (Windows)."""
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
    kernel32.SetInformationJobObject.argtypes = [
        wintypes.HANDLE,
        ctypes.c_int,
        ctypes.c_void_p,
        wintypes.DWORD,
    ]
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]

    def failed(what: str) -> SeamError:
        code = ctypes.get_last_error()  # type: ignore[attr-defined]
        return SeamError(
            ErrorCode.ANALYSIS_CANNOT_START,
            f"{what} failed (WinError {code}): the analysis worker cannot be given its memory "
            "limit. Check that no policy forbids Job Objects for this service.",
        )

    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        raise failed("CreateJobObject")
    info = job_limits(limit)
    if not kernel32.SetInformationJobObject(
        job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS, ctypes.byref(info), ctypes.sizeof(info)
    ):
        kernel32.CloseHandle(job)
        raise failed("SetInformationJobObject")
    process = kernel32.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, False, pid)
    if not process:
        kernel32.CloseHandle(job)
        raise failed("OpenProcess")
    try:
        if not kernel32.AssignProcessToJobObject(job, process):
            kernel32.CloseHandle(job)
            raise failed("AssignProcessToJobObject")
    finally:
        kernel32.CloseHandle(process)
    return job


_HOST: Platform | None = None


def host() -> Platform:
    """The platform this process runs on (one instance per process)."""
    global _HOST
    if _HOST is None:
        _HOST = WindowsPlatform() if sys.platform == "win32" else Platform()
    return _HOST
