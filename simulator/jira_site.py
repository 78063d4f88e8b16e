"""What the fake Jira says about its account and site: credentials, `myself`, `serverInfo`, `field`.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/#api-rest-api-3-field-get
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class Credentials:
    """The one account the fake knows: Basic `email:token` (Cloud, Perceval -u/-p) or `Bearer token` (Server PAT)."""

    email: str
    token: str

    @property
    def account_id(self) -> str:
        return "5b10ac8d82e05b22cc7d4ef5"

    @property
    def name(self) -> str:
        return self.email.split("@", 1)[0]

    @property
    def display_name(self) -> str:
        return "Partnerscope Sync"

    def accepts(self, header: str | None) -> bool:
        """Whether an Authorization header carries these credentials (compared in constant time)."""
        scheme, _, value = (header or "").strip().partition(" ")
        if scheme.lower() == "bearer":
            return hmac.compare_digest(value.strip().encode(), self.token.encode())
        if scheme.lower() == "basic":
            try:
                given = base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                return False
            return hmac.compare_digest(given, f"{self.email}:{self.token}".encode())
        return False


def myself(who: Credentials, base_url: str, version: str, deployment: str, time_zone: str) -> bytes:
    """GET /myself: Cloud names the account by accountId, Server by name and key; both give timeZone."""
    me: dict[str, Any] = {"self": f"{base_url}/rest/api/{version}/user?accountId={who.account_id}"}
    if deployment == "server":
        me.update(key=who.account_id, name=who.name)
    else:
        me.update(accountId=who.account_id, accountType="atlassian")
    me.update(emailAddress=who.email, displayName=who.display_name, active=True, timeZone=time_zone,
              locale="en_US", groups={"size": 1, "items": []}, applicationRoles={"size": 1, "items": []},
              expand="groups,applicationRoles")
    return json.dumps(me).encode()


def server_info(base_url: str, deployment: str) -> bytes:
    """GET /serverInfo, with `deploymentType` Cloud or Server."""
    server = deployment == "server"
    return json.dumps({
        "baseUrl": base_url, "displayUrl": base_url,
        "version": "9.12.2" if server else "1001.0.0-SNAPSHOT",
        "versionNumbers": [9, 12, 2] if server else [1001, 0, 0],
        "deploymentType": "Server" if server else "Cloud", "buildNumber": 9120002 if server else 100269,
        "buildDate": "2025-01-01T00:00:00.000+0000",
        "serverTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "scmInfo": "fake", "serverTitle": "Jira (Partnerscope simulator)",
    }).encode()


def _field(field_id: str, name: str, kind: str, plugin: str | None = None) -> dict[str, Any]:
    """One entry of GET /field; `plugin` makes it a custom field of that type."""
    custom = plugin is not None
    number = field_id.rsplit("_", 1)[-1]
    schema: dict[str, Any] = {"type": kind, "custom": plugin, "customId": int(number)} if custom else \
        {"type": kind, "system": field_id}
    return {"id": field_id, "key": field_id, "name": name, "custom": custom, "orderable": True, "navigable": True,
            "searchable": True, "clauseNames": [f"cf[{number}]", name] if custom else [field_id], "schema": schema}


FIELDS = [
    _field("summary", "Summary", "string"), _field("issuetype", "Issue Type", "issuetype"),
    _field("status", "Status", "status"), _field("project", "Project", "project"),
    _field("reporter", "Reporter", "user"), _field("creator", "Creator", "user"),
    _field("assignee", "Assignee", "user"), _field("created", "Created", "datetime"),
    _field("updated", "Updated", "datetime"), _field("resolutiondate", "Resolved", "datetime"),
    _field("labels", "Labels", "array"), _field("priority", "Priority", "priority"),
    _field("comment", "Comment", "comments-page"), _field("description", "Description", "string"),
    _field("customfield_10019", "Rank", "any", plugin="com.pyxis.greenhopper.jira:gh-lexo-rank"),
]
