"""The dashboard (sim.present.app): levers -> overrides, page data, and a headless-browser check.

The fast tests build models through the app's own factory and draw its figures.
The browser test (``-m browser``) serves the app on 127.0.0.1 in a subprocess and
drives Debian's Chromium through Playwright: it changes a lever, resets, steps
the model and checks that the charts change and no error shows.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

app = pytest.importorskip("sim.present.app")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip


# ----- fast: the app's model factory and what the page shows ---------------------------
def test_default_levers_reproduce_the_scenario():
    """All levers at "as in scenario" give exactly the scenario's run (same seed, same data)."""
    dash = app.DashboardModel(years=2)
    assert dash.overrides == [] and dash.mandate_change is None and dash.notice is None
    plain = app.GovernanceModel(config=app.scenario_config("status_quo"), years=2, rng=0).run()
    dash.run()
    for name in ("meetings", "outcomes"):
        a, b = dash.tables()[name], plain.tables()[name]
        assert a.equals(b), name


def test_levers_become_overrides_and_mandate_link():
    m = app.DashboardModel(
        forum="cstd", decision_rule="majority", threshold=0.75, funded_slots=12, remote="on",
        mandate="on", years=1,
    )  # fmt: skip
    f = m.config.forum["cstd"]
    assert (f.decision, f.threshold, f.support, f.funded_slots, f.remote) == (
        "majority", 0.75, "funded_slots", 12, True,
    )  # fmt: skip
    assert any(v.kind == "mandate" and v.target == "cstd" for v in m.config.links.values())
    cstd = m.links[m.forum_names.index("cstd")]
    assert cstd.authority == pytest.approx(0.5 + app.MANDATE_WEIGHT) and not cstd.binding
    assert "forum.cstd.decision=majority" in m.command_line()
    # the cached scenario config is not touched by a model's levers
    assert app.scenario_config("status_quo").forum["cstd"].decision == "package_consensus"
    assert all(v.kind == "recommends" for v in app.scenario_config("status_quo").links.values())


def test_threshold_only_applies_under_majority_and_unknown_forum_is_reported():
    base = app.scenario_config("status_quo")
    assert app.lever_overrides(base, "cstd", threshold=0.9) == []
    assert app.lever_overrides(base, "not_a_forum", decision_rule="majority") == []
    m = app.DashboardModel(forum="not_a_forum", decision_rule="majority", years=1)
    assert m.overrides == [] and "not part of scenario" in m.notice


def test_page_data_and_figures_follow_the_model():
    m = app.DashboardModel(years=2, seed=3)
    assert app.representation_by_group(m).empty
    assert set(app.latest_outcomes(m)["Latest meeting"]) == {"not met yet"}
    for _ in range(12):
        m.step()
    rep = app.representation_by_group(m)
    assert not rep.empty and np.all(rep["representation_ratio"] >= 0)
    part = app.participation_by_mode(m)
    assert np.all((part["onsite"] + part["remote"]).between(0, 1))
    table = app.latest_outcomes(m)
    assert list(table["Forum"]) == [app.forum_label(m, f) for f in m.forum_names]
    # forums with their own agenda have met; ECOSOC and the GA meet only on referred texts
    own = [not f.takes_up == "referred" for f in m.forums]
    assert "not met yet" not in set(table["Latest meeting"][own])
    h = app.headline(m)
    assert h["month"] == 12 and h["months"] == 24
    assert np.isclose(h["attainment_gap"], m.attainment_gap())
    for fig in (app.representation_figure(m), app.participation_figure(m),
                app.attainment_figure(m)):  # fmt: skip
        assert fig.axes


def test_page_is_a_solaraviz_element_with_valid_levers():
    import inspect

    params = inspect.signature(app.DashboardModel.__init__).parameters
    assert set(app.MODEL_PARAMS) <= set(params)
    assert "scenario" not in params  # Mesa's reset would pass its own Scenario object
    assert app.page is not None
    for name, spec in app.MODEL_PARAMS.items():
        if spec["type"] == "Select":
            assert spec["value"] in spec["values"], name
        else:
            assert spec["min"] <= spec["value"] <= spec["max"], name


# ----- browser: serve on loopback, drive headless Chromium -----------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dashboard server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"dashboard did not answer at {url} within {timeout:.0f} s")


@pytest.fixture
def dashboard_server(tmp_path):
    """``govsim dashboard`` on a free loopback port; yields its URL; stopped afterwards."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sim.cli import main; main()", "dashboard", "--port",
         str(port)],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "MPLBACKEND": "Agg"}, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_server(url, proc, timeout=120)
        yield url
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=10)
        log.close()
        print((tmp_path / "server.log").read_text()[-3000:])


def _chart_images(page) -> list[str]:
    return page.eval_on_selector_all("img", "els => els.map(e => e.src)")


@pytest.mark.browser
def test_dashboard_in_headless_chromium(dashboard_server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS, timeout=60_000,
        )  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1150})
            page.set_default_timeout(60_000)
            page_errors: list[str] = []
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.goto(dashboard_server, wait_until="domcontentloaded", timeout=90_000)
            page.get_by_text("month 0 of 120").wait_for(timeout=90_000)
            page.get_by_text("Representation ratio by group").wait_for()
            page.wait_for_function("document.querySelectorAll('img').length >= 3")
            before = _chart_images(page)

            # a lever: the CSTD decides by majority vote
            page.get_by_label("Decision rule").click(force=True)
            page.get_by_role("option", name="majority", exact=True).click()
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("forum.cstd.decision=majority").first.wait_for()

            # step the model past the first meetings (CSTD meets in April, IGF in November)
            step = page.get_by_role("button", name="Step")
            for month in range(1, 13):
                step.click()
                page.get_by_text(f"month {month} of 120").wait_for()
            page.get_by_text("adopted at").first.wait_for()
            page.wait_for_function(
                "before => { const now = Array.from(document.querySelectorAll('img'),"
                " e => e.src); return now.length >= 3 && now.some((s, i) => s !== before[i]); }",
                arg=before,
            )
            after = _chart_images(page)
            assert len(after) >= 3
            assert sum(a != b for a, b in zip(after, before, strict=False)) >= 3

            body = page.inner_text("body")
            for bad in ("Traceback", "error in step", "Error:", "invalid design"):
                assert bad not in body, bad
            assert not page_errors, page_errors
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            print(f"screenshot: {shot}")
        finally:
            browser.close()
