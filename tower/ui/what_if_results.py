"""The What-if page's results: the winner, the stock fan per response, the comparison table, the
decision table with its thresholds (exported to a playbook by approvers only: tower.twin.decision.
export refuses anyone else on the server) and the map of what the scenario touches (the
last backtest is tower/ui/backtest_panel.py)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from tower.auth import policy
from tower.twin import decision, store
from tower.twin.errors import TwinInvalid
from tower.ui import access, charts, fmt, kiosk, session
from tower.ui import what_if as inputs
from tower.ui import what_if_charts as pictures
from tower.ui import what_if_data as data
from tower.ui import what_if_glossary as twin_glossary
from tower.ui import what_if_job as job_mod
from tower.ui.frame import badge
from tower.ui.what_if import response_label

PLAYBOOK = "B-03"
SWEEP_RUNS = 200                     # runs per cell of the decision table (45 cells by default)


def labels(ctx, names) -> dict[str, str]:
    return {n: response_label(ctx.t, n) for n in names}


def show_job(ctx, job) -> None:
    """The result of this session's last run, and its share link (?run=ID) once stored."""
    if job.run_id and st.query_params.get("run") != job.run_id:
        st.query_params["run"] = job.run_id
    st.header(ctx.t("what_if.results") + f" · {job.scenario.name}")
    if job.run_id:
        st.caption(ctx.t("what_if.share", run=ctx.t("what_if.share_run")))
    figures(ctx, job.result)
    decision_section(ctx, job)


def show_stored(ctx, run_id: str | None) -> None:
    """A stored result opened by ?run=ID (figures without the fan, which is not stored)."""
    if not run_id:
        return
    try:
        stored = store.get_run(ctx.db, run_id)
    except Exception as e:  # noqa: BLE001 - a broken stored row is a message, not a broken page
        st.warning(ctx.t("what_if.failed", error=str(e)[:200]))
        return
    if stored is None:
        st.info(ctx.t("what_if.stored_missing", id=run_id))
        return
    st.header(ctx.t("what_if.results") + f" · {stored['scenario']['name']}")
    st.caption(ctx.t("what_if.stored", id=run_id, scenario=stored["scenario"]["name"],
                     runs=fmt.number(stored["runs"], ctx.lang), at=fmt.ts(stored["created_at"], ctx.lang, ctx.tz)))
    figures(ctx, stored)


def figures(ctx, result: dict) -> None:
    table = data.comparison_table(result)
    winner_line(ctx, table)
    fan(ctx, result)
    comparison(ctx, table)
    per_key(ctx, result)


def winner_line(ctx, table: pd.DataFrame) -> None:
    won = table[table["winner"]]
    if won.empty or won.iloc[0]["response"] == "do_nothing":
        st.info(ctx.t("what_if.no_winner"))
        return
    row = won.iloc[0]
    text = ctx.t("what_if.winner", response=response_label(ctx.t, row["response"]),
                 p50=fmt.money(row["net_p50"], ctx.lang), p90=fmt.money(row["net_p90"], ctx.lang))
    if ctx.kiosk:  # the wall paints every alert box dark red: the winner is a green pill there
        st.markdown(f"### {badge(text, 'green')}", unsafe_allow_html=True)
    else:
        st.success(text)


def comparison(ctx, table: pd.DataFrame) -> None:
    st.subheader(ctx.t("what_if.comparison"))
    view = table.assign(response=table["response"].map(lambda n: response_label(ctx.t, n)),
                        winner=table["winner"].map(lambda w: "★" if w else ""))
    config = {
        "response": ctx.t("what_if.col_response"), "winner": ctx.t("what_if.col_winner"),
        "p_stockout": st.column_config.NumberColumn(ctx.t("what_if.col_p_stockout"), format="percent"),
        "stockout_h_p50": st.column_config.NumberColumn(ctx.t("what_if.col_stockout_h_p50"), format="%.0f"),
        "stockout_h_p90": st.column_config.NumberColumn(ctx.t("what_if.col_stockout_h_p90"), format="%.0f"),
        "lost_units_p50": st.column_config.NumberColumn(ctx.t("what_if.col_lost_units_p50"), format="%.0f"),
        "lost_sales_p50": st.column_config.NumberColumn(ctx.t("what_if.col_lost_sales_p50"), format="%.0f"),
        "lost_sales_p90": st.column_config.NumberColumn(ctx.t("what_if.col_lost_sales_p90"), format="%.0f"),
        "extra_cost": st.column_config.NumberColumn(ctx.t("what_if.col_extra_cost"), format="%.0f"),
        "on_time": st.column_config.NumberColumn(ctx.t("what_if.col_on_time"), format="%.1f"),
        "net_p50": st.column_config.NumberColumn(ctx.t("what_if.col_net_p50"), format="%.0f"),
        "net_p90": st.column_config.NumberColumn(ctx.t("what_if.col_net_p90"), format="%.0f"),
    }
    winner_rows = view["winner"] == "★"
    styled = view.style.apply(lambda r: ["background-color: #1a9850; color: white; font-weight: 700"
                                         if winner_rows.loc[r.name] else "" for _ in r], axis=1)
    with st.container(key="what-if-comparison"):
        if ctx.kiosk:  # static HTML: percentages written out, the winner's row marked by its star
            kiosk.table(view.assign(p_stockout=view["p_stockout"].map(lambda p: fmt.pct(p, ctx.lang, 0))), ctx,
                        hide_index=True, column_config={**config, "p_stockout": ctx.t("what_if.col_p_stockout")})
        else:
            st.dataframe(styled, hide_index=True, width="stretch", column_config=config)


