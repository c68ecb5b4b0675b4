"""KPI glossary: every KPI of the semantic layer as its file in queries/kpi/ defines it (label,
definition, unit, grain, direction, target, breakdowns, where it is shown) with its macro, so the
screen and the numbers can never disagree. Also lists the per-entity result sets pages read."""
import streamlit as st

import queries
from tower import kpis
from tower.ui import fmt, what_if_glossary
from tower.ui.frame import context

# reading order for people: customer promise first, then the chain back to the supplier
GROUPS = {
    "customers": ("on_time_rate", "otif", "delivery_speed_p50_hours", "delivery_speed_p90_hours", "nps",
                  "csat", "return_rate", "order_accuracy"),
    "transport": ("shipments_past_eta", "exceptions", "stale_trackings", "shipping_cost_per_order"),
    "stock": ("stockouts", "hours_to_stockout", "days_of_supply", "fill_rate", "inventory_turnover",
              "sales_vs_forecast"),
    "supply": ("supplier_progress_vs_plan", "tier_share"),
}

ctx = context()
st.title(ctx.t("glossary.title"))
st.caption(ctx.t("glossary.intro"))

catalog = kpis.catalog()
try:
    targets = kpis.load_targets()
except kpis.TargetsError as e:  # a broken targets file must not hide the definitions
    st.warning(ctx.t("glossary.targets_broken", error=str(e)))
    targets = kpis.Targets()

search = st.text_input(ctx.t("glossary.search"), placeholder=ctx.t("glossary.search_hint")).strip().lower()


def matches(k: kpis.Kpi) -> bool:
    text = f"{k.name} {k.label} {k.label_zh} {k.definition} {k.definition_zh}".lower()
    return not search or search in text


def value_text(k: kpis.Kpi, value) -> str:
    """A KPI value in its display format, with the unit in the viewer's language."""
    return fmt.units(k.format_value(value), ctx.lang)


def target_text(k: kpis.Kpi) -> str:
    target = targets.for_kpi(k.name)
    if target is None:
        return ctx.t("glossary.no_target")
    key = "glossary.target_higher" if k.better == "higher" else "glossary.target_lower"
    text = ctx.t(key, green=value_text(k, target.green), yellow=value_text(k, target.yellow))
    overrides = sorted((m, t) for (name, m), t in targets.markets.items() if name == k.name)
    if overrides:
        text += "  \n" + ctx.t("glossary.market_overrides", overrides="; ".join(
            f"{m}: {value_text(k, t.green)} / {value_text(k, t.yellow)}" for m, t in overrides))
    return text


def show(k: kpis.Kpi) -> None:
    with st.container(border=True):
        st.subheader(k.title(ctx.lang))
        st.caption(f"`{k.name}`" + (f" · {k.label}" if ctx.lang == "zh" else f" · {k.label_zh}"))
        st.write(k.meaning(ctx.lang))
        left, right = st.columns(2)
        left.markdown(
            f"**{ctx.t('glossary.unit')}:** {ctx.t('kpi.unit.' + k.unit)}  \n"
            f"**{ctx.t('glossary.direction')}:** {ctx.t('glossary.better_' + k.better)}  \n"
            f"**{ctx.t('glossary.example')}:** {value_text(k, 12.5)}"
        )
        right.markdown(f"**{ctx.t('glossary.target')}:** {target_text(k)}")
        dims = ", ".join(ctx.t(f"glossary.dim_{d}") for d in k.dimensions) or ctx.t("glossary.no_dims")
        surfaces = ", ".join(ctx.t(f"glossary.surface_{s}") for s in kpis.shown_on(k.name))
        st.markdown(f"**{ctx.t('glossary.grain')}:** {k.grain}  \n"
                    f"**{ctx.t('glossary.by')}:** {dims}"
                    + (f" · {ctx.t('glossary.trend')}" if k.buckets else "") + "  \n"
                    f"**{ctx.t('glossary.shown_on')}:** {surfaces}")
        if k.caveat:
            st.caption(f"{ctx.t('glossary.caveat')}: {k.caveat}")
        with st.expander(ctx.t("glossary.sql", file=f"queries/{k.query}.sql · kpi_{k.name}(…)")):
            st.code(k.sql, language="sql")


if not catalog:
    st.info(ctx.t("glossary.empty"))
    st.stop()

shown = 0
grouped = [name for names in GROUPS.values() for name in names]
others = tuple(sorted(set(catalog) - set(grouped)))  # a KPI added later still appears
for group, names in [*GROUPS.items(), ("other", others)]:
    items = [catalog[n] for n in names if n in catalog and matches(catalog[n])]
    if not items:
        continue
    st.header(ctx.t(f"glossary.group_{group}"))
    for k in items:
        show(k)
        shown += 1
if shown == 0:
    st.info(ctx.t("glossary.no_match", search=search))

# ── the response figures of executable playbooks (issue 13; the retro's "Lost sales & ROI" tab) ──
if not search or search in (ctx.t("actions.glossary_first_action") + ctx.t("actions.glossary_avoided")).lower():
    st.header(ctx.t("actions.glossary_title"))
    with st.container(border=True):
        st.markdown(ctx.t("actions.glossary_first_action"))
        st.markdown(ctx.t("actions.glossary_avoided"))
        with st.expander(ctx.t("actions.glossary_sql")):
            st.code(queries.load("retro/action_response"), language="sql")

# ── per-entity result sets (what the pages list row by row, over the same facts) ───────────────
st.header(ctx.t("glossary.result_sets"))
st.caption(ctx.t("glossary.result_sets_intro"))
for name in queries.names("pages"):
    about = queries.header(name)
    if search and search not in f"{name} {about}".lower():
        continue
    with st.expander(f"queries/{name}.sql"):
        st.write(about)
        st.code(queries.load(name), language="sql")

# ── the digital twin's figures (What-if page; tower/ui/what_if_glossary.py) ────────────────────
if what_if_glossary.entries(ctx.t, search):
    st.header(ctx.t("what_if.glossary_title"))
    st.caption(ctx.t("what_if.glossary_intro"))
    what_if_glossary.draw(ctx.t, search)
