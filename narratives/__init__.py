"""narratives: qualitative research on lived-experience narratives in adult social care."""

__version__ = "0.1.0"
