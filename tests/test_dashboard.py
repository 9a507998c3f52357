"""The dashboard (sim.present.app): levers -> overrides, page data, and a headless-browser check.

The fast tests build models through the app's own factory and draw its figures.
The browser test (``-m browser``) serves the app on 127.0.0.1 in a subprocess and
drives Debian's Chromium through Playwright: it changes a lever, resets, steps
the model and checks that the charts change and no error shows.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sim.model import GovernanceModel
from sim.model.config import to_container
from sim.present import dashboard_data as dd
from sim.studies.spec import expand, parse_study
from sim.studies.store import run_key

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip


# ----- fast: levers, the model, page data, charts, the comparison study ----------------
def test_default_levers_reproduce_the_scenario():
    """All levers at "as in scenario" give exactly the scenario's run (same seed, same data)."""
    dash = dd.Levers(years=2).model()
    assert dash.overrides == [] and dash.mandate_change is None and dash.notice is None
    plain = GovernanceModel(config=dd.scenario_config("status_quo"), years=2, rng=0).run()
    dash.run()
    for name in ("meetings", "outcomes"):
        a, b = dash.tables()[name], plain.tables()[name]
        assert a.equals(b), name


def test_levers_become_overrides_and_the_mandate_is_an_override_too():
    m = dd.DashboardModel(
        forum="cstd", decision_rule="majority", threshold=0.75, funded_slots=12, remote="on",
        mandate="on", years=1,
    )  # fmt: skip
    f = m.config.forum["cstd"]
    assert (f.decision, f.threshold, f.support, f.funded_slots, f.remote) == (
        "majority", 0.75, "funded_slots", 12, True,
    )  # fmt: skip
    # a mandate link's effect (sim.model.forums.links), as plain keys a study can sweep
    i = m.forum_names.index("cstd")
    base = dd.scenario_config("status_quo").forum["cstd"]
    # a mandate raises authority and never makes outcomes binding by itself (issue 14)
    assert not m.links[i].binding and np.isclose(m.links[i].authority, base.authority + 0.3)
    assert "binding" not in m.command_line()
    assert "forum.cstd.decision=majority" in m.command_line()
    # the cached scenario config is not touched by a model's levers
    assert dd.scenario_config("status_quo").forum["cstd"].decision == "package_consensus"
    assert all(v.kind == "recommends" for v in dd.scenario_config("status_quo").links.values())


def test_mandate_off_deletes_the_scenarios_mandate_link():
    lev = dd.Levers(scenario_name="cstd_anchor", mandate="off", years=1)
    (off,) = lev.overrides()
    assert off == "~links.cstd_mandate"
    m = lev.model()
    assert not any(v.kind == "mandate" for v in m.config.links.values())
    assert not m.links[m.forum_names.index("cstd")].binding
    assert dd.scenario_config("cstd_anchor").links["cstd_mandate"].kind == "mandate"


def test_threshold_only_applies_under_majority_and_unknown_forum_is_reported():
    base = dd.scenario_config("status_quo")
    assert dd.lever_overrides(base, "cstd", threshold=0.9) == []
    assert dd.lever_overrides(base, "not_a_forum", decision_rule="majority") == []
    m = dd.DashboardModel(forum="not_a_forum", decision_rule="majority", years=1)
    assert m.overrides == [] and "not part of scenario" in m.notice


def test_decision_rules_come_from_the_rule_registry():
    from sim.model.forums import RULES

    assert dd.decision_rules() == list(RULES["decision"])
    assert "majority" in dd.decision_rules()


