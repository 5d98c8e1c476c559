"""What every page of the explorer shares: the project, who is acting, the codebook, writes, caches.

``st.session_state`` holds only ids and selections (project path, reviewer name, role, codebook
name). The project's engine is a ``st.cache_resource``; derived tables are ``st.cache_data`` keyed on
the project path and :func:`data_version`, which changes with every write, so a write invalidates
them without anyone remembering to. Every write runs in one transaction through the library and
the page says it is done only after the commit.
"""

from __future__ import annotations

import argparse
import html
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import streamlit as st
from sqlalchemy import Connection

from narratives.errors import NarrativesError
from narratives.kinds import Role
from narratives.store.codebooks import codebook_names
from narratives.store.project import CONFIG_NAME, Project, open_project
from narratives.store.status import data_version as _data_version
from narratives.ui import style
from narratives.ui.session_cookie import ask_for_cookie, set_cookie_if_pending

PROJECT_ENV = "NARRATIVES_PROJECT"
USER_ENV = "NARRATIVES_USER"
PAGES_DIR = Path(__file__).parent / "pages"
T = TypeVar("T")

# session_state keys (ids and selections only)
PROJECT_KEY = "project_path"
MODE_KEY = "explorer_mode"  # "local" (narratives explore) or "login" (narratives serve)
LOCAL_USER_KEY = "local_user"
VIEWER_KEY = "viewer"
TOKEN_KEY = "session_token"
CODEBOOK_KEY = "codebook_name"
LOGGED_OUT_KEY = "logged_out"


@dataclass(frozen=True)
class Viewer:
    """Who is using this browser session: from the login, or the local researcher of `explore`."""

    name: str
    role: Role
    logged_in: bool

    @property
    def is_panel(self) -> bool:
        return self.role is Role.panel

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    url_path: str


RESEARCHER_PAGES = (
    PageSpec("overview.py", "Overview", ":material/dashboard:", "overview"),
    PageSpec("review.py", "Review queue", ":material/fact_check:", "review"),
    PageSpec("documents.py", "Documents", ":material/description:", "documents"),
    PageSpec("search.py", "Search", ":material/search:", "search"),
    PageSpec("codebook.py", "Codebook", ":material/account_tree:", "codebook"),
    PageSpec("discover.py", "Discover", ":material/explore:", "discover"),
    PageSpec("analysis.py", "Analysis", ":material/bar_chart:", "analysis"),
    PageSpec("agreement.py", "Agreement", ":material/handshake:", "agreement"),
    PageSpec("panel.py", "Panel", ":material/groups:", "panel"),
    PageSpec("audit.py", "Audit", ":material/history:", "audit"),
)
PANEL_PAGE = PageSpec("panel_view.py", "What we heard", ":material/forum:", "panel-view")


@dataclass(frozen=True)
class AppArguments:
    project: str | None
    login: bool
    user: str | None


