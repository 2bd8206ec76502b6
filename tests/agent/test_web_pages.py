"""The operator's status page, its fragments, the unit detail page and the SVG charts.

Pages are rendered from real stores filled with really analysed simulated
files (conftest.fill_store); the charts are checked as XML and against the
linearity kernel's own fail counts.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from flask.testing import FlaskClient

from agent.analysis import linearity
from agent.analysis.file import analyse_file
from agent.runtime import Runtime
from agent.simulate import simulate_station
from agent.store import reads
from agent.store.store import Store
from agent.web.context import AgentContext
from agent.web.pages import track_chart
from shared.charts import numbers, scale
from shared.charts import track as plot
from shared.models import ErrorInfo, FileResult, Status, TrackCurve, TrackResult
from tests.conftest import STATION, fill_store
from tests.factories import system_a_file, system_a_sheet, track_arrays, write_workbook
from tests.real_truth import IN_REPO

SVG = "{http://www.w3.org/2000/svg}"


def record_file(store: Store, path: Path) -> FileResult:
    """Analyse one file and record it, as the watcher (and fill_store) does."""
    result = analyse_file(path)
    store.record(result, STATION, datetime.now(UTC), path.stat().st_mtime_ns)
    return result


def text_of(html: str, element_id: str) -> str:
    """Text of the element with this id (the page's elements have no nested tags there)."""
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert match, f"no #{element_id} in page"
    return match.group(1).strip()


def verdict_classes(html: str) -> str:
    match = re.search(r'id="verdict" class="([^"]*)"', html)
    assert match
    return match.group(1)


def parse_svg(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, parsed to prove it well-formed
    assert root.tag == f"{SVG}svg"
    return root


def circles(root: ET.Element) -> list[ET.Element]:
    """The red failing points (excluded points are hollow rings in their own group)."""
    return [
        c
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "fail-pts"
        for c in g.findall(f"{SVG}circle")
    ]


def paths(root: ET.Element, cls: str) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG}path") if p.get("class") == cls]


def svgs_in(html: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", html, flags=re.DOTALL)


# --- status page ------------------------------------------------------------------------


def test_empty_store_shows_waiting_state_with_health_line(client: FlaskClient) -> None:
    response = client.get("/")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "verdict-waiting" in verdict_classes(html)
    assert text_of(html, "verdict") == "Waiting for the first unit"
    assert "<title>Waiting · Test station</title>" in html
    assert '<meta name="viewport"' in html
    assert text_of(html, "health-watching").startswith("watching /inbox")
    assert text_of(html, "health-central") == "central: not configured"
    assert text_of(html, "health-outbox") == "outbox: 0 pending"
    for key in ("pass", "warning", "fail", "error"):
        assert text_of(html, f"count-{key}") == "0"
    assert text_of(html, "yield-pct") == "—"
    assert 'class="recent-row' not in html
    assert "<svg" not in html


def test_page_shows_latest_verdict_curves_and_counts(
    client: FlaskClient, store: Store, tmp_path: Path
) -> None:
    results = fill_store(store, tmp_path / "inbox", 6)
    latest = results[-1]
    html = client.get("/").get_data(as_text=True)
    status = client.get("/api/status").get_json()

    word = latest.status.value.upper()
    assert text_of(html, "verdict") == word
    assert f"verdict-{latest.status.value.lower()}" in verdict_classes(html)
    assert text_of(html, "unit-model") == latest.model
    assert text_of(html, "unit-serial") == latest.serial
    assert latest.file_name in html
    assert f"<title>{word} {latest.model} {latest.serial} · Test station</title>" in html
    charts = svgs_in(html)
    assert len(charts) == len(latest.tracks)
    for chart in charts:
        parse_svg(chart)
    assert html.count('class="metric sigma') == len(latest.tracks)
    for key, value in status["counts"].items():
        assert text_of(html, f"count-{key.lower()}") == str(value)
    assert sum(status["counts"].values()) == len(results)
    assert text_of(html, "yield-pct").endswith("%")
    assert f'data-latest-pk="{status["latest"]["pk"]}"' in html


def test_page_carries_what_the_polling_script_needs(
    client: FlaskClient, app_context: AgentContext
) -> None:
    html = client.get("/").get_data(as_text=True)

    assert f'data-refresh-ms="{app_context.page_refresh_ms}"' in html
    assert 'data-status-url="/api/status"' in html
    assert 'data-latest-url="/partials/latest"' in html
    assert 'data-recent-url="/partials/recent"' in html
    for container in ('id="latest"', 'id="recent"', 'id="conn-lost"', 'id="health"'):
        assert container in html
    assert re.search(r'id="conn-lost"[^>]*\bhidden\b', html)
    script = client.get("/static/status.js")
    assert script.status_code == 200
    assert "latestUrl" in script.get_data(as_text=True)
    assert client.get("/static/status.css").status_code == 200
    assert "https://" not in html  # everything is served by the station itself


def test_recent_list_is_capped_at_50_rows_linking_to_units(
    client: FlaskClient, store: Store, tmp_path: Path
) -> None:
    fill_store(store, tmp_path / "inbox", 53, seed=4)
    html = client.get("/").get_data(as_text=True)

    links = re.findall(r'<a class="recent-row[^"]*" href="/units/(\d+)"', html)
    assert links == [str(pk) for pk in range(53, 3, -1)]
    row = client.get(f"/units/{links[-1]}")
    assert row.status_code == 200


def test_health_line_shows_last_error_and_outbox(
    client: FlaskClient, store: Store, runtime: Runtime, tmp_path: Path
) -> None:
    fill_store(store, tmp_path / "inbox", 2)
    runtime.report_scan(3)
    runtime.report_error("inbox folder vanished")
    html = client.get("/").get_data(as_text=True)

    assert text_of(html, "health-waiting") == "3 files waiting"
    assert text_of(html, "health-error").endswith(": inbox folder vanished")
    assert re.search(r'id="health-error" class="[^"]*\bhealth-bad\b', html)
    assert text_of(html, "health-outbox").startswith("outbox: 2 pending, oldest ")


def test_error_unit_shows_error_and_its_reason(
    client: FlaskClient, store: Store, tmp_path: Path
) -> None:
    fill_store(store, tmp_path / "inbox", 2)
    broken = tmp_path / "broken<b>&.xlsx"
    broken.write_text("this is text, not a workbook")
    result = record_file(store, broken)
    assert result.status is Status.ERROR
    assert result.error is not None

    html = client.get("/").get_data(as_text=True)
    assert text_of(html, "verdict") == "ERROR"
    assert "verdict-error" in verdict_classes(html)
    reason = re.search(r'id="verdict-reason".*?</div>', html, flags=re.DOTALL)
    assert reason
    assert result.error.code in reason.group(0)
    assert "broken&lt;b&gt;&amp;.xlsx" in reason.group(0)
    assert "<b>" not in html
    assert text_of(html, "count-error") == "1"
    recent = client.get("/partials/recent").get_data(as_text=True)
    assert f'<span class="r-detail r-error">{result.error.code}</span>' in recent


def test_untrimmed_only_unit_is_flagged(client: FlaskClient, store: Store, tmp_path: Path) -> None:
    result = record_file(store, system_a_file(tmp_path / "8340-1_SN5_TA.xlsx", trimmed=False))
    assert result.tracks[0].untrimmed_only

    html = client.get("/").get_data(as_text=True)
    assert "UNTRIMMED ONLY" in html
    assert len(svgs_in(html)) == 1


# --- what decides a verdict: fail points and the margin to the band ----------------------


def bowtie_arrays(outside: int = 0) -> dict[str, np.ndarray]:
    """A band narrow in the middle and wide at the ends, errors filling 70 % of it.

    The largest error sits at the wide ends, beyond the mean half-width: as a
    percentage of the mean spec it reads over 100 % though every point is inside.
    `outside` points in the middle are pushed out of the band.
    """
    arrays = track_arrays(n=200, seed=3)
    u = np.linspace(-1.0, 1.0, 200)
    half = 0.004 + 0.012 * np.abs(u)
    errors = 0.7 * half * np.sign(np.sin(7 * np.pi * u) + 1e-9)
    if outside:
        errors[100 : 100 + outside] = half[100 : 100 + outside] * 2.5
    arrays.update(errors=errors, upper=half, lower=-half, measured=arrays["theory"] + errors)
    return arrays


def bowtie_file(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    untrimmed = system_a_sheet(track_arrays(seed=11, noise=0.05), resistance=9500.0)
    return write_workbook(
        path, {"SEC1 TRK1 0": untrimmed, "SEC1 TRK1 1 TRM1": system_a_sheet(arrays)}
    )


def recent_detail(client: FlaskClient) -> str:
    html = client.get("/partials/recent").get_data(as_text=True)
    match = re.search(r'<span class="r-detail">(.*?)</span>\s*</a>', html, flags=re.DOTALL)
    assert match, html
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_recent_row_of_a_bowtie_pass_shows_fail_points_and_margin(
    client: FlaskClient, store: Store, tmp_path: Path
) -> None:
    path = bowtie_file(tmp_path / "8340-1_SN31.xls", bowtie_arrays())
    result = record_file(store, path)
    [track] = result.tracks
    assert track.fail_points == 0 and track.margin_to_spec is not None
    assert track.linearity_error and track.linearity_spec
    over_spec = 100 * track.linearity_error / track.linearity_spec
    assert over_spec > 100  # what the list used to show beside a pass

    detail = recent_detail(client)
    assert detail.startswith("0 fail pts")
    assert f"margin {track.margin_to_spec:.0f} %" in detail
    assert f"{over_spec:.0f} %" not in detail and "lin " not in detail
    card = client.get("/partials/latest").get_data(as_text=True)
    assert f"{over_spec:.0f} %" not in card
    assert "Margin to spec" in card and "Fail points" in card


def test_recent_row_of_a_failing_unit_shows_how_far_outside(
    client: FlaskClient, store: Store, tmp_path: Path
) -> None:
    path = bowtie_file(tmp_path / "8340-1_SN32.xls", bowtie_arrays(outside=3))
    result = record_file(store, path)
    [track] = result.tracks
    assert track.fail_points and track.max_violation

    detail = recent_detail(client)
    assert detail.startswith(f"{track.fail_points} fail pt")
    assert f"outside by {numbers.format_number(track.max_violation)}" in detail
    assert "margin" not in detail and "%" not in detail
    card = client.get("/partials/latest").get_data(as_text=True)
    assert "Outside by" in card


def test_a_two_track_unit_names_the_track_that_decided(
    client: FlaskClient, store: Store, tmp_path: Path
) -> None:
    result = record_file(store, system_a_file(tmp_path / "8340-1_SN33.xls", tracks=2))
    worst = max(result.tracks, key=lambda t: (t.status.severity, t.fail_points or 0))
    detail = recent_detail(client)
    assert detail.startswith(worst.track_id)
    assert f"{worst.fail_points} fail pt" in detail


# --- fragments --------------------------------------------------------------------------


def test_partials_are_fragments_of_the_page(
    client: FlaskClient, store: Store, tmp_path: Path
) -> None:
    empty_latest = client.get("/partials/latest").get_data(as_text=True)
    empty_recent = client.get("/partials/recent").get_data(as_text=True)
    assert "verdict-waiting" in empty_latest
    assert "No units yet." in empty_recent

    results = fill_store(store, tmp_path / "inbox", 3)
    latest = client.get("/partials/latest")
    recent = client.get("/partials/recent")
    status = client.get("/api/status").get_json()

    latest_html = latest.get_data(as_text=True)
    recent_html = recent.get_data(as_text=True)
    assert latest.status_code == recent.status_code == 200
    for fragment in (latest_html, recent_html):
        assert "<html" not in fragment
        assert "<body" not in fragment
    assert f'data-pk="{status["latest"]["pk"]}"' in latest_html
    assert text_of(latest_html, "verdict") == results[-1].status.value.upper()
    assert len(svgs_in(latest_html)) == len(results[-1].tracks)
    assert recent_html.count('class="recent-row') == 3


# --- detail page ------------------------------------------------------------------------


def test_detail_page_by_pk_and_by_result_id(
    client: FlaskClient, store: Store, tmp_path: Path
) -> None:
    results = fill_store(store, tmp_path / "inbox", 3)
    meta = reads.recent(store.read(), 1)[0]
    result = results[-1]

    by_pk = client.get(f"/units/{meta['pk']}")
    by_id = client.get(f"/units/{meta['result_id']}")
    assert by_pk.status_code == by_id.status_code == 200
    html = by_pk.get_data(as_text=True)
    assert html == by_id.get_data(as_text=True)
    assert text_of(html, "verdict") == result.status.value.upper()
    for fact in (result.file_name, str(result.sha256), meta["result_id"], "Analysis version"):
        assert fact in html
    for label in ("Sigma threshold", "Optimal offset", "Raw fail points", "Margin to spec"):
        assert label in html
    for track in result.tracks:
        assert f'data-track="{track.track_id}"' in html
    every_chart = [parse_svg(svg) for svg in svgs_in(html)]
    # each track's chart, then its trim history: every measurement over one another,
    # then one chart per measurement
    history = [len(t.passes) + 1 if len(t.passes) > 1 else 0 for t in result.tracks]
    assert len(every_chart) == len(result.tracks) + sum(history)
    charts, start = [], 0
    for size in history:
        charts.append(every_chart[start])
        start += 1 + size
    has_untrimmed = [
        t.curve is not None and t.curve.untrimmed_errors is not None for t in result.tracks
    ]
    assert [bool(paths(c, "untrimmed")) for c in charts] == has_untrimmed
    assert 'href="/"' in html


@pytest.mark.parametrize("key", ["999", "00000000-0000-0000-0000-000000000000", "nope"])
def test_unknown_unit_is_an_html_404(client: FlaskClient, key: str) -> None:
    response = client.get(f"/units/{key}")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert 'id="not-found"' in response.get_data(as_text=True)


def test_detail_page_of_an_error_unit_shows_reason(
    client: FlaskClient, store: Store, tmp_path: Path
) -> None:
    broken = tmp_path / "junk.xlsx"
    broken.write_text("not a workbook")
    result = record_file(store, broken)
    assert result.error is not None

    html = client.get("/units/1").get_data(as_text=True)
    assert "verdict-error" in verdict_classes(html)
    assert result.error.code in html
    assert "No tracks in this file." in html


# --- charts -----------------------------------------------------------------------------


def make_curve(
    n: int,
    errors: list[float] | None = None,
    upper: list[float | None] | None = None,
    lower: list[float | None] | None = None,
    untrimmed: bool = False,
) -> TrackCurve:
    positions = [float(i) for i in range(n)]
    errs = errors if errors is not None else [0.004 * math.sin(i / 15) for i in range(n)]
    return TrackCurve(
        positions=positions,
        errors=errs,
        upper=upper if upper is not None else [0.005] * n,
        lower=lower if lower is not None else [-0.005] * n,
        untrimmed_positions=positions if untrimmed else None,
        untrimmed_errors=[0.03 * math.cos(i / 40) for i in range(n)] if untrimmed else None,
    )


@pytest.mark.parametrize("n", [10, 600, 2000])
def test_chart_is_well_formed_at_any_size(n: int) -> None:
    svg = plot.track_svg(make_curve(n), 0.0005, width=800, height=360)
    root = parse_svg(str(svg))

    assert root.get("viewBox") == "0 0 800 360"
    assert len(paths(root, "curve")) == 1
    assert len(paths(root, "band")) == 1
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert len(ticks) >= 6
    assert not re.search(r"\bnan\b|\binf\b", str(svg), flags=re.IGNORECASE)
    assert "offset +5.00e-4" in str(svg)
    # one decimal at most in coordinates keeps the page small
    assert not re.search(r"\d\.\d\d", paths(root, "curve")[0].get("d", ""))


def test_chart_stays_compact() -> None:
    svg = str(plot.track_svg(make_curve(2000), 0.0))
    assert len(svg) < 40_000  # constant limits collapse to a segment each


def test_chart_without_limits_has_no_band_and_no_failures() -> None:
    nan_limits: list[float | None] = [None] * 50
    curve = make_curve(50, errors=[0.5] * 50, upper=nan_limits, lower=nan_limits)
    root = parse_svg(str(plot.track_svg(curve, 0.0)))

    assert not paths(root, "band")
    assert not paths(root, "limit")
    assert not circles(root)
    assert len(paths(root, "curve")) == 1


def test_single_sided_band_draws_the_limit_and_marks_points_above_it() -> None:
    errors = [0.0] * 20 + [0.02] * 5 + [0.0] * 15
    curve = make_curve(40, errors=errors, upper=[0.01] * 40, lower=[None] * 40)
    root = parse_svg(str(plot.track_svg(curve, 0.0)))

    assert not paths(root, "band")
    assert len(paths(root, "limit")) == 1
    assert len(circles(root)) == 5


def test_blank_limits_leave_gaps_in_band_and_limit_lines() -> None:
    upper: list[float | None] = [0.01] * 60
    lower: list[float | None] = [-0.01] * 60
    upper[20:25] = [None] * 5
    root = parse_svg(str(plot.track_svg(make_curve(60, upper=upper, lower=lower), 0.0)))

    band = paths(root, "band")[0].get("d", "")
    limit = paths(root, "limit")[0].get("d", "")
    assert band.count("M") == band.count("Z") == 2  # split where the upper limit is blank
    assert limit.count("M") == 3  # upper in two pieces, lower in one


def test_flat_errors_still_get_an_axis() -> None:
    nan_limits: list[float | None] = [None] * 30
    curve = make_curve(30, errors=[0.0] * 30, upper=nan_limits, lower=nan_limits)
    root = parse_svg(str(plot.track_svg(curve, None)))

    ticks = [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert len(ticks) >= 3
    text = ET.tostring(root, encoding="unicode")
    assert not re.search(r"\bnan\b|\binf\b", text, flags=re.IGNORECASE)


def test_untrimmed_line_only_on_request_and_only_when_present() -> None:
    with_untrimmed = make_curve(100, untrimmed=True)
    assert paths(
        parse_svg(str(plot.track_svg(with_untrimmed, 0.0, show_untrimmed=True))), "untrimmed"
    )
    assert not paths(parse_svg(str(plot.track_svg(with_untrimmed, 0.0))), "untrimmed")
    untrimmed_only = make_curve(100)  # its errors are the untrimmed sheet's; no second curve
    root = parse_svg(str(plot.track_svg(untrimmed_only, 0.0, show_untrimmed=True)))
    assert not paths(root, "untrimmed")
    assert len(paths(root, "curve")) == 1


def test_track_with_an_error_renders_its_message_instead_of_a_curve() -> None:
    track = TrackResult(
        track_id="TRK1",
        status=Status.ERROR,
        error=ErrorInfo(code="insufficient_points", message="TRK1 has 3 <usable> point(s)"),
    )
    svg = str(track_chart(track, (800, 360)))
    root = parse_svg(svg)

    assert "plot-empty" in (root.get("class") or "")
    assert "insufficient_points" in svg
    assert "&lt;usable&gt;" in svg
    assert not paths(root, "curve")


def test_red_points_number_the_tracks_fail_points(tmp_path: Path) -> None:
    checked = failing = 0
    for path in simulate_station(tmp_path, count=25, seed=7):
        for track in analyse_file(path).tracks:
            if track.curve is None:
                continue
            svg = plot.track_svg(track.curve, track.optimal_offset, adjustment=track.adjustment)
            root = parse_svg(str(svg))
            assert len(circles(root)) == track.fail_points, path.name
            rings = [
                c
                for g in root.iter(f"{SVG}g")
                if g.get("class") == "excluded-pts"
                for c in g.findall(f"{SVG}circle")
            ]
            assert track.adjustment is not None
            assert len(rings) == len(track.adjustment.excluded_points)
            checked += 1
            failing += bool(track.fail_points)
    assert checked >= 25
    assert failing >= 1


def test_failing_points_agree_with_the_kernel_on_the_band_edge() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = 40
        errors = rng.normal(0, 0.006, n)
        upper = np.where(rng.random(n) < 0.1, np.nan, 0.01)
        lower = np.where(rng.random(n) < 0.1, np.nan, -0.01)
        # an offset that puts one point exactly on its limit
        c = float(upper[0] - errors[0]) if np.isfinite(upper[0]) else 0.0
        expected = int(linearity.count_failures(errors, upper, lower, c))
        as_lists = [None if math.isnan(v) else float(v) for v in upper]
        lows = [None if math.isnan(v) else float(v) for v in lower]
        assert len(plot.failing_indices(errors.tolist(), as_lists, lows, c)) == expected


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.0, 10.0, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]),
        (-0.011, 0.011, [-0.01, -0.005, 0.0, 0.005, 0.01]),
        (3.0, 3.4, [3.0, 3.1, 3.2, 3.3, 3.4]),
    ],
)
def test_nice_ticks(low: float, high: float, expected: list[float]) -> None:
    assert scale.nice_ticks(low, high, 6) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (math.nan, "—"),
        (0.0, "0"),
        (-0.0, "0"),
        (0.005572, "0.00557"),
        (2.097e-05, "2.10e-5"),
        (336.0, "336"),
        (-0.0123, "-0.0123"),
        (0.009999999999999915, "0.0100"),
        (0.0009996, "0.00100"),
    ],
)
def test_format_number(value: float | None, text: str) -> None:
    assert numbers.format_number(value) == text


