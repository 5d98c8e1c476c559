"""What the panel pages share: large, calm styling, quotes, page-by-page lists, theme labels."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TypeVar

import streamlit as st

from narratives.schema import Code

T = TypeVar("T")

LARGE_TEXT_CSS = """<style>
.stMainBlockContainer, .stMainBlockContainer p, .stMainBlockContainer label, .stMainBlockContainer li,
.stMainBlockContainer input, .stMainBlockContainer textarea { font-size: 1.25rem !important; line-height: 1.6; }
.stMainBlockContainer h1 { font-size: 2.2rem !important; }
.stMainBlockContainer h2 { font-size: 1.8rem !important; }
.stMainBlockContainer h3 { font-size: 1.5rem !important; }
</style>"""
QUOTE_CSS = """<style>
.panel-quote { border-left: 6px solid #1a4d8f; background: #f2f5fa; color: #111; padding: 0.6em 1em;
  margin: 0.5em 0; font-size: 1.2rem; }
*:focus-visible { outline: 3px solid #1a4d8f !important; outline-offset: 3px !important; }
</style>"""


def styles(large: bool = False) -> None:
    st.markdown(QUOTE_CSS + (LARGE_TEXT_CSS if large else ""), unsafe_allow_html=True)


def quote(text: str) -> None:
    st.markdown(f'<blockquote class="panel-quote">“{html.escape(text)}”</blockquote>', unsafe_allow_html=True)


def theme_label(code: Code) -> str:
    """ "Plain name (Codebook name)", so a searchable select finds the theme by either name."""
    if code.plain_name and code.plain_name != code.name:
        return f"{code.plain_name} ({code.name})"
    return code.name


def page_of(items: Sequence[T], per_page: int, key: str, noun: str = "items") -> Sequence[T]:
    """One page of ``items``; with more than ``per_page`` of them, a page chooser above the list."""
    if len(items) <= per_page:
        return items
    pages = (len(items) + per_page - 1) // per_page
    number = int(
        st.number_input(
            f"Page (of {pages}, {len(items)} {noun})", min_value=1, max_value=pages, value=1, step=1, key=key
        )
    )
    start = (number - 1) * per_page
    return items[start : start + per_page]
