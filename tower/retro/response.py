"""The war room's response to each alert (issue 13): alert → first action sent against the seeds'
1-hour target, and the lost sales the actions avoided. Both figures come from one query,
queries/retro/action_response.sql; this module only hands it the stockout episodes the retro
already estimates (tower.retro.scorecards.stockouts), so "lost units observed" has one definition.

Avoided lost sales, per alert acted on (the method, also in the glossary):
  expected lost units = units/hour at the action × hours from the projected stockout (the action's
      proposal time + its diagnosis' hours to stockout) to the end of the event;
  avoided units = expected lost units − lost units observed (the stockout episodes of that SKU in
      the alert's market or warehouse), never below 0;
  avoided sales = avoided units × the SKU's unit price.
It is an estimate: it assumes the pace at the action would have held until the event ended."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

import queries
from tower.clock import utc
from tower.retro.data import has_table
from tower.retro.scorecards import DEFAULT_LOOKBACK_HOURS, stockouts
from tower.retro.windows import Window

FIRST_ACTION_TARGET_MINUTES = 60.0   # the seeds: "the response starts within the hour"
OBSERVED = "observed_episodes"       # the relation action_response.sql reads the episodes from
OBSERVED_COLUMNS = ["sku", "warehouse_id", "market", "lost_units"]


def action_response(db, window: Window, now: datetime,
                    target_minutes: float = FIRST_ACTION_TARGET_MINUTES,
                    lookback_hours: float = DEFAULT_LOOKBACK_HOURS,
                    episodes: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """One row per alert opened in the window (queries/retro/action_response.sql); None when the
    database has no alerts or no action log (an older file)."""
    if not (has_table(db, "alerts") and has_table(db, "actions")):
        return None
    if episodes is None:
        episodes = stockouts(db, window, {"now": utc(now)}, lookback_hours)
    observed = (episodes[OBSERVED_COLUMNS] if not episodes.empty
                else pd.DataFrame({c: pd.Series(dtype="float64" if c == "lost_units" else "object")
                                   for c in OBSERVED_COLUMNS}))
    params = {"start": window.start, "end": window.end, "now": utc(now),
              "target_minutes": float(target_minutes)}
    with db.cursor() as cur:
        cur.register(OBSERVED, observed)
        try:
            return cur.execute(queries.load("retro/action_response"), params).df()
        finally:
            cur.unregister(OBSERVED)


def response_totals(rows: pd.DataFrame | None) -> dict:
    """Headline figures: alerts acted on, share within the target, median minutes, avoided sales."""
    if rows is None or rows.empty:
        return {"alerts": 0, "acted": 0, "on_target_share": None, "median_minutes": None,
                "avoided_units": 0.0, "avoided_sales": 0.0}
    judged = rows["on_target"].dropna()
    counted = rows[rows["counted"].fillna(False).astype(bool)]
    minutes = rows["minutes_to_first_action"].dropna()
    return {"alerts": len(rows), "acted": int(rows["first_action_at"].notna().sum()),
            "on_target_share": float(judged.astype(bool).mean()) if len(judged) else None,
            "median_minutes": float(minutes.median()) if len(minutes) else None,
            "avoided_units": float(counted["avoided_units"].fillna(0).sum()),
            "avoided_sales": float(counted["avoided_sales"].fillna(0).sum())}
