"""The JQL subset the fake Jira understands: what Partnerscope and Perceval send, and a little more.

    clause   := field op value | field [NOT] IN (value, ...)
    query    := [clause joined by AND / OR / NOT and parentheses] [ORDER BY field [ASC|DESC], ...]

Fields: updated, created (dates), project, key/issuekey/issue/id (each takes a key or an issue
id; one naming no issue is refused, as Jira does), issuetype/type, status. Dates are
`"yyyy-MM-dd HH:mm"`, `"yyyy/MM/dd HH:mm"`, `"yyyy-MM-dd"`, `"yyyy/MM/dd"` read on the searching
account's clock, or epoch milliseconds (Perceval sends `updated > 1577836800000`).
Anything else is refused with Jira's wording, which the server returns as a 400.
https://support.atlassian.com/jira-service-management-cloud/docs/jql-fields/
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Callable, Iterator, Mapping

Predicate = Callable[["Facts"], bool]
IssueKey = Callable[[str], "str | None"]  # an issue key or id -> the issue's key, None when there is none
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>>=|<=|!=|=|>|<)
  | (?P<punct>[(),])
  | (?P<word>[^\s"'(),=<>!]+)
  | (?P<bad>\S)
)""", re.VERBOSE)
_FIELDS = {"updated": "updated", "updateddate": "updated", "created": "created", "createddate": "created",
           "project": "project", "key": "key", "issuekey": "key", "issue": "key", "id": "key",
           "issuetype": "issuetype", "type": "issuetype", "status": "status"}
_DATES = {"updated", "created"}
_KEYWORDS = {"and", "or", "not", "in", "order", "by", "asc", "desc"}