def test_page_data_and_charts_follow_the_model():
    m = dd.Levers(years=2, seed=3).model()
    assert dd.representation_by_group(m).empty
    assert set(dd.latest_outcomes(m)["Latest meeting"]) == {"not met yet"}
    first = {name: dd.chart_png(m, name) for name in dd.CHARTS}
    m.step()  # January: no forum meets
    assert m.meetings_held() == 0
    assert dd.chart_png(m, "representation") is first["representation"]  # not redrawn
    assert dd.chart_png(m, "attainment") is not first["attainment"]  # redrawn every month
    for _ in range(11):
        m.step()
    assert m.meetings_held() > 0
    assert dd.chart_png(m, "representation") != first["representation"]
    rep = dd.representation_by_group(m)
    assert not rep.empty and np.all(rep["representation_ratio"] >= 0)
    part = dd.participation_by_mode(m)
    assert np.all((part["onsite"] + part["remote"]).between(0, 1))
    table = dd.latest_outcomes_cached(m)
    assert list(table["Forum"]) == [dd.forum_label(m, f) for f in m.forum_names]
    # forums with their own agenda have met; ECOSOC and the GA meet only on referred texts
    own = [f.takes_up != "referred" for f in m.forums]
    assert "not met yet" not in set(table["Latest meeting"][own])
    h = dd.headline(m)
    assert h["month"] == 12 and h["months"] == 24 and h["meetings"] == m.meetings_held()
    assert np.isclose(h["attainment_gap"], m.attainment_gap())
    # a redraw (data painted on the saved axes) looks like a fresh full drawing
    for name in dd.CHARTS:
        fresh = dd.figure_bytes(dd.CHARTS[name][1](m), dpi=dd.DPI)
        a, b = (np.asarray(Image.open(io.BytesIO(x)).convert("RGB"), float)
                for x in (fresh, dd.chart_png(m, name)))  # fmt: skip
        assert a.shape == b.shape and np.abs(a - b).mean() < 0.5, name


