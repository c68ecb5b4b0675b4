"""What-if: pick or build a scenario, compare responses over thousands of simulated runs of the
digital twin (in a background thread: the live pages never wait on it, and Cancel stops it), then
read the stock fan, the comparison table, the decision table and the map of what the scenario
touches. The URL carries ?scenario=NAME, and ?run=ID once a result is stored, so a colleague
opening it sees the same. All figures come from tower.twin; tower.ui.what_if* only lay them out."""
import streamlit as st

from tower.ui import backtest_panel
from tower.ui import what_if as inputs
from tower.ui import what_if_job as job_mod
from tower.ui import what_if_results as results
from tower.ui.frame import context

ctx = context()
st.title(ctx.t("what_if.title"))
if not ctx.kiosk:
    st.caption(ctx.t("what_if.intro"))

net = inputs.network(ctx)
if not net.size:
    st.info(ctx.t("what_if.network_empty"))
scenario = inputs.pick_scenario(ctx, inputs.load_library(ctx), net)
if scenario is not None and st.session_state.get("what_if_pick") == inputs.BUILD:
    inputs.save_button(ctx, scenario)
if not ctx.kiosk:  # a wall screen shows a shared result; nobody there runs one
    inputs.run_controls(ctx, scenario, net)
    inputs.job_progress(ctx)

job = job_mod.current()
if inputs.outcome_messages(ctx, job):
    results.show_job(ctx, job)
else:
    results.show_stored(ctx, st.query_params.get("run"))

if scenario is not None:
    results.map_section(ctx, scenario)
backtest_panel.section(ctx)
results.glossary_section(ctx)
