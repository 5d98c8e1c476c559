"""Accepting a panel invitation: choose a name and a password, and you are in."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from narratives.auth.invitations import accept_invitation, invitation_round
from narratives.auth.sessions import start_session
from narratives.errors import NarrativesError
from narratives.store.project import Project


def render(project: Project, code: str, log_in: Callable[[str], None]) -> None:
    """``log_in`` keeps the new member's session token (the login page's, passed in)."""
    st.title("Join the panel")
    try:
        with project.connect() as connection:
            invitation_round(connection, code)
    except NarrativesError as error:
        st.error(str(error))
        return
    st.markdown(
        "Thank you for taking part. Choose a name to be known by here (it can be made up) and a "
        "password of at least 10 characters. You will use them to come back later."
    )
    with st.form("invitation_form"):
        name = st.text_input("Name", key="invite_name", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="invite_password", autocomplete="new-password"
        )
        again = st.text_input(
            "Password again", type="password", key="invite_again", autocomplete="new-password"
        )
        submitted = st.form_submit_button("Join", type="primary")
    if not submitted:
        return
    if password != again:
        st.error("The two passwords are not the same.")
        return
    try:
        with project.begin() as connection:
            account = accept_invitation(connection, code, name, password)
            token = start_session(connection, account)
    except NarrativesError as error:
        st.error(str(error))
        return
    st.query_params.clear()
    log_in(token)
