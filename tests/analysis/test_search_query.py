"""Reading what a researcher types into the search box (web-search style)."""

from __future__ import annotations

import sqlite3

import pytest

from narratives.analysis.search_query import MAX_TERMS, parse_query
from narratives.errors import SearchError
from narratives.store.search import Clause, fts5_expression, tsquery_expression


def test_words_phrases_or_and_exclusions_make_clauses() -> None:
    query = parse_query('"care home" respite OR carer -young assess*')
    assert query.clauses == (
        Clause(("care home", "respite")),
        Clause(("carer", "assess*"), ("young",)),
    )


def test_stray_punctuation_and_operators_are_read_as_words() -> None:
    query = parse_query('AND "unclosed (NOT) carers!!, -')
    assert query.clauses == (Clause(("AND", "unclosed", "NOT", "carers")),)
    assert fts5_expression(query) == '("AND" AND "unclosed" AND "NOT" AND "carers")'


@pytest.mark.parametrize(
    "typed",
    ['it"s', "o'brien", 'NEAR(a b) "x', "a:b col:carer", "^start", "carer*s", "(care) AND {home}", "- -x y"],
)
def test_hostile_queries_are_valid_fts5_and_find_the_words(typed: str) -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter unicode61')")
    connection.execute("INSERT INTO t(text) VALUES ('nothing here')")
    expression = fts5_expression(parse_query(typed))
    assert connection.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone() == (0,)
    connection.execute("INSERT INTO t(text) VALUES (?)", (typed.replace("-", " "),))
    found = connection.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone()[0]
    assert found == (0 if typed == "- -x y" else 1)  # "-x" is left out, so its own text does not match


def test_the_postgres_rendering_keeps_only_word_characters() -> None:
    query = parse_query('"care home" assess* OR carer -young')
    assert tsquery_expression(query) == "((care <-> home) & (assess:*)) | ((carer) & !(young))"
    assert tsquery_expression(parse_query("o'brien&x")) == "((o <-> brien <-> x))"


@pytest.mark.parametrize("typed", ["", "   ", "-young", '-"care home"', "OR OR", '""', "!!! ..."])
def test_a_query_with_nothing_to_find_is_refused_with_a_fix(typed: str) -> None:
    with pytest.raises(SearchError, match=r"E1120.*nothing to search for.*Fix"):
        parse_query(typed)


def test_too_many_terms_are_refused() -> None:
    with pytest.raises(SearchError, match="more than"):
        parse_query(" ".join(f"w{i}" for i in range(MAX_TERMS + 1)))
