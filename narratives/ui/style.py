"""How every page looks: the page set-up, a locally served icon, and the CSS for readability.

The page icon is a file in this package, never a ``:material/...:`` name: Streamlit turns those
into a favicon fetched from a font CDN, and nothing may leave the machine.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

ICON = Path(__file__).parent / "assets" / "icon.png"

# Streamlit fades captions and quotes with opacity to about 3.8:1 contrast; WCAG AA asks for 4.5:1.
READABLE_CSS = """<style>
[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] blockquote {
  color: #55534f !important; opacity: 1 !important;
}
</style>"""


def page_setup() -> None:
    """The first call of every script run: title, local icon, wide layout and the CSS."""
    from PIL import Image

    st.set_page_config(page_title="narratives explorer", page_icon=Image.open(ICON), layout="wide")
    st.markdown(READABLE_CSS, unsafe_allow_html=True)