# --- how the verdict was reached (shared/explain.py) --------------------------------------


def record_real(store: Store, prefix: str) -> FileResult:
    (path,) = [p for p in IN_REPO.glob("*.xls") if p.name.startswith(prefix)]
    return record_file(store, path)


def judged_text(html: str) -> str:
    """The words of the #judged block, tags stripped and spaces collapsed."""
    start = html.index('id="judged"')
    block = html[start : html.index('<div class="tracks', start)]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", block)).split())


def rings(root: ET.Element) -> list[ET.Element]:
    return [
        c
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "excluded-pts"
        for c in g.findall(f"{SVG}circle")
    ]


def test_a_rotated_unit_says_how_it_was_judged_beside_the_verdict(
    client: FlaskClient, store: Store
) -> None:
    result = record_real(store, "6828_47")  # real: rescued by rotation, 4 + 2 rows left out
    html = client.get("/").get_data(as_text=True)
    words = judged_text(html)

    assert text_of(html, "verdict") == "WARNING"
    assert (
        "Judged by the station's rules: offset -0.00536 V, rotated -0.38 % "
        "(angle 340.787° → 339.507°), 4 + 2 end rows left out"
    ) in words
    assert "Strict (offset only, every point): 6 points outside" in words
    assert "the strict check alone would fail it" in words
    assert 'class="strict-differs"' in html
    assert "Why WARNING: Sigma gradient 0.0004307 is above the threshold" in words
    (chart,) = [parse_svg(svg) for svg in svgs_in(html)]
    assert len(rings(chart)) == 6 and len(circles(chart)) == result.tracks[0].fail_points == 0
    assert "strict 6 · raw 165 (no offset)" in html
    assert client.get("/partials/latest").get_data(as_text=True).count('id="judged"') == 1


