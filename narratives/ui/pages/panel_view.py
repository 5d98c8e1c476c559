"""The panel member's view: the themes in plain words, the chosen quotes, and their answers."""

from __future__ import annotations

from narratives.ui.pages import panel

panel.show()
