"""What-if page (AppTest through app.py): it renders on the default world (the sandbox synced
through the real connectors, tests/conftest.py), a run finishes in its
background thread and the page's winner is the twin's own, impossible parameters get the twin's
validation message, a viewer can neither save nor export (no button, and the functions refuse),
and ?scenario=NAME preselects the scenario."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from i18n_scan import untranslated
from test_i18n_complete import data_names, quoted_texts, report
from tests.ui_fixtures import ROOT, empty_db, populated_db, tower_env  # noqa: F401
from tower import runtime as runtime_mod
from tower.auth import policy
from tower.auth.policy import Identity
from tower.twin import decision, network, responses, scenarios, simulate
from tower.ui import i18n, session
from tower.ui import what_if as inputs
from tower.ui import what_if_charts, what_if_glossary
from tower.ui import what_if_job as job_mod

PAGE = "pages/what_if.py"
VIEWER = Identity("u-viewer", "Vera Viewer", frozenset({"viewer"}), via="oidc")
OPERATOR = Identity("u-op", "Otto Operator", frozenset({"operator"}), via="oidc")
JOIN_S = 120
SURGE = "member_day_surge"   # a built-in scenario every world can run (names only the primary)


@pytest.fixture
def world_db(sandbox_db, tmp_path):
    """A private copy of the default world (the page writes stored runs into it)."""
    return sandbox_db.copy_to(tmp_path / "world")


def open_page(who: Identity | None = None, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    if who is not None:
        at.session_state[session.IDENTITY_KEY] = who
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def run_to_end(at: AppTest, runs: int = 50) -> job_mod.Job:
    """Click Run with `runs`, wait for the background thread, rerun to draw the results."""
    at.number_input(key="what_if_runs").set_value(runs)
    at.button(key="what_if_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    job = at.session_state[job_mod.JOB_KEY]
    job.thread.join(JOIN_S)
    assert not job.running, "the run did not finish"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return job


def sweep_to_end(at: AppTest) -> job_mod.Sweep:
    """Click "Compute the decision table", wait for the sweep's thread, rerun to draw it."""
    at.button(key="what_if_decision_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    sweep = at.session_state[job_mod.SWEEP_KEY]
    sweep.thread.join(JOIN_S * 2)
    assert not sweep.running, "the sweep did not finish"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return sweep


def comparison_frame(at: AppTest):
    """The comparison table as drawn (the frame whose columns include the winner mark)."""
    for df in at.dataframe:
        value = df.value
        if "winner" in getattr(value, "columns", []):
            return value
    raise AssertionError("no comparison table on the page")


def test_renders_on_the_default_world(tower_env, world_db):
    tower_env(world_db)
    at = open_page()
    assert at.title[0].value == i18n.t("what_if.title")
    picker = at.selectbox(key="what_if_pick")
    library = scenarios.library(runtime_mod.get().db)
    assert library, "the twin ships a scenario library"
    assert all(any(s.title in option for option in picker.options) for s in library.values())
    assert picker.value == next(iter(library))
    assert at.button(key="what_if_run")
    ours = [e.value for e in at.error if e.icon != "🚨"]   # 🚨: the frame's stale-source banner
    assert not ours, ours


def test_a_run_finishes_and_its_winner_is_the_twins(tower_env, world_db):
    tower_env(world_db)
    at = open_page(scenario=SURGE)
    job = run_to_end(at, runs=50)
    assert job.result is not None and not job.error and not job.failed

    # the same comparison, computed here from the database without the page: the network as of the
    # page's minute, the scenario the link named, every response the twin offers (the page's default)
    db = runtime_mod.get().db
    net = network.build(db, job.network.now)
    scenario = scenarios.library(db)[SURGE]
    chosen = responses.default_responses(net)
    expected = simulate.compare(net, scenario, chosen, runs=50, seed=0)

    table = comparison_frame(at)
    winners = table[table["winner"] == "★"]
    assert len(winners) == 1
    assert winners.iloc[0]["response"] == inputs.response_label(i18n.t, expected.winner)
    assert len(table) == len(chosen)
    assert at.success or at.info, "the winner is said in words above the table"

    # the link now names the stored run: a colleague opening it sees the same figures
    run_id = at.query_params["run"]
    run_id = run_id[0] if isinstance(run_id, list) else run_id
    other = open_page(scenario=SURGE, run=run_id)
    shared = comparison_frame(other)
    assert shared.loc[shared["winner"] == "★", "response"].tolist() == winners["response"].tolist()
    assert shared["net_p50"].round(2).tolist() == table["net_p50"].round(2).tolist()


def test_impossible_parameter_shows_the_validation_message(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_page()
    at.selectbox(key="what_if_pick").set_value(inputs.BUILD).run()
    at.number_input(key="what_if_sup_days").set_value(-3)
    submit = next(b for b in at.button if b.label == i18n.t("what_if.use_built"))
    submit.click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [e.value for e in at.error]
    assert any(i18n.t("what_if.invalid", error="").split(":")[0] in text for text in shown), shown
    with pytest.raises(scenarios.TwinInvalid) as raised:
        inputs.make_scenario(network.build(runtime_mod.get().db), "my-scenario", "My scenario", ["supplier_stop"],
                             {"supplier_stop": {"supplier": "VN-BAMBOO-01", "start_h": 0, "days": -3}}, 30)
    assert any(str(raised.value) in text for text in shown), "the twin's own words are on the page"
    assert at.button(key="what_if_run").disabled, "nothing to run until the scenario is valid"


def test_a_viewer_cannot_save_or_export(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_page(VIEWER, scenario=SURGE)
    at.selectbox(key="what_if_pick").set_value(inputs.BUILD).run()
    submit = next(b for b in at.button if b.label == i18n.t("what_if.use_built"))
    submit.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [b for b in at.button if b.key == "what_if_save"], "no Save button for a viewer"
    built = at.session_state[inputs.BUILT_KEY]

    job = run_to_end(at, runs=50)
    sweep_to_end(at)
    assert not [b for b in at.button if b.key == "what_if_export"], "no Export button for a viewer"
    assert any(i18n.t("what_if.export_needs") == c.value for c in at.caption)

    db = runtime_mod.get().db
    with pytest.raises(policy.Refused):
        scenarios.save(db, VIEWER, built)
    with pytest.raises(policy.Refused):
        decision.export(db, VIEWER, "B-03", {"hours_to_stockout_below": 24.0}, built, job.runs, job.network.now)


def test_an_approver_exports_the_thresholds_to_the_playbook(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_page(scenario=SURGE)   # local mode: the local admin, who may approve
    job = run_to_end(at, runs=50)
    sweep = sweep_to_end(at)
    assert at.get("plotly_chart"), "the decision heatmap is drawn"
    found = decision.thresholds(sweep.table, playbook="B-03")
    assert found["response"], "on the sample world some response beats doing nothing somewhere"
    at.button(key="what_if_export").click().run()
    assert not at.exception, [e.value for e in at.exception]
    written = [k for k in found if k not in ("playbook", "response")]
    assert any(s.value == i18n.t("what_if.exported", n=len(written), playbook="B-03") for s in at.success)
    in_use = runtime_mod.get().db.query("twin/thresholds_latest", {"playbook": "B-03"})
    assert dict(zip(in_use["name"], in_use["value"])) == {k: float(found[k]) for k in written}
    assert job.run_id and at.query_params["run"] in (job.run_id, [job.run_id])


def test_an_operator_saves_a_built_scenario_and_its_link_names_it(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_page(OPERATOR)
    at.selectbox(key="what_if_pick").set_value(inputs.BUILD).run()
    at.text_input(key="what_if_name").set_value("bowl-stop-20")
    at.number_input(key="what_if_sup_days").set_value(20)
    next(b for b in at.button if b.label == i18n.t("what_if.use_built")).click().run()
    at.button(key="what_if_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == [i18n.t("what_if.saved", name="bowl-stop-20")]
    assert at.query_params["scenario"] in ("bowl-stop-20", ["bowl-stop-20"])
    saved = scenarios.library(runtime_mod.get().db)["bowl-stop-20"]
    assert [(d.kind, d.supplier, d.days) for d in saved.disruptions] == [("supplier_stop", "VN-BAMBOO-01", 20)]

    # a colleague opening the link gets it preselected from the library
    other = open_page(VIEWER, scenario="bowl-stop-20")
    assert other.selectbox(key="what_if_pick").value == "bowl-stop-20"


def test_the_url_preselects_the_scenario(tower_env, populated_db):
    tower_env(populated_db.path)
    open_page()  # starts the runtime, whose database holds the library
    library = list(scenarios.library(runtime_mod.get().db))
    wanted = library[-1]
    assert wanted != library[0], "the test needs a scenario that is not preselected anyway"
    at = open_page(scenario=wanted)
    assert at.selectbox(key="what_if_pick").value == wanted
    assert at.query_params["scenario"] in (wanted, [wanted])


def test_chinese_page(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_page(lang="zh")
    assert at.title[0].value == i18n.t("what_if.title", "zh")
    assert at.button(key="what_if_run").label == i18n.t("what_if.run", "zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_glossary_explains_every_twin_figure(tower_env, populated_db, lang):
    tower_env(populated_db.path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/glossary.py").run()
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(m.value for m in at.markdown)
    assert i18n.t("what_if.glossary_title", lang) in [h.value for h in at.header]
    for term in what_if_glossary.TERMS:
        assert i18n.t(f"what_if.g.{term}", lang) in text
        assert i18n.t(f"what_if.gd.{term}", lang) in text


def test_a_finished_run_reads_in_chinese(tower_env, populated_db):
    """Both languages: in zh the whole page with a result and its decision table has no English
    left (beyond codes, names from the data and units), by the same scan as every other page."""
    allow, quoted = data_names(populated_db.path), quoted_texts(populated_db.path)
    tower_env(populated_db.path)
    at = open_page(lang="zh", scenario=SURGE)
    run_to_end(at, runs=50)
    sweep_to_end(at)
    bad = untranslated(at, allow, quoted)
    assert not bad, report(bad)


def test_the_map_rings_what_the_scenario_disrupts(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_page(scenario=SURGE)      # member day: the primary, VN-BAMBOO-01, stops
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    layers = {layer["id"]: layer for layer in deck["layers"]}
    hanoi = next(s for s in populated_db.rows["suppliers"] if s["supplier_id"] == "VN-BAMBOO-01")
    ringed = layers["twin-affected"]["data"]
    assert [r["position"] for r in ringed] == [[hanoi["lon"], hanoi["lat"]]]
    # its supply lane (PO-1 to Los Angeles) is drawn red; the backup's lane (PO-2 to New Jersey) is not
    routes = {r["label"]: r["color"] for r in layers["twin-routes"]["data"]}
    assert routes["Hanoi Bamboo Co. → US West (Los Angeles)"] == what_if_charts.AFFECTED
    assert routes["Zhejiang Bamboo → US East (New Jersey)"] == what_if_charts.ROUTE


def test_an_empty_network_is_said_in_words(tower_env, empty_db):
    tower_env(empty_db.path)
    at = open_page()
    assert i18n.t("what_if.network_empty") in [i.value for i in at.info]
    at.button(key="what_if_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert job_mod.JOB_KEY not in at.session_state, "nothing is started on an empty network"
    assert i18n.t("what_if.network_empty") in [e.value for e in at.error]
