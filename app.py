"""Tower: the router and picture frame. Builds the runtime once, draws the shared frame (sidebar
filters, language switch, wall-screen/kiosk mode, live status strip with freshness and the
stale-data and red-alert banners), then runs the chosen page. Pages read data via
`tower.ui.frame.context()`."""

from pathlib import Path

import streamlit as st

from tower import foreground
from tower.ui import frame, i18n, kiosk, session, wall_access

# (section, file, url_path, icon). Titles come from the locale files (nav.<url_path>).
PAGES = [
    ("war_room", "pages/overview.py", "overview", ":material/dashboard:"),
    ("war_room", "pages/map.py", "map", ":material/public:"),
    ("war_room", "pages/alerts.py", "alerts", ":material/notifications_active:"),
    ("war_room", "pages/actions.py", "actions", ":material/bolt:"),
    ("supply", "pages/stock.py", "stock", ":material/inventory_2:"),
    ("supply", "pages/suppliers.py", "suppliers", ":material/factory:"),
    ("customers", "pages/customers.py", "customers", ":material/groups:"),
    ("analysis", "pages/retro.py", "retro", ":material/history:"),
    ("analysis", "pages/what_if.py", "what_if", ":material/science:"),
    ("analysis", "pages/glossary.py", "glossary", ":material/menu_book:"),
    ("analysis", "pages/sql_console.py", "sql_console", ":material/terminal:"),
    ("analysis", "pages/sources.py", "sources", ":material/sync:"),
    ("analysis", "pages/audit.py", "audit", ":material/policy:"),
    ("analysis", "pages/wall_links.py", "wall_links", ":material/tv:"),
]

# a bundled icon: a ":material/…:" page icon makes every browser fetch it from fonts.gstatic.com
ICON = Path(__file__).resolve().parent / "assets" / "tower_icon.png"
st.set_page_config(page_title="Tower", page_icon=str(ICON), layout="wide")
frame.start_runtime()  # on failure: a clear error panel, then st.stop()
state = frame.begin()  # decides who uses this run: a wall-screen link, a signed-in user or local mode
who = session.identity()
wall = who if who.via == "wall_token" else None

sections: dict[str, list] = {}
by_path: dict[str, st.Page] = {}
for section, file, url_path, icon in wall_access.visible_pages(PAGES, wall):
    page = st.Page(file, title=i18n.t(f"nav.{url_path}", state.lang), icon=icon, url_path=url_path,
                   default=not by_path)
    sections.setdefault(i18n.t(f"nav.section_{section}", state.lang), []).append(page)
    by_path[url_path] = page

nav = st.navigation(sections, position="hidden" if state.kiosk else "sidebar")
frame.follow_deep_link(by_path)
state = frame.sidebar(state, [(p, pg.title) for p, pg in by_path.items()])
frame.status_strip()
# the default page's url_path is "" in Streamlit, so name the current page by identity
current = next((name for name, page in by_path.items() if page is nav), nav.url_path)
try:
    frame.guard_page(current, state)  # a merchant user is refused platform-only pages in words
    with foreground.shared.drawing():  # background jobs start after it (tower.foreground)
        nav.run()
finally:
    # after the page, so a screen's time starts once it is drawn; in `finally` so a page that
    # stops early (st.stop on an empty state) or fails still hands over to the next screen
    kiosk.rotate(state, current, by_path, {**state.to_query(), **wall_access.carry()})
    wall_access.watch(state.refresh_s)  # live parts refresh as fragments: re-check the link too
