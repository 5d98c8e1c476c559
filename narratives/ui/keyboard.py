"""Keyboard shortcuts for buttons: Streamlit reserves "r" (rerun), so we listen ourselves.

A zero-height component injects a script that listens for keydown on the parent page (in the
capture phase, before Streamlit's own "r" = rerun), ignores keys typed into inputs, text areas,
selects and editable elements, and clicks the visible button whose label matches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

SCRIPT = """<script>
(function () {
  const host = window.parent;
  const labels = %s;
  const typing = (el) => !!el && (el.isContentEditable ||
    ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName) ||
    ["combobox", "textbox", "listbox", "spinbutton"].includes(el.getAttribute && el.getAttribute("role")));
  if (host.__narrativesShortcuts) {
    host.removeEventListener("keydown", host.__narrativesShortcuts, true);
  }
  const handler = function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || !event.key) return;
    const label = labels[event.key.toLowerCase()];
    if (!label) return;
    if (typing(event.target) || typing(host.document.activeElement)) return;
    const button = Array.from(host.document.querySelectorAll("button"))
      .find((b) => b.innerText.trim() === label && !b.disabled);
    if (!button) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    button.click();
  };
  host.__narrativesShortcuts = handler;
  host.addEventListener("keydown", handler, true);
})();
</script>"""


def shortcut_script(shortcuts: Mapping[str, str]) -> str:
    """The script for ``{key: button label}``, e.g. ``{"a": "Accept (a)"}``."""
    return SCRIPT % json.dumps({key.lower(): label for key, label in shortcuts.items()})


def enable_shortcuts(shortcuts: Mapping[str, str]) -> None:
    """Inject the script in a zero-height iframe (``st.iframe``; ``components.html`` before 1.52)."""
    import streamlit as st

    script = shortcut_script(shortcuts)
    if hasattr(st, "iframe"):
        st.iframe(script, height=1)
    else:  # older Streamlit
        import streamlit.components.v1 as components

        components.html(script, height=0)
