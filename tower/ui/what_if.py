"""The What-if page's inputs: the scenario (picked from the library, named by ?scenario=, or built
in a validated form), the responses and runs, the Run / Cancel controls and the progress of the
background run (tower.ui.what_if_job). The results are drawn by tower.ui.what_if_results.

Saving a scenario needs "operate"; tower.twin.scenarios.save checks it again on the server."""
from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
import streamlit as st

from tower.auth import policy
from tower.twin import responses as twin_responses
from tower.twin import scenarios
from tower.twin.scenarios import TwinInvalid
from tower.ui import access, fmt, session
from tower.ui import what_if_data as data
from tower.ui import what_if_job as job_mod

BUILD = "__build__"            # the picker's "build a new scenario" entry
BUILT_KEY = "what_if.built"    # the scenario the form last built (valid), kept across reruns
KINDS = ("supplier_stop", "port", "demand", "carrier_delay", "customs_hold")
DEFAULT_RUNS = 1000
MAX_RUNS = 20000
NAME_OK = re.compile(r"^[A-Za-z0-9_-]{1,60}$")


def response_label(t: Callable[..., str], name: str) -> str:
    key = f"what_if.response.{name}"
    text = t(key)
    return name if text == key else text


def load_library(ctx) -> dict:
    """The saved scenarios; a broken library is a warning, not a broken page."""
    try:
        return scenarios.library(ctx.db)
    except Exception as e:  # noqa: BLE001 - e.g. a malformed saved scenario
        st.warning(ctx.t("what_if.library_failed", error=str(e)[:300]))
        return {}


def choices(ctx) -> dict[str, list[tuple[str, str]]]:
    """The form's options per kind (queries/what_if/choices.sql): [(value, label)]."""
    df = ctx.query("what_if/choices")
    out: dict[str, list[tuple[str, str]]] = {}
    for row in df.itertuples(index=False):
        out.setdefault(row.kind, []).append((str(row.value), str(row.label)))
    return out


def pick_scenario(ctx, library: dict):
    """The scenario to simulate: ?scenario=NAME preselects one of the library; "build" shows the
    form. Returns a Scenario, or None until the form has built a valid one."""
    names = sorted(library)
    wanted = st.query_params.get("scenario")
    if wanted and wanted not in library and wanted != (getattr(st.session_state.get(BUILT_KEY), "name", None)):
        st.info(ctx.t("what_if.unknown_scenario", name=wanted))
    if not names:
        st.info(ctx.t("what_if.no_scenarios"))
    options = [*names, BUILD]
    if "what_if_pick" not in st.session_state or st.session_state["what_if_pick"] not in options:
        st.session_state["what_if_pick"] = wanted if wanted in library else (names[0] if names else BUILD)
    label = {BUILD: ctx.t("what_if.pick_build")}
    choice = st.selectbox(ctx.t("what_if.pick"), options, key="what_if_pick",
                          format_func=lambda n: label.get(n, n))
    if choice == BUILD:
        return build_form(ctx)
    st.query_params["scenario"] = choice
    scenario = library[choice]
    describe(ctx, scenario)
    return scenario


def describe(ctx, scenario) -> None:
    """The scenario's disruptions in words (a bullet per disruption, its parameters as given)."""
    lines = []
    for kind, params in data.disruption_rows(scenario):
        shown = ", ".join(f"`{k}` = {v}" for k, v in params.items() if v not in (None, (), [], ""))
        lines.append(f"- **{ctx.t('what_if.kind.' + kind)}**: {shown}")
    with st.expander(ctx.t("what_if.scenario_about"), expanded=not ctx.kiosk):
        st.markdown("\n".join(lines) or "—")


def _options(pairs: list[tuple[str, str]]) -> tuple[list[str], dict[str, str]]:
    return [v for v, _ in pairs], dict(pairs)