class JqlError(ValueError):
    """A query Jira would refuse; the message is Jira's wording for it."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What a query can test about one issue (times in epoch seconds)."""

    id: int
    key: str
    project: str
    issuetype: str
    status: str
    created: float
    updated: float

    @property
    def key_order(self) -> tuple[str, int]:
        project, _, number = self.key.rpartition("-")
        return project, int(number) if number.isdigit() else 0


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: `where` (None when unrestricted) and the ORDER BY terms as (field, descending)."""

    where: Predicate | None
    order: tuple[tuple[str, bool], ...]

    @property
    def bounded(self) -> bool:
        """Whether the query restricts the search at all (Cloud's enhanced search refuses unbounded ones)."""
        return self.where is not None

    def apply(self, facts: list[Facts]) -> list[Facts]:
        """The matching issues in the query's order (default: key descending), ties by id."""
        hits = [f for f in facts if self.where is None or self.where(f)]
        hits.sort(key=lambda f: f.id)
        for name, descending in reversed(self.order or (("key", True),)):
            hits.sort(key=_ORDER_KEYS[name], reverse=descending)  # stable: later terms first
        return hits


_ORDER_KEYS: dict[str, Callable[[Facts], object]] = {
    "updated": lambda f: f.updated, "created": lambda f: f.created, "key": lambda f: f.key_order,
    "project": lambda f: f.project, "issuetype": lambda f: f.issuetype, "status": lambda f: f.status,
}


def _tokens(jql: str) -> Iterator[tuple[str, str]]:
    position = 0
    while position < len(jql):
        match = _TOKEN.match(jql, position)
        if match is None or match.end() == position:
            break  # only trailing whitespace is left
        position = match.end()
        kind = match.lastgroup
        text = match.group(kind)  # type: ignore[arg-type]
        if kind == "bad":
            if text in "\"'":
                raise JqlError(f"Error in the JQL Query: The quoted string starting at character {match.start(kind)} "
                               f"has not been completed. The query was: {jql}")
            raise JqlError(f"Error in the JQL Query: The character '{text}' is a reserved JQL character. "
                           f"The query was: {jql}")
        if kind == "str":
            yield "value", re.sub(r"\\(.)", r"\1", text[1:-1])
        elif kind == "word":
            yield ("keyword" if text.lower() in _KEYWORDS else "value"), text
        else:
            yield kind, text  # type: ignore[misc]


class _Parser:
    def __init__(self, jql: str, zone: tzinfo, projects: Mapping[str, str], issues: IssueKey | None) -> None:
        self.jql, self.zone, self.projects, self.issues = jql, zone, projects, issues
        self.tokens = list(_tokens(jql))
        self.at = 0
        self.written = ""  # the last field name as the query wrote it, for Jira's messages

    # -- token helpers ------------------------------------------------------------------------

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _keyword(self, *words: str) -> bool:
        token = self._peek()
        if token and token[0] == "keyword" and token[1].lower() in words:
            self.at += 1
            return True
        return False

    def _punct(self, char: str) -> bool:
        token = self._peek()
        if token and token[0] == "punct" and token[1] == char:
            self.at += 1
            return True
        return False

    def _error(self, expecting: str) -> JqlError:
        token = self._peek()
        got = f"but got '{token[1]}'" if token else "at the end of the query"
        return JqlError(f"Error in the JQL Query: Expecting {expecting} {got}. The query was: {self.jql}")

    # -- grammar ------------------------------------------------------------------------------

    def query(self) -> Query:
        where = None
        token = self._peek()
        if token and not (token[0] == "keyword" and token[1].lower() == "order"):
            where = self._or()
        order: list[tuple[str, bool]] = []
        if self._keyword("order"):
            if not self._keyword("by"):
                raise self._error("'by'")
            while True:
                order.append((self._field(ordering=True), self._direction()))
                if not self._punct(","):
                    break
        if self._peek() is not None:
            raise self._error("either 'AND', 'OR' or 'ORDER BY'")
        return Query(where, tuple(order))

    def _direction(self) -> bool:
        if self._keyword("desc"):
            return True
        self._keyword("asc")
        return False

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._keyword("or"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda f: any(p(f) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._not()]
        while self._keyword("and"):
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else (lambda f: all(p(f) for p in parts))

    def _not(self) -> Predicate:
        if self._keyword("not"):
            inner = self._not()
            return lambda f: not inner(f)
        if self._punct("("):
            inner = self._or()
            if not self._punct(")"):
                raise self._error("')'")
            return inner
        return self._clause()

    def _field(self, ordering: bool = False) -> str:
        token = self._peek()
        if token is None or token[0] != "value":
            raise self._error("a field name")
        self.at += 1
        self.written = token[1]
        name = _FIELDS.get(token[1].lower())
        if name is None:
            raise JqlError(f"Field '{token[1]}' does not exist or you do not have permission to view it.")
        return name

    def _clause(self) -> Predicate:
        field = self._field()
        if self._keyword("not"):
            if not self._keyword("in"):
                raise self._error("'IN'")
            return self._in(field, negate=True)
        if self._keyword("in"):
            return self._in(field, negate=False)
        token = self._peek()
        if token is None or token[0] != "op":
            raise self._error("operator")
        self.at += 1
        op = token[1]
        raw = self._value()
        if field in _DATES:
            moment = self._date(field, raw)
            attribute = field
            return {
                "=": lambda f: getattr(f, attribute) == moment, "!=": lambda f: getattr(f, attribute) != moment,
                ">": lambda f: getattr(f, attribute) > moment, ">=": lambda f: getattr(f, attribute) >= moment,
                "<": lambda f: getattr(f, attribute) < moment, "<=": lambda f: getattr(f, attribute) <= moment,
            }[op]
        if op not in ("=", "!="):
            raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
        value = self._text(field, raw)
        return (lambda f: _text_of(f, field) == value) if op == "=" else (lambda f: _text_of(f, field) != value)

    def _in(self, field: str, negate: bool) -> Predicate:
        if field in _DATES:
            raise JqlError(f"The operator '{'not in' if negate else 'in'}' is not supported by the '{field}' field.")
        if not self._punct("("):
            raise self._error("'('")
        values = {self._text(field, self._value())}
        while self._punct(","):
            values.add(self._text(field, self._value()))
        if not self._punct(")"):
            raise self._error("')'")
        return (lambda f: _text_of(f, field) not in values) if negate else (lambda f: _text_of(f, field) in values)

    def _value(self) -> str:
        token = self._peek()
        if token is None or token[0] != "value":
            raise self._error("either a value, list or function")
        self.at += 1
        return token[1]

    def _text(self, field: str, raw: str) -> str:
        if field == "project":
            key = self.projects.get(raw.lower())
            if key is None:
                raise JqlError(f"The value '{raw}' does not exist for the field 'project'.")
            return key
        if field == "key" and self.issues is not None:
            key = self.issues(raw)
            if key is None:
                raise JqlError(f"An issue with key '{raw}' does not exist for field '{self.written}'.")
            return key
        return raw.upper() if field == "key" else raw.lower()

    def _date(self, field: str, raw: str) -> float:
        if raw.isdigit():
            return int(raw) / 1000  # epoch milliseconds, zone-free
        for layout in _DATE_FORMATS:
            try:
                return datetime.strptime(raw.strip(), layout).replace(tzinfo=self.zone).timestamp()
            except ValueError:
                continue
        raise JqlError(f"Date value '{raw}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
                       "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")


def _text_of(facts: Facts, field: str) -> str:
    return getattr(facts, field)


def parse(jql: str, zone: tzinfo, projects: Mapping[str, str], issues: IssueKey | None = None) -> Query:
    """Parse `jql`; `zone` is the searching account's time zone, `projects` maps lower-cased key/name/id to key,
    `issues` gives the key of the issue an issue key or id names (None: no such issue).

    Raises JqlError with Jira's message for anything outside the subset.
    """
    return _Parser(jql, zone, projects, issues).query()
