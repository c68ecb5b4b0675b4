"""The Sources page's manual upload panel (issue 11 item 5, for when an API is down): pick the sheet
kind, download its template, upload CSV or .xlsx, see the row-level report. The check, the
all-or-nothing load, the permission and the audit row are in tower.uploads; this only draws."""
from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from tower import uploads
from tower.auth.policy import Refused
from tower.ui import fmt, session

log = logging.getLogger("tower.ui")
RECENT = 20
ZONES = ("UTC", "Asia/Shanghai", "Asia/Hong_Kong", "America/Los_Angeles", "America/New_York",
         "Europe/Berlin", "Europe/London")


def zone_label(ctx, zone: str) -> str:
    """A zone in the viewer's words ("Shanghai (UTC+8)" / "上海 (UTC+8)"); an unlisted one as its id."""
    key = "uploads.zone_" + zone.lower().replace("/", "_")
    text = ctx.t(key)
    return zone if text == key else text


def problem_text(ctx, error) -> str:
    """A row error in the viewer's language (its code's words), else as the check wrote it."""
    key = f"uploads.err_{error.code}"
    text = ctx.t(key, **error.params) if error.code else key
    return error.error if text == key else text


def _recent(ctx, name: str, **params) -> pd.DataFrame:
    """Straight from the database, not the 5-second query cache: an upload shows at once."""
    try:
        return ctx.db.query(name, params)
    except Exception as e:  # noqa: BLE001 - an old database without migration 014: say so, don't crash
        log.warning("%s failed: %s", name, e)
        return pd.DataFrame()


def manual_banner(ctx) -> None:
    """Per kind of sheet, whose manual data is in Tower and since when."""
    latest = _recent(ctx, "uploads/latest_loaded")
    for r in latest.itertuples(index=False):
        st.info(ctx.t("uploads.manual_data", kind=ctx.t(f"uploads.kind_{r.kind}"), who=r.uploaded_by_name,
                      at=fmt.ts(r.uploaded_at, ctx.lang, ctx.tz), file=r.file_name), icon="✍️")


def show_report(ctx, report: uploads.Report) -> None:
    if report.status == "loaded":
        st.success(ctx.t("uploads.loaded", file=report.file_name, rows=fmt.number(report.rows, ctx.lang),
                         written=fmt.number(report.rows_written, ctx.lang)))
    elif report.status == "duplicate":
        st.info(ctx.t("uploads.duplicate", file=report.file_name, upload=report.duplicate_of))
    else:
        st.error(ctx.t("uploads.rejected", file=report.file_name, n=fmt.number(report.error_count, ctx.lang)))
        st.dataframe(pd.DataFrame({
            ctx.t("uploads.col_row"): [e.row for e in report.errors],
            ctx.t("uploads.col_column"): [e.column for e in report.errors],
            ctx.t("uploads.col_error"): [problem_text(ctx, e) for e in report.errors],
        }), hide_index=True, width="stretch")
        if report.error_count > len(report.errors):
            st.caption(ctx.t("uploads.more_errors", n=fmt.number(report.error_count - len(report.errors), ctx.lang)))


def draw(ctx) -> None:
    st.subheader(ctx.t("uploads.title"))
    st.caption(ctx.t("uploads.caption"))
    kind = st.radio(ctx.t("uploads.kind"), uploads.KINDS, horizontal=True, key="upload_kind",
                    format_func=lambda k: ctx.t(f"uploads.kind_{k}"))
    left, right = st.columns(2)
    left.download_button(ctx.t("uploads.template"), data=uploads.template(kind), mime="text/csv",
                         file_name=f"tower-{kind}-sheet-template.csv", key=f"upload_template_{kind}")
    zones = list(dict.fromkeys([ctx.tz, *ZONES]))
    zone = right.selectbox(ctx.t("uploads.zone"), zones, key="upload_zone", help=ctx.t("uploads.zone_help"),
                           format_func=lambda z: zone_label(ctx, z))
    if not session.identity().can("operate"):
        st.caption(ctx.t("uploads.needs_operator"))
        recent_uploads(ctx)
        return
    file = st.file_uploader(ctx.t("uploads.file"), type=["csv", "txt", "xlsx"], key=f"upload_file_{kind}",
                            help=ctx.t("uploads.file_help"))
    if file is not None and st.button(ctx.t("uploads.load"), type="primary", key="upload_load"):
        try:
            report = uploads.upload(ctx.db, session.identity(), file.getvalue(), file.name, kind,
                                    now=ctx.now, zone=zone)
        except Refused as e:
            st.error(ctx.t("uploads.refused", reason=str(e)))
        except Exception as e:  # noqa: BLE001 - nothing was written (one transaction); say what failed
            log.warning("upload of %s failed: %s", file.name, e, exc_info=True)
            st.error(ctx.t("uploads.failed", error=f"{type(e).__name__}: {str(e)[:200]}"))
        else:
            show_report(ctx, report)
    recent_uploads(ctx)


def recent_uploads(ctx) -> None:
    manual_banner(ctx)
    recent = _recent(ctx, "uploads/recent", limit=RECENT)
    if not recent.empty:
        st.markdown(f"**{ctx.t('uploads.recent')}**")
        st.dataframe(pd.DataFrame({
            ctx.t("uploads.col_upload"): recent["upload_id"],
            ctx.t("uploads.kind"): [ctx.t(f"uploads.kind_{k}") for k in recent["kind"]],
            ctx.t("uploads.col_file"): recent["file_name"],
            ctx.t("uploads.col_by"): recent["uploaded_by_name"],
            ctx.t("uploads.col_at"): [fmt.ts(t, ctx.lang, ctx.tz, seconds=True) for t in recent["uploaded_at"]],
            ctx.t("uploads.col_rows"): recent["rows"].astype("Int64"),
            ctx.t("uploads.col_written"): recent["rows_written"].astype("Int64"),
            ctx.t("uploads.col_status"): [ctx.t(f"uploads.status_{s}") for s in recent["status"]],
            ctx.t("uploads.col_invalid"): recent["invalid_rows"].astype("Int64"),
        }), hide_index=True, width="stretch")
