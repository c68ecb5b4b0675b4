"""The What-if page's inputs: the scenario (picked from the library, named by ?scenario=, or built
in a validated form), the responses and runs, the Run / Cancel controls and the progress of the
background run (tower.ui.what_if_job). The results are drawn by tower.ui.what_if_results.

Saving a scenario needs "operate"; tower.twin.scenarios.save checks it again on the server."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import streamlit as st

from tower.auth import policy
from tower.twin import network as twin_network
from tower.twin import responses as twin_responses
from tower.twin import scenarios
from tower.twin import simulate
from tower.twin.scenarios import TwinInvalid
from tower.ui import access, fmt, session
from tower.ui import what_if_data as data
from tower.ui import what_if_job as job_mod

BUILD = "__build__"            # the picker's "build a new scenario" entry
BUILT_KEY = "what_if.built"    # the scenario the form last built (valid), kept across reruns
KINDS = ("supplier_stop", "port", "demand", "carrier_delay", "customs_hold")
DEFAULT_RUNS = 1000
MAX_RUNS = simulate.MAX_RUNS
NETWORK_TTL_S = 60             # the form's choices and the responses come from a network this fresh

# response names carry their parameters (tower.twin.responses): the label says them in words
_NAMED = [(re.compile(r"^shift_to_backup_(\d+)$"), "shift_to_backup", ("share",)),
          (re.compile(r"^alternative_route_(.+)$"), "alternative_route", ("via",)),
          (re.compile(r"^transfer_(.+)_to_(.+)$"), "transfer", ("source", "target")),
          (re.compile(r"^cap_promotion_(\d+)$"), "cap_promotion", ("factor",))]


def response_label(t: Callable[..., str], name: str) -> str:
    """A response's name (do_nothing, shift_to_backup_30, transfer_A_to_B …) in words."""
    for pattern, kind, fields in _NAMED:
        match = pattern.match(name)
        if match:
            values = dict(zip(fields, match.groups()))
            for pct in ("share", "factor"):
                if pct in values:
                    values[pct] = f"{values[pct]} %"
            return t(f"what_if.response.{kind}", **values)
    key = f"what_if.response.{name}"
    text = t(key)
    return name if text == key else text


@st.cache_resource(ttl=NETWORK_TTL_S, show_spinner=False, max_entries=8)
def _network(db_key: str, minute: datetime, _db):
    return twin_network.build(_db, minute)


def network(ctx):
    """The twin's network as of this minute (cached a minute: the form and the responses need it on
    every rerun, the run itself starts from it)."""
    return _network(str(ctx.db.path), ctx.now.replace(second=0), ctx.db)


def load_library(ctx) -> dict:
    """The saved scenarios; a broken library is a warning, not a broken page."""
    try:
        return scenarios.library(ctx.db)
    except Exception as e:  # noqa: BLE001 - e.g. a malformed library file
        st.warning(ctx.t("what_if.library_failed", error=str(e)[:300]))
        return {}


def pick_scenario(ctx, library: dict, net):
    """The scenario to simulate: ?scenario=NAME preselects one of the library; "build" shows the
    form. Returns a Scenario, or None until the form has built a valid one."""
    names = list(library)
    wanted = st.query_params.get("scenario")
    if wanted and wanted not in library:
        st.info(ctx.t("what_if.unknown_scenario", name=wanted))
    if not names:
        st.info(ctx.t("what_if.no_scenarios"))
    options = [*names, BUILD]
    if st.session_state.get("what_if_pick") not in options or (wanted in library and wanted != st.session_state.get(
            "_what_if_url_pick")):
        st.session_state["what_if_pick"] = wanted if wanted in library else (names[0] if names else BUILD)
    st.session_state["_what_if_url_pick"] = wanted
    titles = {n: scenario_title(ctx.t, library[n]) for n in names}
    choice = st.selectbox(ctx.t("what_if.pick"), options, key="what_if_pick",
                          format_func=lambda n: ctx.t("what_if.pick_build") if n == BUILD else f"{n} · {titles[n]}")
    if choice == BUILD:
        return build_form(ctx, net)
    if st.query_params.get("scenario") != choice:
        st.query_params["scenario"] = choice
        st.session_state["_what_if_url_pick"] = choice
    scenario = library[choice]
    describe(ctx, scenario)
    return scenario


def scenario_title(t: Callable[..., str], scenario) -> str:
    """A built-in scenario's title in the catalogue's words (what_if.scenario.<name>); a user's
    scenario keeps the title its author typed."""
    key = f"what_if.scenario.{scenario.name}"
    text = t(key)
    return scenario.title if text == key else text


def _value(v) -> str:
    if isinstance(v, bool):
        return "✓" if v else "✗"
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    return f"{v:g}" if isinstance(v, float) else str(v)


