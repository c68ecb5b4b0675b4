"""Sources page, Webhooks section (AppTest through app.py): per source the seconds since the last
verified webhook, the events loaded in the last hour and the refused signatures, as stored."""
from datetime import datetime, timedelta, timezone

from tests.ui_fixtures import build_db, open_app, sample_rows, tower_env  # noqa: F401


def webhook_rows(now: datetime) -> dict:
    rows = sample_rows(now)
    events = []
    for i in range(5):  # aftership: 5 loaded this hour, the latest received 30 s ago
        at = now - timedelta(seconds=30 + 60 * i)
        events.append({"source": "aftership", "delivery_id": f"e{i}", "topic": "tracking_update",
                       "received_at": at, "loaded_at": at + timedelta(milliseconds=200), "status": "loaded",
                       "error": None, "rows_mapped": 3, "deliveries": 1})
    events.append({"source": "aftership", "delivery_id": "old", "topic": "tracking_update",
                   "received_at": now - timedelta(hours=3), "loaded_at": now - timedelta(hours=3),
                   "status": "loaded", "error": None, "rows_mapped": 3, "deliveries": 1})
    rows["webhook_events"] = events
    rows["webhook_rejections"] = [{"source": "shopify", "rejected": 4, "last_rejected_at": now - timedelta(minutes=2),
                                   "last_reason": "wrong signature"}]
    return rows


def test_webhook_freshness_loaded_events_and_rejections_per_source(tower_env, tmp_path):
    now = datetime.now(timezone.utc)
    tower_env(build_db(tmp_path / "hooks.duckdb", webhook_rows(now)))
    at = open_app("pages/sources.py")
    assert not at.exception
    assert "Webhooks" in [h.value for h in at.subheader]
    table = at.dataframe[-1].value.set_index("Source")
    assert set(table.index) == {"aftership", "shopify"}
    last = table.loc["aftership", "Last webhook received"]
    assert last.endswith("s ago") and 30 <= int(last.split()[0]) < 90, last
    assert table.loc["aftership", "Events loaded (last hour)"] == 5      # the 3-hour-old one is not
    assert table.loc["aftership", "Rejected signatures"] == 0
    assert table.loc["shopify", "Rejected signatures"] == 4
    assert table.loc["shopify", "Last webhook received"] == "never"


def test_without_webhooks_the_section_says_so(tower_env, tmp_path):
    tower_env(build_db(tmp_path / "plain.duckdb", sample_rows(datetime.now(timezone.utc))))
    at = open_app("pages/sources.py")
    assert not at.exception
    assert any(i.value == "No webhook received yet." for i in at.info)
    at = open_app("pages/sources.py", lang="zh")
    assert any(i.value == "尚未收到任何签名推送。" for i in at.info)
