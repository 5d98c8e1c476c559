"""What every page of the explorer shares: the project, who is acting, the codebook, writes, caches.

``st.session_state`` holds only ids and selections (project path, reviewer name, role, codebook
name). The project's engine is a ``st.cache_resource``; derived tables are ``st.cache_data`` keyed on
the project path and :func:`data_version`, which changes with every write, so a write invalidates
them without anyone remembering to. Every write runs in one transaction through the library and
the page says it is done only after the commit.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy import Connection

from narratives.errors import NarrativesError
from narratives.store.codebooks import codebook_names
from narratives.store.project import CONFIG_NAME, Project, open_project
from narratives.store.status import data_version as _data_version

PROJECT_ENV = "NARRATIVES_PROJECT"
PAGES_DIR = Path(__file__).parent / "pages"
ROLES = ("Researcher", "Panel member")
T = TypeVar("T")

# session_state keys (ids and selections only)
PROJECT_KEY = "project_path"
USER_KEY = "user_name"
ROLE_KEY = "user_role"
CODEBOOK_KEY = "codebook_name"


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    url_path: str
    panel: bool = False  # shown to panel members


PAGES = (
    PageSpec("overview.py", "Overview", ":material/dashboard:", "overview"),
    PageSpec("review.py", "Review queue", ":material/fact_check:", "review"),
    PageSpec("documents.py", "Documents", ":material/description:", "documents"),
    PageSpec("codebook.py", "Codebook", ":material/account_tree:", "codebook"),
    PageSpec("discover.py", "Discover", ":material/explore:", "discover"),
    PageSpec("panel.py", "Panel", ":material/groups:", "panel", panel=True),
    PageSpec("audit.py", "Audit", ":material/history:", "audit"),
)


def project_path_from(argv: Sequence[str], environ: dict[str, str] | os._Environ[str]) -> str | None:
    """``--project PATH`` after ``streamlit run app.py --``, else ``$NARRATIVES_PROJECT``."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--project")
    known, _ = parser.parse_known_args(list(argv))
    return known.project or environ.get(PROJECT_ENV) or None


# Streamlit fades captions and quotes with opacity to about 3.8:1 contrast; WCAG AA asks for 4.5:1.
READABLE_CSS = """<style>
[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] blockquote {
  color: #55534f !important; opacity: 1 !important;
}
</style>"""


def navigation(argv: Sequence[str]) -> Any:
    """The sidebar (project, name, role, codebook) and the pages this role may see."""
    st.set_page_config(page_title="narratives explorer", page_icon=":material/forum:", layout="wide")
    st.markdown(READABLE_CSS, unsafe_allow_html=True)
    if PROJECT_KEY not in st.session_state:
        st.session_state[PROJECT_KEY] = project_path_from(argv, os.environ)
    _sidebar()
    role = st.session_state.get(ROLE_KEY, ROLES[0])
    specs = [p for p in PAGES if p.panel] if role == "Panel member" else list(PAGES)
    pages = [
        st.Page(PAGES_DIR / spec.file, title=spec.title, icon=spec.icon, url_path=spec.url_path)
        for spec in specs
    ]
    return st.navigation(pages)


def _sidebar() -> None:
    with st.sidebar:
        st.text_input(
            "Your name",
            key=USER_KEY,
            help="Every review, edit and panel answer is recorded under this name.",
            placeholder="e.g. Ana",
        )
        st.selectbox("Role", ROLES, key=ROLE_KEY, help="Panel members see the Panel page only.")
        project = current_project()
        if project is None:
            return
        names = _codebook_names(str(project.path), data_version(project))
        if names:
            if st.session_state.get(CODEBOOK_KEY) not in names:
                st.session_state[CODEBOOK_KEY] = names[0]
            st.selectbox("Codebook", names, key=CODEBOOK_KEY)
        st.caption(f"Project: {project.path}")


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
    name = (st.session_state.get(USER_KEY) or "").strip()
    return name or None


def need_user_notice() -> None:
    st.warning("Enter your name in the sidebar first: every change is recorded under it.")


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
    if done:
        st.toast(done)
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


@st.cache_resource(show_spinner=False)
def embedder(name: str | None) -> Any:
    """The embedding model, loaded once per process."""
    from narratives.embed import load_embedder

    return load_embedder(name)


def retrain(project: Project, codebook: str, user: str) -> Any:
    """Retrain the learned coder on the reviews so far and recode (the runner's ``code_project``)."""
    from narratives.coding.runner import code_project
    from narratives.store.codebooks import current_codebook
    from narratives.store.coding_runs import last_model

    try:
        with project.connect() as connection:
            book = current_codebook(connection, codebook)
            model = last_model(connection, codebook)
        return code_project(project, book, embedder=embedder(model), user=user)
    except NarrativesError as error:
        st.error(str(error))
        return None