def describe(ctx, scenario) -> None:
    """The scenario's disruptions: a bullet per disruption with its parameters as the twin has them."""
    lines = []
    for kind, params in data.disruption_rows(scenario):
        shown = ", ".join(f"`{k}` = {_value(v)}" for k, v in params.items() if v not in (None, [], ""))
        lines.append(f"- **{ctx.t('what_if.kind.' + kind)}**: {shown}")
    lines.append(f"- **{ctx.t('what_if.horizon_days')}**: {scenario.horizon_days}")
    with st.expander(ctx.t("what_if.scenario_about"), expanded=not ctx.kiosk):
        st.markdown("\n".join(lines))


def _ids(net, kind: str) -> list[str]:
    if kind == "supplier":  # the primary first: "the supplier stops" usually means that one
        rank = {"primary": 0, "backup": 1, "emergency": 2}
        return sorted(net.suppliers, key=lambda s: (rank.get(net.suppliers[s].tier, 3), s))
    if kind == "node":
        return sorted(net.nodes)
    if kind == "sku":
        return sorted({str(s) for s in net.sku})
    return sorted({str(m) for m in net.market if m})


def build_form(ctx, net):
    """The scenario form. On submit the twin validates it (TwinInvalid: impossible parameters such
    as negative days, a factor out of range, an unknown supplier, a horizon beyond its limit) and
    the page says why in the twin's words; nothing is kept until it is valid."""
    with st.form("what_if_build"):
        st.subheader(ctx.t("what_if.build"))
        top = st.columns([1, 2, 1])
        name = top[0].text_input(ctx.t("what_if.name"), value="my-scenario", help=ctx.t("what_if.name_help"),
                                 key="what_if_name")
        title = top[1].text_input(ctx.t("what_if.scenario_title"), value=ctx.t("what_if.default_title"),
                                  key="what_if_title")
        horizon = top[2].number_input(ctx.t("what_if.horizon_days"), value=30, step=1, key="what_if_horizon")
        kinds = st.multiselect(ctx.t("what_if.kinds"), KINDS, default=["supplier_stop"], key="what_if_kinds",
                               format_func=lambda k: ctx.t("what_if.kind." + k))
        left, right = st.columns(2)
        values: dict[str, dict] = {}
        with left:
            st.markdown(f"**{ctx.t('what_if.kind.supplier_stop')}**")
            values["supplier_stop"] = {
                "supplier": st.selectbox(ctx.t("what_if.supplier"), _ids(net, "supplier"), key="what_if_supplier",
                                         format_func=lambda s: net.suppliers[s].name or s),
                "start_h": st.number_input(ctx.t("what_if.start_h"), value=0, step=1, key="what_if_sup_start"),
                "days": st.number_input(ctx.t("what_if.days"), value=14, step=1, key="what_if_sup_days")}
            st.markdown(f"**{ctx.t('what_if.kind.port')}**")
            closed = st.checkbox(ctx.t("what_if.closed"), key="what_if_port_closed")
            port_days = st.number_input(ctx.t("what_if.port_days"), value=5, step=1, key="what_if_port_days")
            values["port"] = {
                "node": st.selectbox(ctx.t("what_if.port"), _ids(net, "node"), key="what_if_node",
                                     format_func=lambda n: net.nodes[n].get("name") or n),
                "start_h": st.number_input(ctx.t("what_if.start_h"), value=0, step=1, key="what_if_port_start"),
                "closed": closed, ("days" if closed else "extra_days"): port_days}
            st.markdown(f"**{ctx.t('what_if.kind.customs_hold')}**")
            values["customs_hold"] = {
                "market": st.selectbox(ctx.t("what_if.market"), _ids(net, "market"), key="what_if_customs_market"),
                "days": st.number_input(ctx.t("what_if.days"), value=3, step=1, key="what_if_customs_days")}
        with right:
            st.markdown(f"**{ctx.t('what_if.kind.demand')}**")
            values["demand"] = {
                "factor": st.number_input(ctx.t("what_if.factor"), value=1.5, step=0.1, key="what_if_factor"),
                "skus": st.multiselect(ctx.t("what_if.skus"), _ids(net, "sku"), key="what_if_skus"),
                "markets": st.multiselect(ctx.t("what_if.markets"), _ids(net, "market"), key="what_if_markets"),
                "hours": st.number_input(ctx.t("what_if.for_hours"), value=48, step=1, key="what_if_demand_h")}
            st.markdown(f"**{ctx.t('what_if.kind.carrier_delay')}**")
            values["carrier_delay"] = {
                "hours": st.number_input(ctx.t("what_if.delay_h"), value=48, step=1, key="what_if_delay_h"),
                "markets": st.multiselect(ctx.t("what_if.markets"), _ids(net, "market"), key="what_if_delay_markets"),
                "days": st.number_input(ctx.t("what_if.days"), value=7, step=1, key="what_if_delay_days")}
        submitted = st.form_submit_button(ctx.t("what_if.use_built"))
    if submitted:
        st.session_state.pop(BUILT_KEY, None)
        if not kinds:
            st.error(ctx.t("what_if.no_disruption"))
            return None
        try:
            st.session_state[BUILT_KEY] = make_scenario(net, name, title, kinds, values, horizon)
        except TwinInvalid as e:
            st.error(ctx.t("what_if.invalid", error=str(e)), icon="⚠️")
            return None
    built = st.session_state.get(BUILT_KEY)
    if built is not None:
        describe(ctx, built)
    return built