def fan(ctx, result: dict) -> None:
    keys = data.fan_keys(result)
    if not keys:
        return
    st.subheader(ctx.t("what_if.fan"))
    key = st.selectbox(ctx.t("what_if.fan_key"), keys, format_func=data.key_text, key="what_if_fan_key")
    frame = data.fan_frame(result, key)
    fig = pictures.fan_chart(frame, labels(ctx, frame["response"].unique()), winner=result.get("winner"), t=ctx.t,
                             height=kiosk.chart_height(ctx, 0.42, 420), limit=stock_limit(ctx, key))
    charts.show(fig, ctx, key="what_if_fan")
    st.caption(ctx.t("what_if.fan_note"))


def per_key(ctx, result: dict) -> None:
    """Stockout probability per SKU × warehouse and response (the fan's keys, in numbers)."""
    table = data.per_key_table(result)
    if table.empty or ctx.kiosk:
        return
    with st.expander(ctx.t("what_if.per_key"), expanded=False):
        table = table.rename(columns=labels(ctx, table.columns)).rename_axis(ctx.t("what_if.col_key"))
        st.dataframe(table.style.format("{:.0%}"), width="stretch")


def stock_limit(ctx, key) -> float | None:
    """The key's limit watermark (the stock page's red line), if it has a policy."""
    grid = ctx.query("pages/stock_health")
    if grid.empty or not isinstance(key, tuple) or len(key) != 2:
        return None
    row = grid[(grid["sku"] == key[0]) & (grid["warehouse_id"] == key[1])]
    return None if row.empty or pd.isna(row.iloc[0]["limit_qty"]) else float(row.iloc[0]["limit_qty"])