def test_chart_exports_are_png_svg_and_the_charts_data():
    m = dd.Levers(years=1).model()
    for _ in range(12):
        m.step()
    for name in dd.CHARTS:
        assert dd.chart_export(m, name, "png")[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in dd.chart_export(m, name, "svg")[:1000]
        csv = pd.read_csv(io.BytesIO(dd.chart_export(m, name, "csv")))
        assert len(csv) == len(dd.CHARTS[name][2](m)) > 0


def _config_of(levers):
    cfg = dd.scenario_config(levers.scenario_name, (*levers.overrides(), f"years={levers.years}"))
    return to_container(cfg)


def test_comparison_study_runs_exactly_settings_a_and_b():
    """The study's A and B conditions are the two settings' own configs, seeded alike."""
    a = dd.Levers(years=2, seed=7)
    b = a.set(decision_rule="majority", threshold=0.6, mandate="on", polarization=1.5)
    text = dd.comparison_study_text(a, b, 3)
    study = parse_study(text)
    assert study.replicates == 3 and study.root_seed == 7 and study.scenarios == ("status_quo",)
    # one grid key per node: the CSTD's levers together, polarization apart -> 4 points
    assert set(study.grid) == {"forum.cstd", "behaviour.polarization"}
    specs = expand(study)
    assert len(specs) == 4 * 3
    for which, lev in ((0, a), (1, b)):
        cond = dd.condition_of(study, lev, which)
        mine = [s for s in specs if all(s.grid.get(k) == v for k, v in cond.items()
                                        if k != "scenario")]  # fmt: skip
        assert [s.key for s in mine] == [run_key(_config_of(lev), 7, r) for r in range(3)]
    assert study.baseline == dd.condition_of(study, a, 0)


def test_the_behaviour_lever_is_one_grid_key_and_its_runs_are_the_settings_own():
    """The attendance behaviour is a config group: B runs the calibrated config (its fitted
    travel cost), and an A/B study sweeps it as one key by name, not the dozen parameters
    it sets (2 conditions, not 2^12); each condition's runs are that setting's own config.
    The same behaviour in A and B is a common override, not a grid key."""
    a = dd.Levers(years=2, seed=3)
    b = a.set(behaviour="calibrated")
    fitted = dd.scenario_config("status_quo", ("behaviour=calibrated",))
    assert b.model().config.behaviour.travel_cost_scale == fitted.behaviour.travel_cost_scale
    assert a.model().config.behaviour.travel_cost_scale != fitted.behaviour.travel_cost_scale
    assert "calibrated behaviour" in b.describe()
    study = parse_study(dd.comparison_study_text(a, b, 2))
    assert {k: list(v) for k, v in study.grid.items()} == {"behaviour": ["default", "calibrated"]}
    specs = expand(study)
    assert len(specs) == 2 * 2
    for which, lev in ((0, a), (1, b)):
        cond = dd.condition_of(study, lev, which)
        mine = [s for s in specs if s.grid["behaviour"] == cond["behaviour"]]
        assert [s.key for s in mine] == [run_key(_config_of(lev), 3, r) for r in range(2)]
    c = b.set(polarization=1.5)
    both = parse_study(dd.comparison_study_text(b, c, 2))
    assert set(both.grid) == {"behaviour.polarization"}
    assert "behaviour=calibrated" in both.overrides


def test_comparison_effects_equal_govsim_experiment_on_the_saved_study(tmp_path):
    """The dashboard's design effects are ``differences.csv`` of ``govsim experiment``,
    clipped intervals included: policy coverage, a share, is 0 under consensus (B) in both
    replicates here and differs between them under the scenario's own rule (A), so the
    t-interval of the paired difference over 2 replicates runs past what a change in a share
    can be."""
    a = dd.Levers(years=2)
    b = a.set(decision_rule="consensus")
    text = dd.comparison_study_text(a, b, 2)
    folder = tmp_path / "dash"
    study, _ = dd.run_comparison(text, folder)
    comp = dd.comparison_tables(study, text, folder, a, b)
    assert comp.effects["clipped"].any()
    saved = tmp_path / "saved.yaml"
    saved.write_text(text)
    # the stored runs are reused: this checks the computation (the seeds: the test above)
    subprocess.run(
        [sys.executable, "-m", "sim", "experiment", str(saved), "--out", str(folder), "-j", "1",
         "-q"], check=True, cwd=tmp_path, env={**os.environ, "MPLBACKEND": "Agg"},
    )  # fmt: skip
    diffs = pd.read_csv(folder / "differences.csv")
    assert list(diffs["metric"]) == list(comp.effects["metric"])
    for col, mine in (("diff", "effect"), ("lo", "effect_lo"), ("hi", "effect_hi"),
                      ("clipped", "clipped")):  # fmt: skip
        np.testing.assert_allclose(diffs[col].astype(float), comp.effects[mine].astype(float),
                                   rtol=1e-12, atol=1e-15)  # fmt: skip
    lo, hi = comp.effects.set_index("metric").loc["policy_coverage", ["effect_lo", "effect_hi"]]
    assert -1 <= lo <= hi <= 1
    bands = comp.yearly[["lo", "hi"]].to_numpy()  # rates: the bands stay within [0, 1]
    assert ((bands >= 0) & (bands <= 1)).all()


def test_comparison_of_a_single_lever_is_two_conditions_and_bad_pairs_are_refused():
    a = dd.Levers(years=1)
    study = parse_study(dd.comparison_study_text(a, a.set(remote="on"), 2))
    assert study.grid == {"forum.cstd.remote": (False, True)}
    for same in (a.set(seed=3), a.set(remote="off")):  # status quo's CSTD has no remote
        with pytest.raises(dd.ComparisonError, match="same setting"):
            dd.comparison_study(a, same, 2)
    anchor = dd.Levers(scenario_name="cstd_anchor")
    with pytest.raises(dd.ComparisonError, match="mandate"):
        dd.comparison_study(anchor, anchor.set(mandate="off"), 2)


def test_page_renders_per_session_and_steps_without_a_browser():
    """The Solara page, rendered in-process: Step advances this page's own model."""
    import ipyvuetify as v
    import solara

    app = pytest.importorskip("sim.present.app")
    box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    box2, rc2 = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Btn, children=["Step"]).widget.click()

    def texts(r) -> str:
        return " ".join(
            str(getattr(w, "unsafe_innerHTML", "") or "")
            for w in r.find(solara.widgets.HTML).widgets
        )

    assert "month 2 of 120" in texts(rc) and "month 0 of 120" in texts(rc2)
    rc.close()
    rc2.close()


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