def make_scenario(net, name: str, title: str, kinds: list[str], values: dict[str, dict], horizon_days):
    """A Scenario of the chosen disruptions, validated on its own and against the network."""
    scenario = scenarios.parse({"name": name, "title": title or name, "horizon_days": horizon_days,
                                "disruptions": [{"kind": kind, **values[kind]} for kind in kinds]})
    scenarios.check(net, scenario)
    return scenario


def save_button(ctx, scenario) -> None:
    """Save to the library: shown to users who may operate; scenarios.save refuses anyone else."""
    who = session.identity()
    if not who.can("operate"):
        return
    if st.button(ctx.t("what_if.save"), key="what_if_save"):
        try:
            scenarios.save(ctx.db, who, scenario, now=ctx.now)
        except policy.Refused:
            st.error(access.refusal(ctx.t, who, "operate"))
        except TwinInvalid as e:
            st.error(ctx.t("what_if.invalid", error=str(e)))
        else:
            st.session_state.pop("what_if_pick", None)   # the picker shows it from the library next
            st.query_params["scenario"] = scenario.name
            st.success(ctx.t("what_if.saved", name=scenario.name))


def run_controls(ctx, scenario, net) -> None:
    """Responses, runs and seed, and the Run button (disabled while this session's run is going)."""
    offered = {r.name: r for r in twin_responses.default_responses(net)} if net.size else {}
    kept = st.session_state.get("what_if_responses")
    # all of them at first; later the choice, less what the network no longer offers (the offer
    # follows the network, e.g. which warehouses a transfer joins)
    st.session_state["what_if_responses"] = list(offered) if kept is None else [n for n in kept if n in offered]
    chosen = st.multiselect(ctx.t("what_if.responses"), list(offered), key="what_if_responses",
                            format_func=lambda n: response_label(ctx.t, n))
    cols = st.columns([2, 1, 1])
    runs = cols[0].number_input(ctx.t("what_if.runs"), min_value=10, max_value=MAX_RUNS, value=DEFAULT_RUNS,
                                step=100, help=ctx.t("what_if.runs_help"), key="what_if_runs")
    seed = cols[1].number_input(ctx.t("what_if.seed"), min_value=0, value=0, step=1, key="what_if_seed")
    job = job_mod.current()
    busy = job is not None and job.running
    if cols[2].button(ctx.t("what_if.run"), type="primary", disabled=busy or scenario is None, key="what_if_run"):
        if not net.size:
            st.error(ctx.t("what_if.network_empty"))
            return
        if not chosen:
            st.error(ctx.t("what_if.responses_empty"))
            return
        st.query_params.pop("run", None)
        job_mod.start(job_mod.Job(scenario=scenario, responses=[offered[n] for n in chosen], runs=int(runs),
                                  seed=int(seed), network=net), ctx.db, session.identity(), ctx.now)


def progress(ctx, key: str, text: Callable[[object], str]) -> None:
    """While this session's job (or sweep) under `key` runs: a bar and a Cancel button, refreshed
    every second. When it ends, the whole page reruns once to draw the results."""
    bg = job_mod.current(key)
    if bg is None or not bg.running:
        return

    @st.fragment(run_every=1)
    def _tick() -> None:
        now = job_mod.current(key)
        if now is None or not now.running:
            st.rerun(scope="app")
        with st.container(key=f"{key.replace('.', '-').replace('_', '-')}-progress"):
            st.progress(min(max(now.progress, 0.0), 1.0), text=text(now))
            if st.button(ctx.t("what_if.cancel"), key=f"{key}_cancel"):
                job_mod.cancel(key)

    _tick()


def job_progress(ctx) -> None:
    progress(ctx, job_mod.JOB_KEY, lambda job: ctx.t(
        "what_if.running", scenario=job.scenario.name, runs=fmt.number(job.runs, ctx.lang),
        responses=len(job.responses), pct=fmt.pct(job.progress, ctx.lang, 0),
        elapsed=fmt.duration(job.elapsed_s, ctx.lang)))


def outcome_messages(ctx, job) -> bool:
    """What happened to the last run (or sweep), in words. True when there is a result to draw."""
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
