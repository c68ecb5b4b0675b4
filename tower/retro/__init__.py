"""The retro, without Streamlit: event windows and their baselines (windows, events), event vs
baseline and the event-relative hourly axis (comparison), the timeline of alerts / annotations /
disruptions (timeline), replay of the war room at a past minute (replay), stockouts, lost sales and
per-link scorecards (scorecards), the resilience ROI (roi), alert → first action and the lost sales actions avoided (response), the Parquet data pack and the HTML
report (export), and the plotly figures both the page and the report draw (figures).

Everything reads the stored history through named queries in queries/retro/ and queries/kpi/ with
bound parameters, and takes "now" from the caller (the runtime clock), so a retro computed later
shows the same numbers and replay can ask "as of 10:00". The KPI numbers of event vs baseline come
from one function, comparison.kpi_value."""
from tower import kpis
from tower.retro.comparison import (COUNT_COLUMNS, SERIES_COLUMNS, compare_kpis, compare_totals,
                                    kpi_value, relative_hours, relative_series, verdict)
from tower.retro.data import has_table
from tower.retro.events import (EVENT_COLUMNS, add_annotation, config_events, create_event,
                                list_events, new_event_id)
from tower.retro.export import PACK_TABLES, Section, data_pack, pack_frames, report_html
from tower.retro.figures import relative_figure, timeline_figure
from tower.retro.replay import REPLAY_KPIS, Replay, replay
from tower.retro.response import FIRST_ACTION_TARGET_MINUTES, action_response, response_totals
from tower.retro.roi import (RoiConfig, RoiConfigError, RoiInputs, RoiResult, load_config,
                             parse_config, roi, roi_inputs)
from tower.retro.scorecards import (DEFAULT_LOOKBACK_HOURS, LINK_TYPES, lost_sales_total,
                                    scorecards, stockouts)
from tower.retro.timeline import (AUDIT_COLUMNS, DEFAULT_ACK_TARGET_MINUTES, alert_timeline, annotations,
                                  audit_events, disruptions)
from tower.retro.windows import BASELINES, Window, baseline

__all__ = [
    "FIRST_ACTION_TARGET_MINUTES", "action_response", "response_totals",
    "AUDIT_COLUMNS", "BASELINES", "COUNT_COLUMNS", "DEFAULT_ACK_TARGET_MINUTES", "DEFAULT_LOOKBACK_HOURS",
    "EVENT_COLUMNS", "LINK_TYPES", "PACK_TABLES", "REPLAY_KPIS", "SERIES_COLUMNS", "Replay",
    "RoiConfig", "RoiConfigError", "RoiInputs", "RoiResult", "Section", "Window", "add_annotation",
    "alert_timeline", "annotations", "audit_events", "baseline", "compare_kpis", "compare_totals", "config_events",
    "create_event", "data_pack", "disruptions", "has_table", "kpi_value", "kpis", "list_events",
    "load_config", "lost_sales_total", "new_event_id", "pack_frames", "parse_config",
    "relative_figure", "relative_hours", "relative_series", "replay", "report_html", "roi",
    "roi_inputs", "scorecards", "stockouts", "timeline_figure", "verdict",
]