def build_form(ctx):
    """The scenario form. On submit the twin validates it (TwinInvalid: impossible parameters such
    as negative days, a share over 100 % or an unknown supplier) and the page says why in words."""
    opts = choices(ctx)
    with st.form("what_if_build"):
        st.subheader(ctx.t("what_if.build"))
        name = st.text_input(ctx.t("what_if.name"), value="my-scenario", help=ctx.t("what_if.name_help"),
                             key="what_if_name")
        kinds = st.multiselect(ctx.t("what_if.kinds"), KINDS, default=["supplier_stop"], key="what_if_kinds",
                               format_func=lambda k: ctx.t("what_if.kind." + k))
        horizon = st.number_input(ctx.t("what_if.horizon_days"), value=30, step=1, key="what_if_horizon")
        values: dict[str, dict] = {}
        cols = st.columns(2)
        with cols[0]:
            st.markdown(f"**{ctx.t('what_if.kind.supplier_stop')}**")
            ids, labels = _options(opts.get("supplier", []))
            values["supplier_stop"] = {
                "supplier_id": st.selectbox(ctx.t("what_if.supplier"), ids, format_func=labels.get,
                                            key="what_if_supplier"),
                "start_h": st.number_input(ctx.t("what_if.start_h"), value=0, step=1, key="what_if_sup_start"),
                "days": st.number_input(ctx.t("what_if.days"), value=14, step=1, key="what_if_sup_days")}
            st.markdown(f"**{ctx.t('what_if.kind.port')}**")
            ids, labels = _options(opts.get("node", []))
            values["port"] = {
                "node_id": st.selectbox(ctx.t("what_if.port"), ids, format_func=labels.get, key="what_if_node"),
                "extra_days": st.number_input(ctx.t("what_if.extra_days"), value=5, step=1, key="what_if_port_days"),
                "closed": st.checkbox(ctx.t("what_if.closed"), key="what_if_port_closed")}
            st.markdown(f"**{ctx.t('what_if.kind.customs_hold')}**")
            values["customs_hold"] = {
                "country": st.selectbox(ctx.t("what_if.country"), [v for v, _ in opts.get("country", [])],
                                        key="what_if_country"),
                "days": st.number_input(ctx.t("what_if.days"), value=3, step=1, key="what_if_customs_days")}
        with cols[1]:
            st.markdown(f"**{ctx.t('what_if.kind.demand')}**")
            values["demand"] = {
                "factor": st.number_input(ctx.t("what_if.factor"), value=1.5, step=0.1, key="what_if_factor"),
                "skus": tuple(st.multiselect(ctx.t("what_if.skus"), [v for v, _ in opts.get("sku", [])],
                                             key="what_if_skus")),
                "markets": tuple(st.multiselect(ctx.t("what_if.markets"), [v for v, _ in opts.get("market", [])],
                                                key="what_if_markets"))}
            st.markdown(f"**{ctx.t('what_if.kind.carrier_delay')}**")
            values["carrier_delay"] = {
                "carrier": st.selectbox(ctx.t("what_if.carrier"), [v for v, _ in opts.get("carrier", [])],
                                        key="what_if_carrier"),
                "hours": st.number_input(ctx.t("what_if.delay_h"), value=48, step=1, key="what_if_delay_h")}
        submitted = st.form_submit_button(ctx.t("what_if.use_built"))
    if submitted:
        st.session_state.pop(BUILT_KEY, None)
        if not kinds:
            st.error(ctx.t("what_if.no_disruption"))
            return None
        try:
            if not NAME_OK.match(name or ""):
                raise TwinInvalid(ctx.t("what_if.name_help"))
            st.session_state[BUILT_KEY] = make_scenario(name, kinds, values, horizon)
        except TwinInvalid as e:
            st.error(ctx.t("what_if.invalid", error=str(e)), icon="⚠️")
            return None
    built = st.session_state.get(BUILT_KEY)
    if built is not None:
        describe(ctx, built)
    return built


def make_scenario(name: str, kinds: list[str], values: dict[str, dict], horizon_days):
    """A Scenario of the chosen disruptions; the twin's constructors raise TwinInvalid on nonsense."""
    makers = {"supplier_stop": scenarios.supplier_stop, "port": scenarios.port, "demand": scenarios.demand,
              "carrier_delay": scenarios.carrier_delay, "customs_hold": scenarios.customs_hold}
    disruptions = [makers[kind](**values[kind]) for kind in kinds]
    return scenarios.Scenario(name=name, disruptions=tuple(disruptions), horizon_days=horizon_days)


