"""The team server's login page, logging out, and the session cookie.

The session token is set as a ``SameSite=Strict`` cookie by a script in the page (Streamlit has no
server-side way to set one); on a reload Streamlit hands the cookie back in ``st.context.cookies``
and :func:`narratives.ui.common.viewer` checks it against the database on every script run. Logging
out revokes the session in the database first, so a copied cookie stops working at once.
"""

from __future__ import annotations

import json

import streamlit as st

from narratives.auth.accounts import attempt_login
from narratives.auth.sessions import COOKIE_NAME, MAX_AGE, end_session, start_session
from narratives.errors import NarrativesError
from narratives.ui import common

PENDING_COOKIE_KEY = "pending_cookie"  # a token to write into the cookie on this run, or ""


def _cookie_script(token: str, max_age: int) -> str:
    value = json.dumps(token)
    return (
        "<script>(function(){const secure = location.protocol === 'https:' ? '; Secure' : '';"
        f"document.cookie = '{COOKIE_NAME}=' + encodeURIComponent({value}) + "
        f"'; Path=/; Max-Age={max_age}; SameSite=Strict' + secure;}})();</script>"
    )


def set_cookie_if_pending() -> None:
    """Write (or clear) the session cookie asked for by the last login or logout."""
    pending = st.session_state.pop(PENDING_COOKIE_KEY, None)
    if pending is None:
        return
    max_age = int(MAX_AGE.total_seconds()) if pending else 0
    st.html(_cookie_script(pending, max_age), unsafe_allow_javascript=True)


def render() -> None:
    """Log in (or, with ``?invite=CODE``, accept a panel invitation)."""
    project = common.current_project()
    if project is None:
        common.require_project()
        return
    set_cookie_if_pending()
    invite = st.query_params.get("invite")
    if invite:
        from narratives.ui import invitation

        invitation.render(project, invite)
        return
    st.title("Log in")
    if st.session_state.pop("logged_out", False):
        st.success("You are logged out.")
    with st.form("login_form"):
        name = st.text_input("Name", key="login_name", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="login_password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Log in", type="primary")
    st.caption("No account? Ask the study's admin; panel members use the link in their invitation.")
    if not submitted:
        return
    client = st.context.ip_address or "unknown"
    with project.begin() as connection:
        outcome = attempt_login(connection, name, password, client=client)
        token = None if isinstance(outcome, NarrativesError) else start_session(connection, outcome)
    if token is None:
        st.error(str(outcome))
        return
    log_in(token)


def log_in(token: str) -> None:
    """Keep the new session's token and set the cookie on the next run."""
    st.session_state[common.TOKEN_KEY] = token
    st.session_state[PENDING_COOKIE_KEY] = token
    st.rerun()


def logout_button() -> None:
    if not st.button("Log out", key="logout"):
        return
    project = common.current_project()
    token = st.session_state.get(common.TOKEN_KEY)
    if project is not None:
        with project.begin() as connection:
            end_session(connection, token)
    for key in list(st.session_state):
        if key not in (common.PROJECT_KEY, common.MODE_KEY, common.LOCAL_USER_KEY):
            del st.session_state[key]
    st.session_state[PENDING_COOKIE_KEY] = ""
    st.session_state["logged_out"] = True
    st.rerun()
