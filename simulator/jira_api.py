"""The fake Jira's WSGI app: routing, authentication and each endpoint's response shape.

See `simulator.jira_server` for what is served; this module only builds the bodies, from the
ready JSON fragments of `simulator.jira_store`.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from simulator import jira_site as site
from simulator.faults import Stats
from simulator.jira_params import JSON_TYPE, Refusal, error_body, int_param, names, page_token, token_offset, view_of
from simulator.jira_site import Credentials
from simulator.jira_store import Entry, IssueStore, View, render
from simulator.jql import JqlError

DEPLOYMENTS = ("any", "cloud", "server")
SEARCH_CAP = 100  # issues per search page when fields or the changelog are asked for
SEARCH_DEFAULT = 50
BULK_ISSUES_CAP = 1000
BULK_DEFAULT, BULK_CAP = 1000, 10000
COMMENTS_DEFAULT = COMMENTS_CAP = 5000
CHANGELOG_DEFAULT = CHANGELOG_CAP = 100
_MATCH = "fakejira.match"
_CLOUD_ONLY = {"search_jql", "approximate_count", "bulkfetch", "changelog"}
_SERVER_ONLY = {"search"}


def _routes() -> list[tuple[str, str, str]]:
    """(method, template, handler); the template (with `{id}`) is what the stats count by."""
    routes = [
        ("GET", "/rest/api/3/search/jql", "search_jql"),
        ("POST", "/rest/api/3/search/jql", "search_jql"),
        ("POST", "/rest/api/3/search/approximate-count", "approximate_count"),
        ("POST", "/rest/api/3/changelog/bulkfetch", "bulkfetch"),
        ("GET", "/rest/api/2/search", "search"),
        ("POST", "/rest/api/2/search", "search"),
    ]
    for version in ("2", "3"):
        base = f"/rest/api/{version}"
        routes += [
            ("GET", f"{base}/issue/{{id}}", "issue"),
            ("GET", f"{base}/issue/{{id}}/comment", "comments"),
            ("GET", f"{base}/issue/{{id}}/changelog", "changelog"),
            ("GET", f"{base}/myself", "myself"),
            ("GET", f"{base}/serverInfo", "server_info"),
            ("GET", f"{base}/field", "field"),
        ]
    return routes


def _url_map() -> Map:
    rules = [Rule(template.replace("{id}", "<issue>"), endpoint=(template, handler), methods=[method])
             for method, template, handler in _routes()]
    rules += [Rule("/_stats", endpoint=(None, "stats"), methods=["GET"]),
              Rule("/_stats/reset", endpoint=(None, "stats_reset"), methods=["POST"]),
              Rule("/_touch", endpoint=(None, "touch"), methods=["POST"])]
    return Map(rules, strict_slashes=False, merge_slashes=False)


class JiraApp:
    """The WSGI app: routing, authentication and the endpoints over an `IssueStore`."""

    def __init__(self, store: IssueStore, credentials: Credentials, *, deployment: str, time_zone: str,
                 embedded_histories: int, embedded_comments: int, server_histories: int | None,
                 server_comments: int | None, allow_unbounded: bool, stats: Stats) -> None:
        self.store, self.credentials, self.deployment, self.time_zone = store, credentials, deployment, time_zone
        self.cloud_limits = {"max_histories": embedded_histories, "max_comments": embedded_comments}
        self.server_limits = {"max_histories": server_histories, "max_comments": server_comments}
        self.allow_unbounded, self.stats = allow_unbounded, stats
        self.url_map = _url_map()

    # -- routing ------------------------------------------------------------------------------

    def route(self, environ: dict[str, Any]) -> str | None:
        """The endpoint name the stats count this request under; None for control endpoints."""
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            (template, handler), args = self.url_map.bind_to_environ(environ).match()
        except MethodNotAllowed:
            environ[_MATCH] = (None, "method_not_allowed", {})
            return f"{method} {environ.get('PATH_INFO', '')}"
        except (NotFound, HTTPException):
            environ[_MATCH] = (None, "not_found", {})
            return f"{method} {environ.get('PATH_INFO', '')}"
        environ[_MATCH] = (template, handler, args)
        return None if template is None else f"{method} {template}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if _MATCH not in environ:
            self.route(environ)
        template, handler, args = environ[_MATCH]
        request = Request(environ)
        try:
            if handler in ("not_found", "method_not_allowed"):
                status = 404 if handler == "not_found" else 405
                raise Refusal(status, f"null for uri: {request.url}")
            if template is not None:
                self._check(handler, request)
            body = getattr(self, f"_{handler}")(request, **args)
            response = Response(body, status=200, content_type=JSON_TYPE)
        except Refusal as refusal:
            response = Response(error_body(refusal.status, refusal.message), status=refusal.status,
                                content_type=JSON_TYPE, headers=refusal.headers)
        except JqlError as exc:
            response = Response(error_body(400, str(exc)), status=400, content_type=JSON_TYPE)
        return response(environ, start_response)

    def _check(self, handler: str, request: Request) -> None:
        if self.deployment == "server" and handler in _CLOUD_ONLY:
            raise Refusal(404, f"null for uri: {request.url}")
        if self.deployment == "cloud" and handler in _SERVER_ONLY:
            raise Refusal(410, "The requested API has been removed. "
                               "Please migrate to the /rest/api/3/search/jql API.")
        if handler != "server_info" and not self.credentials.accepts(request.headers.get("Authorization")):
            raise Refusal(401, "You are not authenticated. Authentication required to perform this operation.",
                           [("WWW-Authenticate", 'Basic realm="protected-area"')])

    # -- search -------------------------------------------------------------------------------

    def _json_body(self, request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise Refusal(400, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise Refusal(400, "The request body must be a JSON object.")
        return body

    def _search_args(self, request: Request) -> tuple[dict[str, Any] | None, str, list[str], list[str]]:
        body = self._json_body(request) if request.method == "POST" else None
        if body is not None:
            return body, str(body.get("jql") or ""), names([body.get("fields") or []]), \
                names([body.get("expand") or []])
        return None, request.args.get("jql", ""), names(request.args.getlist("fields")), \
            names(request.args.getlist("expand"))

    def _bounded(self, jql: str) -> None:
        if not self.allow_unbounded and not self.store.is_bounded(jql):
            raise Refusal(400, "Unbounded JQL queries are not allowed here. "
                               "Please add a search restriction to your query.")

    def _page_of(self, ids: list[str], start: int, size: int, view: View, version: str) -> bytes:
        pieces = []
        for issue_id in ids[start:start + size]:
            entry = self.store.get(issue_id)
            if entry is not None:
                pieces.append(render(entry.pieces[version], view))
        return b",".join(pieces)

    def _search_jql(self, request: Request) -> bytes:
        """Cloud's enhanced search: page tokens, no total, embedded lists cut to a first page.

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get
        """
        body, jql, fields, expand = self._search_args(request)
        self._bounded(jql)
        size = min(int_param(request, "maxResults", SEARCH_DEFAULT, body), SEARCH_CAP)
        token = body.get("nextPageToken") if body is not None else request.args.get("nextPageToken")
        start = token_offset(token, "search", jql)
        ids = self.store.search(jql, _reconciled(body))
        view = view_of(fields, expand, default_all=False, **self.cloud_limits)  # Cloud's default is `id` only
        tail = b',"isLast":true}'
        if start + size < len(ids):
            tail = b',"nextPageToken":"%s","isLast":false}' % page_token("search", jql, start + size).encode()
        return b'{"issues":[' + self._page_of(ids, start, size, view, "3") + b"]" + tail

    def _search(self, request: Request) -> bytes:
        """Server/DC search (and Cloud's former v2 search): startAt, maxResults and total.

        https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/search-searchUsingSearchRequest
        """
        body, jql, fields, expand = self._search_args(request)
        start = int_param(request, "startAt", 0, body)
        size = min(int_param(request, "maxResults", SEARCH_DEFAULT, body), SEARCH_CAP)
        ids = self.store.search(jql)
        view = view_of(fields, expand, default_all=True, **self.server_limits)
        head = b'{"expand":"schema,names","startAt":%d,"maxResults":%d,"total":%d,"issues":[' % (
            start, size, len(ids))
        return head + self._page_of(ids, start, size, view, "2") + b"]}"

    def _approximate_count(self, request: Request) -> bytes:
        """How many issues a JQL matches (Cloud; exact here).

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-approximate-count-post
        """
        jql = str(self._json_body(request).get("jql") or "")
        self._bounded(jql)
        return b'{"count":%d}' % len(self.store.search(jql))

    # -- one issue ----------------------------------------------------------------------------

    def _entry(self, issue: str) -> Entry:
        entry = self.store.get(issue)
        if entry is None:
            raise Refusal(404, "Issue does not exist or you do not have permission to see it.")
        return entry

    @staticmethod
    def _version(request: Request) -> str:
        return "3" if request.path.startswith("/rest/api/3/") else "2"

    def _issue(self, request: Request, issue: str) -> bytes:
        entry = self._entry(issue)
        fields, expand = names(request.args.getlist("fields")), names(request.args.getlist("expand"))
        view = view_of(fields, expand, default_all=True)
        return render(entry.pieces[self._version(request)], view)

    def _comments(self, request: Request, issue: str) -> bytes:
        """A page of an issue's comments, oldest first unless `orderBy=-created`.

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-get
        """
        comments = self._entry(issue).pieces[self._version(request)].comments
        start = int_param(request, "startAt", 0)
        size = min(int_param(request, "maxResults", COMMENTS_DEFAULT), COMMENTS_CAP)
        ordered = comments[::-1] if request.args.get("orderBy", "").startswith("-") else comments
        return b'{"comments":[%s],"maxResults":%d,"total":%d,"startAt":%d}' % (
            b",".join(ordered[start:start + size]), size, len(comments), start)

    def _changelog(self, request: Request, issue: str) -> bytes:
        """A page of an issue's changelog, oldest first (Cloud).

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-changelog-get
        """
        entry = self._entry(issue)
        histories = entry.pieces[self._version(request)].histories
        start = int_param(request, "startAt", 0)
        size = min(int_param(request, "maxResults", CHANGELOG_DEFAULT), CHANGELOG_CAP)
        url = f"{self.store.base_url}/rest/api/{self._version(request)}/issue/{entry.id}/changelog"
        last = start + size >= len(histories)
        following = b"" if last else b'"nextPage":%s,' % _quoted(f"{url}?startAt={start + size}&maxResults={size}")
        return b'{"self":%s,%s"maxResults":%d,"startAt":%d,"total":%d,"isLast":%s,"values":[%s]}' % (
            _quoted(f"{url}?startAt={start}&maxResults={size}"), following, size, start, len(histories),
            b"true" if last else b"false", b",".join(histories[start:start + size]))

    def _bulkfetch(self, request: Request) -> bytes:
        """Every history of up to 1000 issues, issue by issue (oldest first), paged by histories.

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-changelog-bulkfetch-post
        """
        body = self._json_body(request)
        wanted = body.get("issueIdsOrKeys")
        if not isinstance(wanted, list) or not wanted:
            raise Refusal(400, "issueIdsOrKeys must be a non-empty list of issue ids or keys.")
        if len(wanted) > BULK_ISSUES_CAP:
            raise Refusal(400, f"You can request the changelogs of at most {BULK_ISSUES_CAP} issues.")
        size = min(int_param(request, "maxResults", BULK_DEFAULT, body), BULK_CAP) or BULK_DEFAULT
        field_ids = set(names([body.get("fieldIds") or []]))
        entries = {e.id: e for e in (self.store.get(str(w)) for w in wanted) if e is not None}
        scope = ",".join(sorted(entries))
        start = token_offset(body.get("nextPageToken"), "bulk", scope)
        flat: list[tuple[str, bytes]] = []
        for issue_id in sorted(entries, key=int):
            entry = entries[issue_id]
            if field_ids:
                flat += [(issue_id, h) for h in _filtered_histories(entry.raw, field_ids, self.store)]
            else:
                flat += [(issue_id, h) for h in entry.pieces["3"].histories]
        page = flat[start:start + size]
        groups: list[tuple[str, list[bytes]]] = []
        for issue_id, history in page:
            if not groups or groups[-1][0] != issue_id:
                groups.append((issue_id, []))
            groups[-1][1].append(history)
        logs = b",".join(b'{"issueId":"%s","changeHistories":[%s]}' % (i.encode(), b",".join(h)) for i, h in groups)
        following = b',"nextPageToken":"%s"' % page_token("bulk", scope, start + size).encode() \
            if start + size < len(flat) else b""
        return b'{"issueChangeLogs":[%s]%s}' % (logs, following)

    # -- about the site -----------------------------------------------------------------------

    def _myself(self, request: Request) -> bytes:
        return site.myself(self.credentials, self.store.base_url, self._version(request), self.deployment,
                           self.time_zone)

    def _server_info(self, request: Request) -> bytes:
        return site.server_info(self.store.base_url, self.deployment)

    def _field(self, request: Request) -> bytes:
        return json.dumps(site.FIELDS).encode()

    # -- control ------------------------------------------------------------------------------

    def _stats(self, request: Request) -> bytes:
        return json.dumps(self.stats.snapshot()).encode()

    def _stats_reset(self, request: Request) -> bytes:
        self.stats.reset()
        return json.dumps(self.stats.snapshot()).encode()

    def _touch(self, request: Request) -> bytes:
        body = self._json_body(request)
        keys, count = body.get("keys"), body.get("count")
        if not (isinstance(keys, list) and keys) and not (isinstance(count, int) and count > 0):
            raise Refusal(400, 'Send {"keys": ["SHOP-1", ...]} or {"count": n}.')
        try:
            touched = self.store.touch(keys=keys if isinstance(keys, list) else None, count=count)
        except KeyError as exc:
            raise Refusal(404, f"Issue does not exist: {exc.args[0]}") from None
        return json.dumps({"touched": touched}).encode()


RECONCILE_CAP = 50


def _reconciled(body: dict[str, Any] | None) -> list[str]:
    """`reconcileIssues` of a POST search body: up to 50 issue ids (numbers) read consistently.

    https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post
    """
    ids = (body or {}).get("reconcileIssues")
    if ids is None:
        return []
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise Refusal(400, "reconcileIssues must be a list of issue ids (numbers).")
    if len(ids) > RECONCILE_CAP:
        raise Refusal(400, f"reconcileIssues takes at most {RECONCILE_CAP} issue ids.")
    return [str(i) for i in ids]


def _quoted(text: str) -> bytes:
    return json.dumps(text).encode()


def _filtered_histories(raw: dict[str, Any], field_ids: set[str], store: IssueStore) -> list[bytes]:
    """Histories cut to the items of the given fields (bulkfetch's `fieldIds`); empty ones dropped."""
    kept = []
    for history in raw["changelog"]["histories"]:
        items = [i for i in history.get("items", []) if {i.get("fieldId"), i.get("field")} & field_ids]
        if items:
            kept.append(store.serialize({**history, "items": items}, "3"))
    return kept