def save_button(ctx, scenario) -> None:
    """Save to the library: shown to users who may operate; scenarios.save refuses anyone else."""
    who = session.identity()
    if not who.can("operate"):
        return
    if st.button(ctx.t("what_if.save"), key="what_if_save"):
        try:
            scenarios.save(ctx.db, who, scenario)
        except policy.Refused:
            st.error(access.refusal(ctx.t, who, "operate"))
        except TwinInvalid as e:
            st.error(ctx.t("what_if.invalid", error=str(e)))
        else:
            st.session_state["what_if_pick"] = scenario.name
            st.query_params["scenario"] = scenario.name
            st.success(ctx.t("what_if.saved", name=scenario.name))


def pick_responses(network, names) -> list:
    """The chosen responses out of the twin's defaults for this network, in their order."""
    wanted = set(names)
    return [r for r in twin_responses.default_responses(network) if r.name in wanted]


def response_names(ctx) -> list[str]:
    """The responses the twin offers: known names first (do nothing first of all)."""
    order = ["do_nothing", "backup_supplier", "air_freight", "alternative_route", "emergency_supplier",
             "transfer_stock", "cap_promotion"]
    return order  # the twin builds them per network; one it cannot build is left out of the run


def run_controls(ctx, scenario) -> None:
    """Responses, runs and seed, and the Run button (disabled while this session's run is going)."""
    names = response_names(ctx)
    chosen = st.multiselect(ctx.t("what_if.responses"), names, default=names, key="what_if_responses",
                            format_func=lambda n: response_label(ctx.t, n))
    cols = st.columns([2, 1, 1])
    runs = cols[0].number_input(ctx.t("what_if.runs"), min_value=10, max_value=MAX_RUNS, value=DEFAULT_RUNS,
                                step=100, help=ctx.t("what_if.runs_help"), key="what_if_runs")
    seed = cols[1].number_input(ctx.t("what_if.seed"), min_value=0, value=0, step=1, key="what_if_seed")
    job = job_mod.current()
    busy = job is not None and job.running
    if cols[2].button(ctx.t("what_if.run"), type="primary", disabled=busy or scenario is None,
                      key="what_if_run"):
        if not chosen:
            st.error(ctx.t("what_if.responses_empty"))
            return
        st.query_params.pop("run", None)
        job_mod.start(job_mod.Job(scenario=scenario, response_names=tuple(chosen), runs=int(runs),
                                  seed=int(seed), now=ctx.now), ctx.db, pick_responses)


def progress(ctx) -> None:
    """While this session's run goes: a bar and a Cancel button, refreshed every second. When the
    run ends, the whole page reruns once to draw the results."""
    job = job_mod.current()
    if job is None or not job.running:
        return

    @st.fragment(run_every=1)
    def _tick() -> None:
        current = job_mod.current()
        if current is None or not current.running:
            st.rerun(scope="app")
        pct = fmt.pct(current.progress, ctx.lang, 0)
        text = ctx.t("what_if.running", scenario=current.scenario.name, runs=fmt.number(current.runs, ctx.lang),
                     responses=len(current.response_names), pct=pct, elapsed=fmt.duration(current.elapsed_s, ctx.lang))
        with st.container(key="what-if-progress"):
            st.progress(min(max(current.progress, 0.0), 1.0), text=text)
            if st.button(ctx.t("what_if.cancel"), key="what_if_cancel"):
                job_mod.cancel_current()

    _tick()


def outcome_messages(ctx, job) -> bool:
    """What happened to the last run, in words. True when there is a result to draw."""
    if job is None or job.running:
        return False
    if job.cancelled:
        st.warning(ctx.t("what_if.cancelled"))
    elif job.error:
        st.error(ctx.t("what_if.invalid", error=job.error), icon="⚠️")
    elif job.failed:
        st.error(ctx.t("what_if.failed", error=job.failed))
    elif job.done:
        st.caption(ctx.t("what_if.done", runs=fmt.number(job.runs, ctx.lang),
                         elapsed=fmt.duration(job.elapsed_s, ctx.lang)))
        return True
    return False


def frame_or_empty(df) -> pd.DataFrame:
    return df if isinstance(df, pd.DataFrame) else pd.DataFrame()
