"""SQL console: analysts query a read-only copy of the data (the published snapshot, at most a minute
old) in a separate, memory- and time-limited process. The editor sits beside a schema browser
(column meanings come from the schema files' comments); results show with row count and time, can be
downloaded (CSV, Parquet) and charted. tower.sql_console does the guarding and running, and checks
the signed-in user's "analyse" permission, their queries per minute and audits each query itself;
downloads go through tower.auth.exports (checked and audited when the file is built)."""
import io

import pandas as pd
import plotly.express as px
import streamlit as st

import queries
from queries import schema_docs
from tower import sql_console
from tower.auth import policy
from tower.ui import access, charts, choices, downloads, fmt, scope, session
from tower.ui.frame import context

SQL_KEY = "sql_console.sql"
RESULT_KEY = "sql_console.result"
RAN_KEY = "sql_console.ran"          # (label, time) of the last run: the download files' names

ctx = context()
options = (getattr(getattr(ctx.runtime, "config", None), "raw", None) or {}).get("console", {})
row_cap = int(options.get("row_cap", sql_console.ROW_CAP))
time_limit_s = float(options.get("time_limit_s", sql_console.TIME_LIMIT_S))
memory_limit = str(options.get("memory_limit", sql_console.MEMORY_LIMIT))
threads = max(1, min(2, int(options.get("threads", sql_console.THREADS))))
per_minute = int(options.get("queries_per_minute", sql_console.QUERIES_PER_MINUTE))
who = session.identity()
# The console reads the analysts' snapshot (republished when older than a minute), never the live file.
config = getattr(ctx.runtime, "config", None)
snapshot_path = getattr(config, "snapshot_path", None)

st.title(ctx.t("sql_console.title"))
st.caption(ctx.t("sql_console.intro", cap=fmt.number(row_cap, ctx.lang), limit=f"{time_limit_s:g}"))

if not who.can("analyse"):  # sql_console.run refuses anyway: this only spares the viewer the editor
    st.warning(access.refusal(ctx.t, who, "analyse"))
    st.stop()


def example_title(name: str) -> str:
    """The example's title from the catalogue (sql_console.example.<file>), else its SQL header."""
    key = f"sql_console.example.{name.split('/')[-1]}"
    if ctx.t(key) != key:
        return ctx.t(key)
    header = queries.header(name)
    return header.splitlines()[0] if header else name.split("/")[-1]


def run_editor() -> None:
    params = ctx.params(warehouse=None, carrier=None)
    sql = st.session_state.get(SQL_KEY, "")
    example = st.session_state.get("sql_console.example")
    st.session_state[RAN_KEY] = (downloads.sql_label(sql, example, queries.load(example) if example else None),
                                 ctx.now)
    try:
        result = sql_console.run(scope.console_db(ctx), st.session_state.get(SQL_KEY, ""), who=who,
                                 now=ctx.now, per_minute=per_minute, params=params,
                                 time_limit_s=time_limit_s, row_cap=row_cap, memory_limit=memory_limit,
                                 threads=threads, snapshot_path=snapshot_path)
        st.session_state[RESULT_KEY] = result
    except policy.Refused:
        st.session_state[RESULT_KEY] = ("audit.refused_plain", access.refusal(ctx.t, who, "analyse"))
    except sql_console.RateLimited as e:
        st.session_state[RESULT_KEY] = ("audit.refused_plain",
                                        ctx.t("audit.rate_limited", per_minute=e.per_minute, wait=e.wait_s))
    except sql_console.Refused as e:
        st.session_state[RESULT_KEY] = ("sql_console.refused", str(e))
    except sql_console.QueryStopped as e:  # time or memory limit, or the query process ended
        st.session_state[RESULT_KEY] = ("sql_console.timed_out", str(e))
    except sql_console.QueryFailed as e:
        st.session_state[RESULT_KEY] = ("sql_console.failed", str(e))
    except Exception as e:  # noqa: BLE001 - e.g. the database closed underneath: say so, no trace
        st.session_state[RESULT_KEY] = ("sql_console.unavailable", f"{type(e).__name__}: {e}")


def draw_schema() -> None:
    st.subheader(ctx.t("sql_console.schema"))
    columns = ctx.query("console/schema_columns")
    if columns.empty:
        st.info(ctx.t("sql_console.schema_empty"))
        return
    docs = schema_docs.load()
    kinds = columns.drop_duplicates("table_name").set_index("table_name")["table_kind"]
    names = list(kinds.index)
    table = st.selectbox(
        ctx.t("sql_console.schema_table"), names, key="sql_console.schema_table",
        index=names.index("orders") if "orders" in names else 0,
        format_func=choices.labels(names, lambda t: f"{t} ({ctx.t('sql_console.kind_' + kinds[t])})"),
    )
    doc = docs.get(table, schema_docs.TableDoc())
    if doc.description:
        st.caption(doc.description)
    cols = columns[columns["table_name"] == table]
    st.dataframe(
        pd.DataFrame({
            ctx.t("sql_console.col_name"): cols["column_name"],
            ctx.t("sql_console.col_type"): cols["data_type"],
            ctx.t("sql_console.col_description"): [doc.columns.get(c, "") for c in cols["column_name"]],
        }),
        hide_index=True, width="stretch",
    )


