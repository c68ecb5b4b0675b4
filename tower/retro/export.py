"""Retro exports: a Parquet data pack of the event's rows (zip + manifest) and a self-contained
HTML report. Tables reach the report already labelled and formatted by the page (tower.ui.retro_tables),
in the viewer's language; the report only lays them out."""
from __future__ import annotations

import html
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from tower.clock import utc
from tower.retro.data import has_table, run
from tower.retro.timeline import annotations
from tower.retro.windows import Window

# every fact table (each queries/retro/pack_<table>.sql cuts it to the window), the dimensions
# they refer to, and the war room's own record (alerts, their log, annotations)
SYNCED_TABLES = ("orders", "order_lines", "shipments", "tracking_events", "stock_observations",
                 "returns", "nps_responses", "csat_responses", "forecasts", "purchase_orders",
                 "po_progress", "events", "stock_policies", "fx_rates", "skus", "warehouses",
                 "suppliers", "merchants", "nodes")
PACK_TABLES = (*SYNCED_TABLES, "alerts", "alert_log", "annotations")


def pack_frames(db, window: Window, params: dict) -> dict[str, pd.DataFrame]:
    """The tables of the data pack for `window` (see the queries/retro/pack_*.sql headers).
    Alert tables are empty frames when the alerts migration is absent."""
    bounds = window.params(params)
    frames = {name: run(db, f"retro/pack_{name}", bounds) for name in SYNCED_TABLES}
    frames["annotations"] = annotations(db, window, window.event_id)
    if has_table(db, "alerts"):
        frames["alerts"] = run(db, "retro/pack_alerts", bounds)
        frames["alert_log"] = run(db, "retro/alert_log", bounds)
    else:
        frames["alerts"], frames["alert_log"] = pd.DataFrame(), pd.DataFrame()
    return {name: frames[name] for name in PACK_TABLES}


def data_pack(db, window: Window, params: dict, now: datetime) -> bytes:
    """A zip of one Parquet file per table (PACK_TABLES) plus manifest.json (window, filters,
    generated_at, row counts per table), built in memory: nothing is written to disk, so it works
    on the hardened live database too. Load it back with DuckDB's read_parquet."""
    frames = pack_frames(db, window, params)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, frame in frames.items():
            zf.writestr(f"{name}.parquet", _parquet(frame))
        manifest = {
            "kind": "tower-retro-data-pack",
            "event_id": window.event_id,
            "label": window.label,
            "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
            "filters": {k: params.get(k) for k in ("merchant", "channel", "market")},
            "generated_at": utc(now).isoformat(),
            "tables": {name: {"file": f"{name}.parquet", "rows": len(frame)}
                       for name, frame in frames.items()},
        }
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
    return buf.getvalue()


def _parquet(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


@dataclass(frozen=True)
class Section:
    """One block of the HTML report: a heading, optional text, a Plotly figure and/or a table."""
    title: str
    text: str = ""
    figure: object | None = None        # plotly.graph_objects.Figure
    table: pd.DataFrame | None = None


def report_html(title: str, subtitle: str, sections: list[Section], lang: str = "en") -> str:
    """A self-contained HTML report: plotly.js is inlined once (no CDN, no fonts or scripts from the
    network), so the file opens offline and can be mailed around. Text and cells are escaped."""
    parts, js_included = [], False
    for s in sections:
        block = [f"<section><h2>{html.escape(s.title)}</h2>"]
        if s.text:
            block.append(f"<p>{html.escape(s.text)}</p>")
        if s.figure is not None:
            block.append(s.figure.to_html(full_html=False, include_plotlyjs=not js_included,
                                          include_mathjax=False, config={"displaylogo": False}))
            js_included = True
        if s.table is not None:
            # tables arrive labelled and formatted; a stray float still gets thousands separators
            block.append(s.table.to_html(index=False, escape=True, na_rep="—", border=0,
                                         float_format=lambda v: f"{v:,.2f}",
                                         classes="tbl") if len(s.table) else "<p>—</p>")
        block.append("</section>")
        parts.append("\n".join(block))
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #1b1f24; padding: 0 1rem; }}
h1 {{ margin-bottom: .2rem; }} .sub {{ color: #5b6573; margin-top: 0; }}
section {{ margin: 2rem 0; }} table.tbl {{ border-collapse: collapse; font-size: .9rem; width: 100%; }}
table.tbl th, table.tbl td {{ border-bottom: 1px solid #e3e7ec; padding: .3rem .5rem; text-align: left; }}
</style></head><body>
<h1>{html.escape(title)}</h1><p class="sub">{html.escape(subtitle)}</p>
{''.join(parts)}
</body></html>"""


