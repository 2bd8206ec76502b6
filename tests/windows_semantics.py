"""A Windows station PC, as far as the agent can tell, on Linux.

`WindowsSemantics` is `agent.seam.WindowsPlatform` with only its OS
primitives replaced: the Windows rules above them (extended paths, error
classification, exclusive port binding, Job Object memory caps, spawn-only
processes) run exactly as on a station. What it imposes:

- files the station holds open: reading, renaming or deleting them raises
  PermissionError with WinError 32 (sharing violation); listing and stat work;
- shares that are down: every call under them raises FileNotFoundError with
  WinError 53 ("network path not found"), as Python maps it on Windows;
- MAX_PATH: a path of 260 characters or more not in the \\\\?\\ form raises
  FileNotFoundError with WinError 3, as a Windows without long-path support does;
- times before 1970: `datetime.fromtimestamp` raises OSError (WindowsPlatform);
- spawn only: asking for fork raises ValueError (WindowsPlatform);
- ports: Winsock's bind rules (a second socket with SO_REUSEADDR shares a port
  unless the first holds SO_EXCLUSIVEADDRUSE), over a table shared by every
  "process" of one `Machine`;
- Job Objects: the memory limit is applied to the worker from the parent with
  prlimit (RLIMIT_DATA), which is what a job does to a process that is running;
- drive letters: `drive_types` says which letters are mapped network drives.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.seam import (
    DRIVE_REMOTE,
    ERROR_BAD_NETPATH,
    ERROR_PATH_NOT_FOUND,
    ERROR_SHARING_VIOLATION,
    EXTENDED_PREFIX,
    SO_EXCLUSIVEADDRUSE,
    WSAEADDRINUSE,
    WindowsPlatform,
)

DRIVE_FIXED = 3
WINDOWS_MAX_PATH = 260


def win_error(kind: type[OSError], code: int, errno_: int, text: str, path: str) -> OSError:
    """An OSError as Python raises it on Windows: errno mapped, `winerror` set."""
    exc = kind(errno_, text, path)
    exc.winerror = code  # type: ignore[attr-defined] - set by CPython on Windows only
    return exc


@dataclass
class Binding:
    sock: socket.socket
    exclusive: bool
    reuse: bool


@dataclass
class Machine:
    """What several processes on one PC share: the port table."""

    ports: dict[int, list[Binding]] = field(default_factory=dict)
    shared: list[int] = field(default_factory=list)  # ports Windows let two sockets hold

    def bind(self, sock: socket.socket, port: int, exclusive: bool, reuse: bool) -> bool:
        """Winsock's decision: raise WSAEADDRINUSE, or say whether the port is now shared."""
        holders = [b for b in self.ports.get(port, []) if b.sock.fileno() != -1]
        if holders and (exclusive or not reuse or any(b.exclusive for b in holders)):
            raise win_error(
                OSError,
                WSAEADDRINUSE,
                errno.EADDRINUSE,
                "Only one usage of each socket address is normally permitted",
                f"port {port}",
            )
        self.ports[port] = [*holders, Binding(sock, exclusive, reuse)]
        if holders:
            self.shared.append(port)
        return bool(holders)


class WindowsSemantics(WindowsPlatform):
    def __init__(self, machine: Machine | None = None) -> None:
        self.held_open: set[Path] = set()
        self.offline: set[Path] = set()
        self.drive_types: dict[str, int] = {}
        self.machine = machine or Machine()
        self.jobs: list[tuple[int, int]] = []
        self.closed_jobs: list[int] = []
        self.sockopts: dict[int, dict[int, int]] = {}

    # ------------------------------------------------------------------ paths

    def _real(self, text: str, *, held_matters: bool = False) -> str:
        """The Linux path for what the agent handed Windows, or the Windows error."""
        if text.startswith(EXTENDED_PREFIX):
            body = text[len(EXTENDED_PREFIX) :]
            real = body.replace("\\", "/")
        else:
            if len(text) >= WINDOWS_MAX_PATH:
                raise win_error(
                    FileNotFoundError,
                    ERROR_PATH_NOT_FOUND,
                    errno.ENOENT,
                    "The system cannot find the path specified",
                    text,
                )
            real = text
        path = Path(real)
        for share in self.offline:
            if path == share or path.is_relative_to(share):
                raise win_error(
                    FileNotFoundError,
                    ERROR_BAD_NETPATH,
                    errno.ENOENT,
                    "The network path was not found",
                    text,
                )
        if held_matters and path in self.held_open:
            raise win_error(
                PermissionError,
                ERROR_SHARING_VIOLATION,
                errno.EACCES,
                "The process cannot access the file because it is being used by another process",
                text,
            )
        return real

    def _os_scandir(self, folder: str) -> list[Any]:
        return super()._os_scandir(self._real(folder))

    def _os_stat(self, path: str) -> Any:
        return super()._os_stat(self._real(path))

    def _os_read(self, path: str) -> bytes:
        return super()._os_read(self._real(path, held_matters=True))

    def _os_rename(self, src: str, dst: str) -> None:
        super()._os_rename(self._real(src, held_matters=True), self._real(dst))

    def _os_copy(self, src: str, dst: str) -> None:
        super()._os_copy(self._real(src, held_matters=True), self._real(dst))

    def _os_unlink(self, path: str) -> None:
        super()._os_unlink(self._real(path, held_matters=True))

    def _os_write_new(self, path: str, data: bytes) -> None:
        super()._os_write_new(self._real(path), data)

    def _os_drive(self, path: str) -> str:
        """The drive letter of a Windows path that Linux took for a relative name."""
        for part in Path(path).parts:
            if len(part) >= 2 and part[1] == ":" and part[0].isalpha():
                return part[:2]
        return ""

    def _os_drive_type(self, root: str) -> int:
        return self.drive_types.get(root[:2].upper(), DRIVE_FIXED)

    def map_drive(self, letter: str) -> None:
        self.drive_types[letter.upper()] = DRIVE_REMOTE

    # ------------------------------------------------------------------ ports

    def _os_setsockopt(self, sock: socket.socket, option: int, value: int) -> None:
        self.sockopts.setdefault(sock.fileno(), {})[option] = value
        if option != SO_EXCLUSIVEADDRUSE:  # Linux has no such option
            super()._os_setsockopt(sock, option, value)

    def _os_bind(self, sock: socket.socket, address: tuple[Any, ...]) -> None:
        options = self.sockopts.get(sock.fileno(), {})
        port = int(address[1])
        shared = self.machine.bind(
            sock,
            port,
            exclusive=bool(options.get(SO_EXCLUSIVEADDRUSE)),
            reuse=bool(options.get(socket.SO_REUSEADDR)),
        )
        # Linux would refuse the shared bind Windows allows: take any port instead,
        # the table above has recorded what Windows would have done.
        super()._os_bind(sock, (address[0], 0) if shared else address)

    # ------------------------------------------------------------------ Job Objects

    def _os_job_limit(self, pid: int, limit: int) -> object:
        import resource  # Linux: the double imitates Windows there

        resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))
        self.jobs.append((pid, limit))
        return pid

    def _os_close_handle(self, handle: object) -> None:
        self.closed_jobs.append(int(handle))  # type: ignore[call-overload]
