"""Project settings: a value under a key, replaced by a newer one; the de-identification salt uses it."""

from __future__ import annotations

from narratives.deidentify import SALT_KEY, settings_from_connection
from narratives.store.project import Project
from narratives.store.settings import get_setting, set_setting


def test_a_setting_is_read_back_and_replaced(tmp_project: Project) -> None:
    with tmp_project.begin() as connection:
        assert get_setting(connection, "export.style") is None
        assert get_setting(connection, "export.style", "plain") == "plain"
        set_setting(connection, "export.style", {"quotes": 3, "names": ["a", "b"]})
        set_setting(connection, "export.style", {"quotes": 5})
    with tmp_project.connect() as connection:
        assert get_setting(connection, "export.style") == {"quotes": 5}


def test_a_stored_salt_is_the_one_deidentification_uses(tmp_project: Project) -> None:
    with tmp_project.connect() as connection:
        derived = settings_from_connection(connection).salt
    with tmp_project.begin() as connection:
        set_setting(connection, SALT_KEY, "pepper")
    with tmp_project.connect() as connection:
        assert settings_from_connection(connection).salt == "pepper" != derived
