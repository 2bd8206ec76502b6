"""What the alarm tests share: real analysed station files as templates, and series of
units made from them (new file hashes, chosen dates and metrics) for central's ingest.

A unit made here is a real analysed result (tests/data/real) with its test date and,
where a test needs it, its sigma gradient, linearity error and status changed: what
a station would send for another unit of the same model. Its curves stay the real
ones, so ingest, rollups and fail bins run exactly as for a station's batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

import numpy as np
import numpy.typing as npt

from agent.analysis.file import analyse_file
from central.db import Database
from shared.models import FileResult, Status
from tests.central.data_helpers import batch_of, ingest, renamed
from tests.real_truth import IN_REPO

PASSING = "6828_44_TEST DATA_3-6-2025_5-22 AM.xls"  # one track, Pass
FAILING = "8340-1_82_TA_Test Data_4-17-2025_5-59 AMTrimmed Correct.xls"  # one track, Fail
BATCH = 500


@cache
def real(name: str) -> FileResult:
    """A real station file, analysed by the agent's own analysis."""
    return analyse_file(IN_REPO / name)


def unit(
    template: FileResult,
    tag: str,
    made: datetime,
    *,
    serial: str | None = None,
    sigma: float | None = None,
    linearity: float | None = None,
    status: Status | None = None,
) -> FileResult:
    """Another unit like `template` (its first track), made at `made`."""
    track = template.tracks[0]
    changes: dict[str, object] = {}
    if sigma is not None:
        changes["sigma_gradient"] = sigma
    if linearity is not None:
        changes["linearity_error"] = linearity
    if status is not None:
        changes["status"] = status
    return renamed(
        template,
        tag,
        test_date=made,
        serial=serial or template.serial,
        status=status or template.status,
        tracks=[track.model_copy(update=changes)],
    )


def series(
    template: FileResult,
    tag: str,
    moments: Sequence[datetime],
    sigma: Sequence[float] | npt.NDArray[np.float64] | None = None,
    linearity: Sequence[float] | npt.NDArray[np.float64] | None = None,
) -> list[FileResult]:
    """One unit per moment, serials S<tag>-<i>, with the given metrics (else the template's)."""
    return [
        unit(
            template,
            f"{tag}-{i}",
            made,
            serial=f"S{tag}-{i}",
            sigma=None if sigma is None else float(sigma[i]),
            linearity=None if linearity is None else float(linearity[i]),
        )
        for i, made in enumerate(moments)
    ]


def send(db: Database, station: str, results: Sequence[FileResult]) -> None:
    """Store results as the station's batches through central's ingest."""
    for first in range(0, len(results), BATCH):
        response = ingest(db, batch_of(list(results[first : first + BATCH]), station))
        assert not response.rejected, response.rejected
