"""The team server's login page (or, with ``?invite=CODE``, joining a panel round)."""

from __future__ import annotations

import streamlit as st

from narratives.auth.accounts import attempt_login
from narratives.auth.sessions import start_session
from narratives.errors import NarrativesError
from narratives.ui import common, invitation, single_sign_on
from narratives.ui.session_cookie import set_cookie_if_pending


def render() -> None:
    project = common.current_project()
    if project is None:
        common.require_project()
        return
    set_cookie_if_pending()
    invite = st.query_params.get("invite")
    if invite:
        invitation.render(project, invite, common.log_in)
        return
    st.title("Log in")
    if st.session_state.pop(common.LOGGED_OUT_KEY, False):
        st.success("You are logged out.")
    with st.form("login_form"):
        name = st.text_input("Name", key="login_name", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="login_password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Log in", type="primary")
    st.caption("No account? Ask the study's admin; panel members use the link in their invitation.")
    single_sign_on.login_section()
    if not submitted:
        return
    client = st.context.ip_address or "unknown"
    with project.begin() as connection:  # a failure is recorded, and committed, like a success
        outcome = attempt_login(connection, name, password, client=client)
        token = None if isinstance(outcome, NarrativesError) else start_session(connection, outcome)
    if token is None:
        st.error(str(outcome))
        return
    common.log_in(token)


render()