def draw_result(result) -> None:
    if isinstance(result, tuple):  # (message key, DuckDB's or the guard's message)
        key, message = result
        st.error(ctx.t(key, message=message))
        return
    elapsed = f"{result.elapsed_s * 1000:.0f} ms" if result.elapsed_s < 1 else f"{result.elapsed_s:.2f} s"
    st.markdown(f"**{ctx.t('sql_console.rows', rows=fmt.number(result.rows, ctx.lang), elapsed=elapsed)}**")
    if result.truncated:
        st.warning(ctx.t("sql_console.truncated", cap=fmt.number(row_cap, ctx.lang)))
    if not result.rows:
        st.info(ctx.t("sql_console.no_rows"))
    st.dataframe(result.df, width="stretch", hide_index=True)
    if not len(result.df.columns):
        return
    down = st.columns(2)
    label, ran_at = st.session_state.get(RAN_KEY, ("query", ctx.now))
    access.download(ctx, who, ctx.t("sql_console.download_csv"), lambda: result.df.to_csv(index=False).encode(),
                    file_name=downloads.file_name("sql", label, at=ran_at, ext="csv"),
                    mime="text/csv", key="sql_console.csv", detail={"rows": result.rows}, where=down[0])
    try:
        buffer = io.BytesIO()
        result.df.to_parquet(buffer, index=False)  # here, so an odd column type says so before the click
        parquet = buffer.getvalue()
        access.download(ctx, who, ctx.t("sql_console.download_parquet"), lambda: parquet,
                        file_name=downloads.file_name("sql", label, at=ran_at, ext="parquet"),
                        mime="application/vnd.apache.parquet", key="sql_console.parquet",
                        detail={"rows": result.rows}, where=down[1])
    except Exception as e:  # noqa: BLE001 - an odd column type must not hide the CSV and the table
        down[1].caption(ctx.t("sql_console.parquet_failed", message=str(e)[:200]))
    if result.rows:
        with st.expander(ctx.t("sql_console.chart")):
            draw_chart(result.df)


def draw_chart(df: pd.DataFrame) -> None:
    kinds = {"line": px.line, "bar": px.bar, "scatter": px.scatter}
    c = st.columns(4)
    kind = c[0].selectbox(ctx.t("sql_console.chart_kind"), list(kinds), key="sql_console.chart_kind",
                          format_func=choices.labels(kinds, lambda k: ctx.t(f"sql_console.chart_{k}")))
    x = c[1].selectbox(ctx.t("sql_console.chart_x"), list(df.columns), key="sql_console.chart_x")
    numeric = [col for col in df.columns if col != x and pd.api.types.is_numeric_dtype(df[col])
               and not pd.api.types.is_bool_dtype(df[col])]
    if not numeric:
        st.info(ctx.t("sql_console.chart_need_numeric"))
        return
    y = c[2].multiselect(ctx.t("sql_console.chart_y"), numeric, default=numeric[:1], key="sql_console.chart_y")
    others = [col for col in df.columns if col not in (x, *y)]
    none = ctx.t("sql_console.chart_none")
    color = c[3].selectbox(ctx.t("sql_console.chart_color"), [none, *others], key="sql_console.chart_color")
    if not y:
        return
    fig = kinds[kind](df, x=x, y=y if len(y) > 1 else y[0], color=None if color == none else color)
    charts.show(fig, ctx)


editor, schema = st.columns([3, 1.4], gap="large")
with editor:
    names = queries.names("examples")
    pick, load = st.columns([4, 1], vertical_alignment="bottom")
    pick.selectbox(ctx.t("sql_console.examples"), [None, *names], key="sql_console.example",
                   format_func=choices.labels([None, *names], example_title,
                                              none=ctx.t("sql_console.example_none")))
    load.button(ctx.t("sql_console.load_example"), on_click=choices.copy_choice,
                args=("sql_console.example", SQL_KEY, queries.load), key="sql_console.load")
    st.text_area(ctx.t("sql_console.editor"), key=SQL_KEY, height=260,
                 placeholder=ctx.t("sql_console.placeholder"), help=ctx.t("sql_console.editor_help"))
    if st.button(ctx.t("sql_console.run"), type="primary", key="sql_console.run"):
        run_editor()
    if RESULT_KEY in st.session_state:
        draw_result(st.session_state[RESULT_KEY])
    st.caption(ctx.t("sql_console.outside"))
with schema:
    draw_schema()
