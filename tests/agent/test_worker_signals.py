"""Ctrl+C reaches every process of a console group (a Windows service stop, a terminal).

The analysis worker ignores it: the service stops the worker itself once the
file in hand is recorded, so a stop never turns a good file into an
`unreadable_file` Error.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from agent.isolation import IsolatedAnalyser
from shared.analysis_settings import AnalysisSettings
from shared.models import Status

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
SAMPLE = REAL / "8555_54_TEST DATA_9-3-2022_1-09 PM.xls"


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(SIGINT) is not a console Ctrl+C")
def test_worker_survives_ctrl_c_and_analyses_the_next_file() -> None:
    with IsolatedAnalyser(AnalysisSettings(), start_method="spawn") as analyser:
        analyser.start()
        process = analyser._process
        assert process is not None and process.pid is not None

        os.kill(process.pid, signal.SIGINT)
        result = analyser.analyse(SAMPLE)

        assert result.status is not Status.ERROR, result.error
        assert analyser.restarts == 0
        assert analyser._process is process and process.is_alive()