class Server:
    """A ``govsim dashboard`` process in its own process group."""

    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc, self.port = proc, port
        self.url = f"http://127.0.0.1:{port}/"

    def port_open(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True


@pytest.fixture
def dashboard_server(tmp_path):
    """``govsim dashboard`` on a free loopback port (cwd: tmp_path); killed if left running."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sim.cli import main; main()", "dashboard", "--port",
         str(port)],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "MPLBACKEND": "Agg"}, start_new_session=True,
    )  # fmt: skip
    server = Server(proc, port)
    try:
        _wait_for_server(server.url, proc, timeout=180)
        yield server
    finally:
        if server.group_alive():
            os.killpg(proc.pid, 9)
        proc.wait(timeout=10)
        log.close()
        print((tmp_path / "server.log").read_text()[-3000:])


def _download(page, name: str, tmp_path: Path, nth: int = 0) -> Path:
    with page.expect_download() as info:
        page.get_by_role("button", name=name).nth(nth).click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path


def _set_slider(page, valuemax: int, presses: int) -> None:
    """Move the slider whose maximum is ``valuemax`` to its minimum, then ``presses`` steps up."""
    slider = page.locator(f'[role="slider"][aria-valuemax="{valuemax}"]').first
    slider.focus()
    slider.press("Home")
    for _ in range(presses):
        slider.press("ArrowRight")


def _step(page, month: int) -> float:
    t = time.perf_counter()
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_text(f"month {month} of ").first.wait_for()
    return time.perf_counter() - t


@pytest.mark.browser
def test_dashboard_in_headless_chromium(dashboard_server, tmp_path):
    """Two isolated sessions, exports, a run to the end, an A/B comparison equal to
    ``govsim experiment`` on the saved study, and no server left after SIGTERM."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    shots = Path(os.environ.get("GOVSIM_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS, timeout=60_000,
        )  # fmt: skip
        try:
            errors: list[str] = []
            pages = []
            for _ in range(2):  # two browser sessions (separate cookies)
                ctx = browser.new_context(viewport={"width": 1500, "height": 1100},
                                          accept_downloads=True)  # fmt: skip
                page = ctx.new_page()
                page.set_default_timeout(120_000)
                page.on("pageerror", lambda e: errors.append(str(e)))
                pages.append(page)
            one, two = pages

            # session one steps three months
            one.goto(dashboard_server.url, wait_until="domcontentloaded", timeout=120_000)
            one.get_by_text("month 0 of 120").wait_for(timeout=120_000)
            times = [_step(one, m) for m in (1, 2, 3)]
            print("Step click to new status in the browser (s):", [f"{t:.2f}" for t in times])
            # session two opens afterwards and starts at month 0, with its own model
            two.goto(dashboard_server.url, wait_until="domcontentloaded", timeout=120_000)
            two.get_by_text("month 0 of 120").wait_for(timeout=120_000)
            _step(two, 1)
            assert "month 3 of 120" in one.inner_text("body")
            assert "month 1 of 120" in two.inner_text("body")
            assert "month 3 of" not in two.inner_text("body")

            # session two's attendance behaviour lever: calibrated, applied by Reset; then
            # back to default, which the comparison's Reset below applies
            def choose_behaviour(name: str) -> None:
                two.get_by_label("Attendance behaviour").click(force=True)
                option = two.get_by_role("option", name=name, exact=True)
                option.click()
                option.wait_for(state="hidden")  # a click while the menu closes is swallowed

            choose_behaviour("calibrated")
            two.get_by_text("The levers differ from the run shown").wait_for()
            two.get_by_role("button", name="Reset").click()
            two.get_by_text("calibrated behaviour").first.wait_for()
            assert "month 0 of 120" in two.inner_text("body")
            assert "behaviour=calibrated" in two.inner_text("body")  # the run's command line
            choose_behaviour("default")

            # export from session one: the representation chart as PNG, its data as CSV
            png = _download(one, "PNG", tmp_path)
            assert png.suffix == ".png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            csv = pd.read_csv(_download(one, "CSV", tmp_path))
            assert list(csv.columns) == ["forum", "step", "years", "group", "representation_ratio"]
            svg = _download(one, "SVG", tmp_path)
            assert b"<svg" in svg.read_bytes()[:2000]

            # a ten-year run to the end in the background
            t = time.perf_counter()
            one.get_by_role("button", name="Run to the end").click()
            one.get_by_text("status quo: month 120 of 120").wait_for(timeout=300_000)
            print(f"Run to the end (117 months) in the browser: {time.perf_counter() - t:.1f} s")
            one.get_by_text("adopted at").first.wait_for()
            one.screenshot(path=str(shots / "dashboard_run.png"), full_page=True)

            # session two compares two settings over a 2-year horizon, 2 replicates each
            _set_slider(two, 20, 1)
            two.get_by_text("Horizon: 2 years").wait_for()
            two.get_by_role("button", name="Reset").click()
            two.get_by_text("month 0 of 24").wait_for()
            two.get_by_role("button", name="Set A to the levers").click()
            two.get_by_label("Decision rule").click(force=True)
            two.get_by_role("option", name="majority", exact=True).click()
            two.get_by_role("button", name="Set B to the levers").click()
            two.get_by_text("forum.cstd.decision=majority").first.wait_for()
            _set_slider(two, 12, 0)
            two.get_by_text("Replicates per setting: 2").wait_for()
            two.get_by_role("button", name="Run comparison").click()
            two.get_by_text("Design effect on the headline measures").wait_for(timeout=600_000)
            card = two.locator(".v-card", has_text="Compare two settings").last
            card.scroll_into_view_if_needed()
            card.screenshot(path=str(shots / "dashboard_compare.png"))
            table = two.locator("table", has_text="Design effect B").last
            table.scroll_into_view_if_needed()
            table.screenshot(path=str(shots / "dashboard_design_effect.png"))
            one.locator(".v-card", has_text="Latest meeting in each forum").last.screenshot(
                path=str(shots / "dashboard_outcomes.png")
            )
            effects = pd.read_csv(_download(two, "Design effect CSV", tmp_path))
            study = _download(two, "Save as study (YAML)", tmp_path)
            assert errors == [], errors
            body = two.inner_text("body")
            for bad in ("Traceback", "Comparison failed", "Error:"):
                assert bad not in body, bad
        finally:
            browser.close()

    # `govsim experiment` on the saved study gives the same design effect (same seeds)
    out = tmp_path / "experiment"
    subprocess.run(
        [sys.executable, "-m", "sim", "experiment", str(study), "--out", str(out), "-j", "1",
         "-q"], check=True, cwd=tmp_path, env={**os.environ, "MPLBACKEND": "Agg"},
    )  # fmt: skip
    diffs = pd.read_csv(out / "differences.csv")
    assert list(diffs["metric"]) == list(effects["metric"])
    for col, mine in (("diff", "effect"), ("lo", "effect_lo"), ("hi", "effect_hi")):
        np.testing.assert_allclose(diffs[col], effects[mine], rtol=1e-12, atol=1e-15)
    assert (diffs["n"] == 2).all()
    print(effects[["metric", "effect", "effect_lo", "effect_hi"]].to_string())

    # SIGTERM to `govsim dashboard` takes its server down: the port is free, no orphan
    os.kill(dashboard_server.proc.pid, 15)
    dashboard_server.proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while dashboard_server.group_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not dashboard_server.group_alive(), "the solara server outlived govsim dashboard"
    assert not dashboard_server.port_open()