def decision_section(ctx, job) -> None:
    """The sweep re-runs the comparison in every cell of the trigger conditions: heavier than one
    comparison, so it runs when asked, in the background like the comparison itself."""
    st.subheader(ctx.t("what_if.decision"))
    st.caption(ctx.t("what_if.decision_note"))
    sweep = job_mod.current(job_mod.SWEEP_KEY)
    if sweep is None or sweep.job is not job:
        if ctx.kiosk or not st.button(ctx.t("what_if.decision_run"), key="what_if_decision_run"):
            return
        sweep = job_mod.start_sweep(job_mod.Sweep(job=job, runs=min(SWEEP_RUNS, job.runs)))
    inputs.progress(ctx, job_mod.SWEEP_KEY, lambda s: ctx.t(
        "what_if.decision_running", pct=fmt.pct(s.progress, ctx.lang, 0), elapsed=fmt.duration(s.elapsed_s, ctx.lang)))
    if not inputs.outcome_messages(ctx, sweep):
        return
    cells = data.decision_cells(sweep.table.cells())
    etas = sorted(cells["inbound_eta_h"].unique())
    eta = st.select_slider(ctx.t("what_if.eta_pick"), etas, value=etas[len(etas) // 2], key="what_if_eta",
                           format_func=lambda h: fmt.hours(h, ctx.lang)) if len(etas) > 1 else etas[0]
    shown = cells[cells["inbound_eta_h"] == eta]
    fig = pictures.decision_heatmap(shown, labels(ctx, cells["winner"].unique()), t=ctx.t,
                                    height=kiosk.chart_height(ctx, 0.4, 380))
    charts.show(fig, ctx, key="what_if_decision")
    found = decision.thresholds(sweep.table, playbook=PLAYBOOK)
    thresholds_table(ctx, found)
    export_button(ctx, job, sweep, found)


def thresholds_table(ctx, found: dict) -> None:
    st.markdown(f"**{ctx.t('what_if.thresholds', playbook=PLAYBOOK)}**")
    if not found.get("response"):
        st.info(ctx.t("what_if.no_quick"))
        return
    st.caption(ctx.t("what_if.quick_response", response=response_label(ctx.t, found["response"])))
    rows = data.threshold_rows(found)
    kiosk.table(rows.assign(name=rows["name"].map(lambda n: _threshold_label(ctx, n))), ctx, hide_index=True,
                column_config={"name": ctx.t("what_if.col_threshold"),
                               "value": st.column_config.NumberColumn(ctx.t("what_if.col_value"), format="%.1f")})


def _threshold_label(ctx, name: str) -> str:
    key = f"what_if.threshold.{name}"
    text = ctx.t(key)
    return name if text == key else text


def export_button(ctx, job, sweep, found: dict) -> None:
    """Approvers (and admins) see the button; decision.export checks "approve" again and audits."""
    who = session.identity()
    if not who.can("approve"):
        st.caption(ctx.t("what_if.export_needs"))
        return
    if not found.get("response") or ctx.kiosk:
        return
    if st.button(ctx.t("what_if.export", playbook=PLAYBOOK), key="what_if_export"):
        try:
            n = decision.export(ctx.db, who, PLAYBOOK, found, job.scenario, sweep.runs, now=ctx.now)
        except policy.Refused:
            st.error(access.refusal(ctx.t, who, "approve"))
        except TwinInvalid as e:
            st.error(ctx.t("what_if.invalid", error=str(e)))
        else:
            st.success(ctx.t("what_if.exported", n=n, playbook=PLAYBOOK))
    in_use(ctx)


def in_use(ctx) -> None:
    """What the playbook's trigger uses now (the latest export per condition)."""
    now = ctx.query("twin/thresholds_latest", playbook=PLAYBOOK)
    if now.empty:
        return
    st.caption(ctx.t("what_if.in_use", playbook=PLAYBOOK, at=fmt.ts(now["computed_at"].max(), ctx.lang, ctx.tz),
                     thresholds="; ".join(f"{_threshold_label(ctx, r.name)} {fmt.number(r.value, ctx.lang, 1)}"
                                          for r in now.itertuples(index=False))))


def glossary_section(ctx) -> None:
    with st.expander(ctx.t("what_if.glossary"), expanded=False):
        twin_glossary.draw(ctx.t)


def map_section(ctx, scenario) -> None:
    """Suppliers, ports and supply routes the scenario disrupts, on the map page's layers."""
    st.subheader(ctx.t("what_if.map"))
    hit = data.affected(scenario)
    suppliers, nodes = ctx.query("pages/map_suppliers"), ctx.query("pages/map_nodes")
    warehouses, stock = ctx.query("pages/map_warehouses"), ctx.query("pages/stock_health")
    lanes = ctx.query("what_if/supply_lanes")
    routes = pd.DataFrame(columns=["origin_lat", "origin_lon", "dest_lat", "dest_lon", "label", "detail", "affected"])
    if not lanes.empty:
        routes = lanes.assign(label=lanes["supplier_name"] + " → " + lanes["warehouse_name"],
                              detail=[ctx.t("what_if.affected") if s in hit["suppliers"] else ""
                                      for s in lanes["supplier_id"]],
                              affected=lanes["supplier_id"].isin(hit["suppliers"]))
    places = [frame[frame[col].isin(ids)].assign(label=lambda d: d["name"], detail=ctx.t("what_if.affected"))
              for frame, col, ids in ((suppliers, "supplier_id", hit["suppliers"]), (nodes, "node_id", hit["nodes"]),
                                      (warehouses, "market", hit["markets"]))
              if not frame.empty and col in frame]
    affected = pd.concat(places, ignore_index=True) if places else pd.DataFrame(columns=["lat", "lon", "label", "detail"])
    if affected.empty and not routes["affected"].any():
        st.caption(ctx.t("what_if.map_empty"))
    width = kiosk.content_width(ctx) if ctx.kiosk else 1200
    deck, height = pictures.affected_deck(
        suppliers=suppliers, nodes=nodes, warehouses=warehouses, stock=stock, routes=routes, affected=affected,
        kiosk=ctx.kiosk, width=width, max_height=kiosk.screen_px(ctx, 0.5) if ctx.kiosk else 480,
        scale=ctx.scale if ctx.kiosk else 1.0, lang=ctx.lang)
    with st.container(key="what-if-map"):
        st.pydeck_chart(deck, width=width, height=height, key="what_if_deck")
    st.caption(ctx.t("what_if.map_legend"))
