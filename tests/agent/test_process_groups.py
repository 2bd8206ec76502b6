"""Children of the demos start in their own process group (agent.seam: own_group)."""

from __future__ import annotations

import subprocess
import sys

from agent.seam import Platform, WindowsPlatform


def test_posix_children_get_their_own_session() -> None:
    arguments = Platform().own_group()
    assert arguments == {"start_new_session": True}
    if sys.platform != "win32":
        done = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getsid(0) == os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
            **arguments,
        )
        assert done.stdout.strip() == "True"


def test_windows_children_get_a_new_process_group() -> None:
    assert WindowsPlatform().own_group() == {"creationflags": 0x00000200}
