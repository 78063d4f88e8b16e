"""The configured JQL must stay inside the `( … ) AND updated >= …` the sync wraps it in."""
from __future__ import annotations

from datetime import date

import pytest

from connectors.jira import incremental_jql
from connectors.jql import jql_problem


@pytest.mark.parametrize("jql", [
    pytest.param("", id="empty"),
    pytest.param("project in (SHOP, PAY)", id="list"),
    pytest.param("(project = SHOP OR project = PAY) AND (type = Bug)", id="groups"),
    pytest.param('summary ~ "a ) b"', id="paren-in-double-quotes"),
    pytest.param("summary ~ 'a ( b'", id="paren-in-single-quotes"),
    pytest.param('summary ~ "say \\"hi\\" )"', id="escaped-quote-in-quotes"),
    pytest.param('summary ~ "it\'s )"', id="other-quote-inside-quotes"),
    pytest.param("summary ~ \\(", id="escaped-paren-outside-quotes"),
    pytest.param('summary ~ "order by" AND project = SHOP', id="order-by-in-quotes"),
    pytest.param("reorder = 1 AND border byte = 2", id="order-and-by-inside-words"),
    pytest.param("project = SHOP\n  AND type = Bug", id="multi-line"),
])
def test_jql_that_stays_inside_the_wrapper(jql: str) -> None:
    assert jql_problem(jql) is None


@pytest.mark.parametrize("jql, clause", [
    pytest.param("project = SHOP) OR (project = PAY", "a ')' at character 15 that closes no '('", id="escapes-the-bound"),
    pytest.param("project = SHOP)", "a ')' at character 15", id="stray-close"),
    pytest.param("(project = SHOP", "1 '(' that is never closed", id="unclosed"),
    pytest.param("((project = SHOP)", "1 '(' that is never closed", id="one-unclosed-of-two"),
    pytest.param("((project = SHOP", "2 '(' that are never closed", id="two-unclosed"),
    pytest.param('summary ~ "a) OR (b', 'a "-quoted string that is never closed', id="unclosed-double-quote"),
    pytest.param("summary ~ 'x", "a '-quoted string that is never closed", id="unclosed-single-quote"),
    pytest.param('summary ~ "a \\" ) OR (b', "never closed", id="escaped-quote-does-not-close"),
    pytest.param("project = SHOP ORDER BY created DESC", "ORDER BY of its own", id="order-by"),
    pytest.param("project = SHOP order\n by rank", "ORDER BY of its own", id="order-by-lower-case-over-lines"),
    pytest.param('summary ~ "x" ORDER BY "Story Points"', "ORDER BY of its own", id="order-by-quoted-field"),
])
def test_jql_that_would_break_out_is_named(jql: str, clause: str) -> None:
    problem = jql_problem(jql)
    assert problem is not None and clause in problem


def test_the_escaping_jql_really_escapes_the_bound() -> None:
    # Why the check exists: wrapped, SHOP sits outside the `updated` bound (AND binds before OR).
    jql = incremental_jql("project = SHOP) OR (project = PAY", date(2025, 1, 1))
    assert jql == '(project = SHOP) OR (project = PAY) AND updated >= "2025-01-01" ORDER BY updated ASC'


@pytest.mark.parametrize(("jql", "projects"), [
    pytest.param("project = SHOP", {"SHOP"}, id="one"),
    pytest.param('project in (SHOP, "PAY") AND type = Bug', {"SHOP", "PAY"}, id="in-and"),
    pytest.param("project = SHOP OR project = PAY", None, id="or"),
    pytest.param("project != SHOP", None, id="not-equal"),
    pytest.param("project not in (SHOP)", None, id="not-in"),
    pytest.param("type = Bug", None, id="no-project"),
    pytest.param("", None, id="empty"),
    pytest.param("project = SHOP AND project = PAY", None, id="two-clauses"),
])
def test_the_projects_a_jql_restricts_itself_to(jql: str, projects: set[str] | None) -> None:
    from connectors.jql import projects_of

    assert projects_of(jql) == projects
