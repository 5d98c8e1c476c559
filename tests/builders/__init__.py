"""Test data builders: plain functions and fakes that test modules and conftest files import.

``demo_project`` (the explorer's small project), ``study`` (the hand-checked study for analysis and
interop), ``themes`` (theme documents, their codebook, a fake embedder and a fake BERTopic fit),
``pdf`` (a minimal PDF for the ingest tests).
Fixtures stay in the ``conftest.py`` files.
"""