def test_a_failing_two_track_unit_names_each_track_and_its_reasons(
    client: FlaskClient, store: Store
) -> None:
    result = record_real(store, "8555_54")
    html = client.get("/").get_data(as_text=True)
    words = judged_text(html)

    assert text_of(html, "verdict") == "FAIL"
    for track in result.tracks:
        assert f"{track.track_id} Judged by the station's rules: offset" in words
        assert f"{track.track_id}: 1 point outside the band even after" in words
    assert words.count("not rotated, 1 + 1 end rows left out") == 2
    assert words.count("Strict (offset only, every point): 2 points outside") == 2
    assert "strict-differs" not in html  # both fail strictly too
    charts = [parse_svg(svg) for svg in svgs_in(html)]
    assert [len(circles(c)) for c in charts] == [t.fail_points for t in result.tracks] == [1, 1]
    assert [len(rings(c)) for c in charts] == [2, 2]


@pytest.mark.parametrize(
    ("prefix", "note"),
    [
        (
            "7844_254A",
            "No rotation: the file's angle window 41\u201342° does not contain the nominal 42.016°",
        ),
        ("8340-1_82", "No rotation: the file gives no angle window"),
    ],
)
def test_when_the_window_forbids_rotation_the_page_says_why(
    client: FlaskClient, store: Store, prefix: str, note: str
) -> None:
    record_real(store, prefix)
    assert note in judged_text(client.get("/").get_data(as_text=True))


