"""The team server's session cookie, written and cleared by a script in the page.

Streamlit has no server-side way to set a cookie, so the token is written as a ``SameSite=Strict``
cookie (``Secure`` under HTTPS) by a one-off script; on a reload Streamlit hands it back in
``st.context.cookies``. Logging out revokes the session in the database first, so a copied
cookie stops working at once whatever the browser keeps.
"""

from __future__ import annotations

import json

import streamlit as st

from narratives.auth.sessions import COOKIE_NAME, MAX_AGE

PENDING_COOKIE_KEY = "pending_cookie"  # a token to write into the cookie on this run, or "" to clear


def cookie_script(token: str, max_age: int) -> str:
    value = json.dumps(token)
    return (
        "<script>(function(){const secure = location.protocol === 'https:' ? '; Secure' : '';"
        f"document.cookie = '{COOKIE_NAME}=' + encodeURIComponent({value}) + "
        f"'; Path=/; Max-Age={max_age}; SameSite=Strict' + secure;}})();</script>"
    )


def ask_for_cookie(token: str) -> None:
    """Write ``token`` into the cookie on the next run ("" clears it)."""
    st.session_state[PENDING_COOKIE_KEY] = token


def set_cookie_if_pending() -> None:
    """Write (or clear) the session cookie asked for by the last login or logout."""
    pending = st.session_state.pop(PENDING_COOKIE_KEY, None)
    if pending is None:
        return
    max_age = int(MAX_AGE.total_seconds()) if pending else 0
    st.html(cookie_script(pending, max_age), unsafe_allow_javascript=True)
