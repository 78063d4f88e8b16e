"""Check the JQL a user configures before the sync builds its own query around it.

The sync asks Jira for `(<configured jql>) AND updated >= "<bookmark>" ORDER BY updated ASC`
(`connectors.jira.incremental_jql`). The parentheses only hold the configured query in if
its own parentheses balance: `project = SHOP) OR (project = PAY` would close the wrapper
early, leave `project = SHOP` outside the bound, and make every incremental sync read that
project in full. An `ORDER BY` of its own cannot stand inside the wrapper at all. Both are
caught here, at configuration load, rather than discovered in a slow or failed sync.

Parentheses and the words ORDER BY count only outside quoted strings ("…" or '…'); a
backslash escapes the next character, as in JQL.
https://support.atlassian.com/jira-software-cloud/docs/use-advanced-search-with-jira-query-language-jql/
"""
from __future__ import annotations

import re

_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def jql_problem(jql: str) -> str | None:
    """What makes `jql` unsafe to wrap in `( … ) AND updated >= …`, as a clause; None when it is fine."""
    depth = 0
    quote: str | None = None
    escaped = False
    outside: list[str] = []  # the query with every quoted string blanked, for the ORDER BY search
    for position, char in enumerate(jql, 1):
        if escaped:
            escaped = False
            outside.append(" ")
            continue
        if char == "\\":
            escaped = True
            outside.append(" ")
            continue
        if quote:
            if char == quote:
                quote = None
            outside.append(" ")
            continue
        outside.append(char)
        if char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return f"has a ')' at character {position} that closes no '(', so it would escape the updated bound the sync adds"
    if quote:
        return f"has a {quote}-quoted string that is never closed"
    if depth:
        return f"has {depth} '(' that {'is' if depth == 1 else 'are'} never closed"
    if _ORDER_BY.search("".join(outside)):
        return "has an ORDER BY of its own; remove it, the sync orders by updated itself"
    return None


_KEY = r"(?:\"[A-Za-z][A-Za-z0-9_]*\"|'[A-Za-z][A-Za-z0-9_]*'|[A-Za-z][A-Za-z0-9_]*)"
_PROJECT_CLAUSE = re.compile(
    rf"\bproject\s*(?:=\s*(?P<one>{_KEY})|in\s*\(\s*(?P<many>{_KEY}(?:\s*,\s*{_KEY})*)\s*\))", re.IGNORECASE)
_OR = re.compile(r"\bor\b|\bnot\b|!=|\bnot\s+in\b", re.IGNORECASE)


def projects_of(jql: str) -> set[str] | None:
    """The project keys a JQL restricts itself to, when that is plain to see: one `project = KEY`
    or `project in (A, B)` clause joined by AND to the rest. None when it cannot be told (an OR or
    NOT anywhere, no project clause, or two of them): then nothing is taken to be outside it."""
    if not jql.strip() or _OR.search(jql):
        return None
    clauses = list(_PROJECT_CLAUSE.finditer(jql))
    if len(clauses) != 1:
        return None
    found = clauses[0].group("one") or clauses[0].group("many")
    return {key.strip().strip("'\"").upper() for key in found.split(",")}