def app_arguments(argv: Sequence[str], environ: dict[str, str] | os._Environ[str]) -> AppArguments:
    """``--project PATH [--login] [--user NAME]`` after ``streamlit run app.py --``."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--project")
    parser.add_argument("--login", action="store_true")
    parser.add_argument("--user")
    known, _ = parser.parse_known_args(list(argv))
    return AppArguments(
        project=known.project or environ.get(PROJECT_ENV) or None,
        login=bool(known.login),
        user=known.user or environ.get(USER_ENV) or None,
    )


def local_user_name(arguments: AppArguments) -> str:
    if arguments.user:
        return arguments.user
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "researcher"


def navigation(argv: Sequence[str]) -> Any:
    """Who is here (login or local researcher), the sidebar, and the pages this role may see."""
    style.page_setup()
    if PROJECT_KEY not in st.session_state:
        arguments = app_arguments(argv, os.environ)
        st.session_state[PROJECT_KEY] = arguments.project
        st.session_state[MODE_KEY] = "login" if arguments.login else "local"
        st.session_state[LOCAL_USER_KEY] = local_user_name(arguments)
    person = viewer()
    if person is None:  # the team server, nobody logged in: the login page is all there is
        login = st.Page(PAGES_DIR / "login.py", title="Log in", url_path="login")
        return st.navigation([login], position="hidden")
    _sidebar(person)
    specs = [PANEL_PAGE] if person.is_panel else list(RESEARCHER_PAGES)
    pages = [
        st.Page(PAGES_DIR / spec.file, title=spec.title, icon=spec.icon, url_path=spec.url_path)
        for spec in specs
    ]
    if person.is_panel:  # one page, no page list in the sidebar
        return st.navigation(pages, position="hidden")
    return st.navigation(pages, position="sidebar")


def login_required() -> bool:
    return st.session_state.get(MODE_KEY) == "login"


RECHECK_SECONDS = 5.0  # how long a checked login is trusted before the database is asked again


def viewer() -> Viewer | None:
    """The person using this session. On the team server the login session is checked against
    the database at most every few seconds, so a logout elsewhere, an expiry, a password reset or
    a removal takes effect within them."""
    if not login_required():
        return Viewer(st.session_state.get(LOCAL_USER_KEY) or "researcher", Role.researcher, logged_in=False)
    token = st.session_state.get(TOKEN_KEY) or _cookie_token() or _single_sign_on_token()
    if not token:
        return None
    cached = st.session_state.get(VIEWER_KEY)
    if cached is not None and cached[0] == token and time.monotonic() - cached[1] < RECHECK_SECONDS:
        return cast(Viewer, cached[2])
    from narratives.auth.sessions import session_account

    project = current_project()
    if project is None:
        return None
    with project.begin() as connection:
        account = session_account(connection, token)
    if account is None:
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state.pop(VIEWER_KEY, None)
        return None
    person = Viewer(account.name, account.role, logged_in=True)
    st.session_state[TOKEN_KEY] = token
    st.session_state[VIEWER_KEY] = (token, time.monotonic(), person)
    return person


def _single_sign_on_token() -> str | None:
    """A new login session for someone signed in through single sign-on, when configured."""
    from narratives.ui import single_sign_on

    project = current_project()
    if project is None or st.session_state.get(single_sign_on.REFUSED_KEY):
        return None  # refused once in this session: not again (and not recorded again) on every run
    if st.session_state.get(LOGGED_OUT_KEY):
        return None  # this session just logged out: not straight back in
    if not single_sign_on.signed_in():
        return None
    token = single_sign_on.session_from_identity(project)
    if token is not None:
        st.session_state[TOKEN_KEY] = token
        ask_for_cookie(token)
    return token


def _cookie_token() -> str | None:
    from narratives.auth.sessions import COOKIE_NAME

    return st.context.cookies.get(COOKIE_NAME)


def _sidebar(person: Viewer) -> None:
    with st.sidebar:
        label = {Role.admin: "admin", Role.researcher: "researcher", Role.panel: "panel member"}[person.role]
        st.markdown(f"Signed in as **{html.escape(person.name)}** ({label})")
        if person.logged_in:
            _logout_button()
        set_cookie_if_pending()
        if person.is_panel:
            return
        project = current_project()
        if project is None:
            return
        names = _codebook_names(str(project.path), data_version(project))
        if names:
            if st.session_state.get(CODEBOOK_KEY) not in names:
                st.session_state[CODEBOOK_KEY] = names[0]
            st.selectbox("Codebook", names, key=CODEBOOK_KEY)
        st.caption(f"Project: {project.path.name}")


def log_in(token: str) -> None:
    """Keep a new login session's token, write the cookie on the next run, and show the app."""
    st.session_state[TOKEN_KEY] = token
    ask_for_cookie(token)
    st.rerun()


def _logout_button() -> None:
    if not st.button("Log out", key="logout"):
        return
    from narratives.auth.sessions import end_session

    project = current_project()
    if project is not None:
        with project.begin() as connection:
            end_session(connection, st.session_state.get(TOKEN_KEY))
    for key in list(st.session_state):
        if key not in (PROJECT_KEY, MODE_KEY, LOCAL_USER_KEY):
            del st.session_state[key]
    ask_for_cookie("")
    st.session_state[LOGGED_OUT_KEY] = True
    from narratives.ui import single_sign_on

    if single_sign_on.signed_in():
        # Streamlit sends the browser to its logout endpoint (a new session follows); a rerun
        # here could drop that redirect and leave the identity signed in.
        set_cookie_if_pending()
        single_sign_on.sign_out()
        st.stop()
    st.rerun()


def require_researcher() -> Viewer:
    """Stop any page that is not for panel members when a panel member (or nobody) reaches it."""
    person = viewer()
    if person is None or person.is_panel:
        st.title("Not available")
        st.error("This page is for the research team.", icon=":material/block:")
        st.stop()
    return person


# ------------------------------------------------------------------------------------ the project


@st.cache_resource(show_spinner=False)
def _open(path: str) -> Project:
    return open_project(path)


def current_project() -> Project | None:
    path = st.session_state.get(PROJECT_KEY)
    if not path or not (Path(path) / CONFIG_NAME).exists():
        return None
    return _open(str(Path(path).resolve()))


def require_project() -> Project:
    """The open project, or an empty state that says how to make one (and stop the page)."""
    project = current_project()
    if project is None:
        path = st.session_state.get(PROJECT_KEY)
        st.title("No project open")
        if path:
            st.error(f"There is no narratives project at {path}.")
        st.info(
            "Create a project and open it in the explorer:\n\n"
            "```\nnarratives init my-project\nnarratives ingest my-project corpus/*.md --kind blog\n"
            "narratives explore my-project\n```\n\n"
            f"or set the environment variable `{PROJECT_ENV}` to the project folder."
        )
        st.stop()
    return project


