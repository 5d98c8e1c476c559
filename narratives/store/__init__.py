"""The project database: tables, migrations and queries."""

from narratives.store.project import Project, init_project, open_project

__all__ = ["Project", "init_project", "open_project"]
