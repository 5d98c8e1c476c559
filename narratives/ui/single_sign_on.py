"""Single sign-on through Streamlit's OIDC support (``st.login``), with the project's own roles.

Configured in the project's ``secrets.toml`` (``[auth]``: ``redirect_uri``, ``cookie_secret``,
``client_id``, ``client_secret``, ``server_metadata_url``), which `narratives serve` hands to
Streamlit. The identity provider vouches for an e-mail address; the project gives it a role only
when an account of that name exists (`narratives users add PROJECT EMAIL --role ... --sso`). Then
a project login session starts, as after a password login, with the same expiry and audit.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from narratives.auth.accounts import single_sign_on
from narratives.auth.sessions import start_session
from narratives.errors import NarrativesError
from narratives.store.project import Project

REFUSED_KEY = "sso_refused"  # why a signed-in identity got no role, for the login page


def configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all (StreamlitSecretNotFoundError)
        return False


def _identity() -> Any:
    user = getattr(st, "user", None)
    return user if user is not None and getattr(user, "is_logged_in", False) else None


def signed_in() -> bool:
    return configured() and _identity() is not None


def session_from_identity(project: Project) -> str | None:
    """A project login session for the identity provider's signed-in user, or None (recording
    why in the session, for the login page, when the identity has no role here)."""
    if not configured():
        return None
    identity = _identity()
    if identity is None:
        return None
    email = identity.get("email")
    if not email or identity.get("email_verified") is False:
        st.session_state[REFUSED_KEY] = "the identity provider gave no verified e-mail address."
        return None
    with project.begin() as connection:
        outcome = single_sign_on(connection, str(email), client=st.context.ip_address or "unknown")
        token = None if isinstance(outcome, NarrativesError) else start_session(connection, outcome)
    if token is None:
        st.session_state[REFUSED_KEY] = str(outcome)
    return token


def login_section() -> None:
    """The login page's single sign-on part: the button, or why a sign-in got no role."""
    if not configured():
        return
    refused = st.session_state.get(REFUSED_KEY)
    if refused and _identity() is not None:
        st.error(refused)
        if st.button("Sign out of single sign-on", key="sso_logout"):
            st.session_state.pop(REFUSED_KEY, None)
            st.logout()
        return
    if st.button("Log in with single sign-on", key="sso_login", type="primary"):
        st.login()


def sign_out() -> None:
    """End the identity provider's sign-in too, when there is one (after the project's session)."""
    if signed_in():
        st.logout()