def project_by_path(path: str) -> Project:
    """For cached functions, which take the path (hashable) rather than the project."""
    return _open(path)


def data_version(project: Project) -> str:
    with project.connect() as connection:
        return _data_version(connection)


@st.cache_data(show_spinner=False)
def _codebook_names(path: str, version: str) -> list[str]:
    with project_by_path(path).connect() as connection:
        return codebook_names(connection)


def require_codebook(project: Project) -> str:
    name = st.session_state.get(CODEBOOK_KEY)
    names = _codebook_names(str(project.path), data_version(project))
    if not names:
        st.info(
            "This project has no codebook yet. Load one and code the project with:\n\n"
            f"```\nnarratives code {project.path} --codebook models/codebooks/YOUR-CODEBOOK.yaml\n```"
        )
        st.stop()
    return name if name in names else names[0]


def acting_user() -> str | None:
    """The name every write of this session is recorded under (the login's, or the local user's)."""
    person = viewer()
    return None if person is None else person.name


def need_user_notice() -> None:
    st.warning("You are not signed in: log in again to make changes.")


# ------------------------------------------------------------------------------------------ writes


def write(project: Project, action: Callable[[Connection], T], done: str | None = None) -> T | None:
    """Run ``action`` in one transaction; say ``done`` only after it committed. Errors a user can
    act on are shown, not raised."""
    try:
        with project.begin() as connection:
            result = action(connection)
    except NarrativesError as error:
        st.error(str(error))
        return None
    if done:  # shown by show_flash() after the rerun (a toast, an unnamed dialog to axe, is not)
        st.session_state["flash"] = done
    return result


def show_flash() -> None:
    """The last write's confirmation, shown once after the rerun that follows it."""
    message = st.session_state.pop("flash", None)
    if message:
        st.success(message)


def read(project: Project, action: Callable[[Connection], T]) -> T:
    with project.connect() as connection:
        return action(connection)


# ----------------------------------------------------------------------------------------- models


def embedder(name: str | None, project: Project | None = None) -> Any:
    """The embedding model ``name``, else the one ``project`` (the open project) chose, else the
    bundled MiniLM; each loaded once per process."""
    if name is None:
        from narratives.models_local import project_model

        project = project or current_project()
        name = project_model(project, None) if project is not None else None
    return _embedder(name)


@st.cache_resource(show_spinner=False)
def _embedder(name: str | None) -> Any:
    from narratives.embed import load_embedder

    return load_embedder(name)


def retrain(project: Project, codebook: str, user: str) -> Any:
    """Retrain the learned coder on the reviews so far and recode (the runner's ``code_project``).

    The review page runs this in a worker thread (:mod:`narratives.ui.background`): it reports the
    runner's progress to that job and raises errors for the job to record and show."""
    from narratives.coding.config import CodingConfig
    from narratives.coding.llm.settings import project_llm
    from narratives.coding.runner import code_project
    from narratives.models_local import project_model
    from narratives.store.codebooks import current_codebook
    from narratives.store.coding_runs import last_model
    from narratives.ui.background import progress_reporter

    with project.connect() as connection:
        book = current_codebook(connection, codebook)
        model = project_model(connection, None, fallback=last_model(connection, codebook))
    config = CodingConfig(model=model, llm=project_llm(project))  # as `narratives code` codes it
    return code_project(
        project,
        book,
        embedder=embedder(model, project),
        user=user,
        config=config,
        progress=progress_reporter(),
    )


def score_sentiment(project: Project, user: str) -> Any:
    """Label every segment's sentiment with the project's model (`narratives sentiment`'s library call)."""
    from narratives.coding.sentiment_run import score_sentiment as score

    return score(project, embedder(None, project), user=user)


def fine_tune_and_retrain(project: Project, codebook: str, user: str) -> tuple[Any, Any]:
    """Fine-tune the embedder on the reviews (:func:`~narratives.coding.fine_tune_run.fine_tune_project`),
    which makes it the project's model, then retrain and recode with it; returns both results.
    Runs in a worker thread, as :func:`retrain` does."""
    from narratives.coding.fine_tune_run import fine_tune_project
    from narratives.store.codebooks import current_codebook
    from narratives.ui.background import progress_reporter

    report = progress_reporter()
    with project.connect() as connection:
        book = current_codebook(connection, codebook)
    made = fine_tune_project(
        project,
        book,
        progress=(lambda done, total: report("fine-tuning the embedder", done, total)) if report else None,
    )
    return made, retrain(project, codebook, user)
