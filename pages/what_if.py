"""What-if: pick or build a scenario, compare responses over thousands of simulated runs of the
digital twin (in a background thread: the live pages never wait on it, and Cancel stops it), then
read the stock fan, the comparison table, the decision table and the map of what the scenario
touches. The URL carries ?scenario=NAME so a colleague opening it sees the same scenario.
All figures come from tower.twin; tower.ui.what_if* only lay them out."""
import streamlit as st

from tower.ui import what_if as inputs
from tower.ui import what_if_job as job_mod
from tower.ui import what_if_results as results
from tower.ui import what_if_data as data
from tower.ui.frame import context

ctx = context()
st.title(ctx.t("what_if.title"))
if not ctx.kiosk:
    st.caption(ctx.t("what_if.intro"))

scenario = inputs.pick_scenario(ctx, inputs.load_library(ctx))
if scenario is not None and st.session_state.get("what_if_pick") == inputs.BUILD:
    inputs.save_button(ctx, scenario)
inputs.run_controls(ctx, scenario)
inputs.progress(ctx)

job = job_mod.current()
if inputs.outcome_messages(ctx, job):
    st.header(ctx.t("what_if.results") + f" · {job.scenario.name}")
    table = data.comparison_table(job.result)
    results.winner_line(ctx, table)
    results.fan(ctx, job.result, job.now)
    results.comparison(ctx, table)
    results.decision_section(ctx, job)

if scenario is not None:
    results.map_section(ctx, scenario)
    st.caption(ctx.t("what_if.share", run=""))
results.backtest(ctx)
results.glossary_section(ctx)
