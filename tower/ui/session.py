"""Who is using this browser session: `identity()` is the tower.auth.policy.Identity every page
passes to the domain functions that check it (the check itself is on the server, in the domain).

Local mode (no [auth] configured, loopback only) is one local admin."""
from __future__ import annotations

import streamlit as st

from tower.auth import policy

IDENTITY_KEY = "tower.identity"   # set once per run by the sign-in code (or by a test)


def identity() -> policy.Identity:
    return st.session_state.get(IDENTITY_KEY) or policy.local_admin()
