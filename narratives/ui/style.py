"""How every page looks: the page set-up, a locally served icon, and the CSS for readability.

The page icon is a file in this package, never a ``:material/...:`` name: Streamlit turns those
into a favicon fetched from a font CDN, and nothing may leave the machine.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import streamlit as st

ICON = Path(__file__).parent / "assets" / "icon.png"

# The border of a form control: 4.8:1 against white, 4.2:1 against the grey fill of a select,
# 3.4:1 against Streamlit's light grey; WCAG 2.2 (1.4.11) asks 3:1 for what identifies a control.
CONTROL_BORDER = "#76716b"

# Widgets whose outlines Streamlit draws in #dcd8d4 (1.42:1 on white). Only ``border-color`` is set,
# so no border appears where Streamlit draws none; a focused control (``:focus-within``) and a chosen
# radio button or ticked box keep Streamlit's own colours.
_CONTROLS = ("stTextInput", "stTextArea", "stNumberInput", "stSelectbox", "stMultiSelect", "stDateInput")
_CONTROL_BORDERS = ",\n".join(f'[data-testid="{name}"] *:not(:focus-within)' for name in _CONTROLS)

# Streamlit fades captions and quotes with opacity to about 3.8:1 contrast; WCAG AA asks for 4.5:1.
READABLE_CSS = f"""<style>
[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] blockquote {{
  color: #55534f !important; opacity: 1 !important;
}}
{_CONTROL_BORDERS},
[data-testid="stRadioOption"]:not([data-selected="true"]) *,
[data-testid="stCheckbox"] label:not(:has(input:checked)) * {{
  border-color: {CONTROL_BORDER} !important;
}}
.code-label:focus {{ outline: 2px solid #262730; outline-offset: 1px; }}
</style>"""


@lru_cache(maxsize=1)
def _icon() -> Any:
    from PIL import Image

    with Image.open(ICON) as image:
        return image.copy()  # read once per process, not on every script run


def page_setup() -> None:
    """The first call of every script run: title, local icon, wide layout and the CSS."""
    st.set_page_config(page_title="narratives explorer", page_icon=_icon(), layout="wide")
    st.markdown(READABLE_CSS, unsafe_allow_html=True)