def test_recent_rows_mark_rotation_rows_left_out_and_a_strict_verdict_that_differs(
    client: FlaskClient, store: Store
) -> None:
    for prefix in ("8555_54", "7844_254A", "6828_47"):
        record_real(store, prefix)
    rows = re.findall(
        r'<span class="r-model">([^<]*)</span>.*?<span class="r-marks">(.*?)</span>\s*</a>',
        client.get("/partials/recent").get_data(as_text=True),
        flags=re.S,
    )
    marks = {
        model: re.findall(r'class="mark mark-[^"]*"[^>]*>([^<]*)<', part) for model, part in rows
    }
    assert marks == {
        "6828": ["rotated", "rows left out", "strict: fail"],
        "7844": ["rows left out"],
        "8555": ["rows left out"],
    }


def test_unit_page_has_the_adjustment_block_per_track(client: FlaskClient, store: Store) -> None:
    record_real(store, "8555_54")
    html = client.get("/units/1").get_data(as_text=True)
    assert html.count('<div class="adjustment" data-track="TRK') == 2
    assert html.count("<dt>Left-out points (from 0)</dt><dd>0, 342</dd>") == 2
    assert "Why it is not a plain pass" in html


def test_a_result_from_before_adjustments_were_recorded_says_so(
    client: FlaskClient, store: Store
) -> None:
    (path,) = [p for p in IN_REPO.glob("*.xls") if p.name.startswith("8555_54")]
    result = analyse_file(path)
    bare = {"adjustment": None, "strict": None, "reasons": []}
    old = result.model_copy(update={"tracks": [t.model_copy(update=bare) for t in result.tracks]})
    store.record(old, STATION, datetime.now(UTC), None)
    status_page = client.get("/").get_data(as_text=True)
    assert 'id="judged"' not in status_page and len(svgs_in(status_page)) == 2
    assert 'r-marks"></span>' in client.get("/partials/recent").get_data(as_text=True)
    unit_page = client.get("/units/1").get_data(as_text=True)
    assert unit_page.count("Not recorded: this result was analysed before") == 2
