"""The demo cast on GitHub: one login per person, their user and organisation objects, and the config.

Logins are the first name plus the employer's GitHub organisation (`astrid-acme`,
`henrik-nordlys`); people without a fixed employer have personal logins: the tester who moves
from Nordlys to Acme part-way (`ingrid-solberg`, one account throughout, like her Jira account),
the freelancer (`qrivera`) and the Acme employee who left early (`george-acme`). Jira's
automation account is GitHub Actions' bot here. `github_scenario_config()` lists the logins as
`github:<login>` accounts in Partnerscope's configuration shape and merges each person's Jira
and GitHub accounts into one person. https://docs.github.com/en/rest/users/users#get-a-user
"""
from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from simulator.people import (
    BY_HANDLE, CLIENT, CLIENT_DOMAIN, CLIENT_ORG, MOVER, PARTNER, PARTNER_DOMAIN, PARTNER_ORG, PEOPLE, Person,
    move_date,
)

API, WEB = "https://api.github.com", "https://github.com"  # rewritten to the fake server's address when served
ORGS = {CLIENT_ORG: "acme", PARTNER_ORG: "nordlys"}  # organisation in the config -> GitHub organisation login
_PERSONAL = {"ingrid": "ingrid-solberg", "quinn": "qrivera", "george": "george-acme", "bot": "github-actions[bot]"}
GHOST = {"login": "ghost", "id": 10137, "name": "Deleted user"}  # GitHub's stand-in for deleted accounts


def login_of(person: Person) -> str:
    """The person's GitHub login: first name plus employer organisation, or a personal login."""
    if person.handle in _PERSONAL:
        return _PERSONAL[person.handle]
    return f"{person.handle}-{ORGS[person.org]}" if person.org in ORGS else person.handle


LOGINS: dict[str, str] = {p.handle: login_of(p) for p in PEOPLE}  # handle -> login
PERSON_OF_LOGIN: dict[str, Person] = {login: BY_HANDLE[handle] for handle, login in LOGINS.items()}


def user_id(login: str) -> int:
    """A stable numeric user id (GitHub's are sequential; these only need to be unique and fixed)."""
    if login == GHOST["login"]:
        return int(GHOST["id"])
    return 41_000_000 + int(hashlib.sha256(f"gh-user:{login}".encode()).hexdigest()[:7], 16) % 9_000_000


def is_bot(login: str) -> bool:
    """Whether a login is an app's bot account (`name[bot]`)."""
    return login.endswith("[bot]")


def simple_user(login: str) -> dict[str, Any]:
    """The user object embedded in issues, comments and events (no name or email, as on GitHub)."""
    uid = user_id(login)
    quoted = login.replace("[", "%5B").replace("]", "%5D")
    url = f"{API}/users/{quoted}"
    return {
        "login": login, "id": uid, "node_id": ("BOT_kgDO" if is_bot(login) else "U_kgDO") + _b36(uid),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4", "gravatar_id": "", "url": url,
        "html_url": f"{WEB}/apps/{login[:-5]}" if is_bot(login) else f"{WEB}/{login}",
        "followers_url": f"{url}/followers", "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}", "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions", "organizations_url": f"{url}/orgs", "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}", "received_events_url": f"{url}/received_events",
        "type": "Bot" if is_bot(login) else "User", "user_view_type": "public", "site_admin": False,
    }


def full_user(login: str) -> dict[str, Any]:
    """`GET /users/{login}`: the simple object plus the public profile (name, company, public email)."""
    person = PERSON_OF_LOGIN.get(login)
    name = GHOST["name"] if login == GHOST["login"] else person.name if person else login
    company = f"@{ORGS[person.org]}" if person is not None and person.org in ORGS else None
    return {
        **simple_user(login), "name": name, "company": company, "blog": "", "location": None,
        "email": person.email if person is not None else None, "hireable": None, "bio": None,
        "twitter_username": None, "public_repos": 3, "public_gists": 0, "followers": 4, "following": 2,
        "created_at": "2019-03-04T08:00:00Z", "updated_at": "2025-01-02T09:00:00Z",
    }


def org_object(org: str, full: bool = False) -> dict[str, Any]:
    """An organisation as `/users/{login}/orgs` lists it, or (`full`) as `GET /orgs/{org}` returns it."""
    oid = 90_000_000 + sorted(ORGS.values()).index(org)
    url = f"{API}/orgs/{org}"
    short = {"login": org, "id": oid, "node_id": "O_kgDO" + _b36(oid), "url": url, "repos_url": f"{url}/repos",
             "events_url": f"{url}/events", "hooks_url": f"{url}/hooks", "issues_url": f"{url}/issues",
             "members_url": f"{url}/members{{/member}}", "public_members_url": f"{url}/public_members{{/member}}",
             "avatar_url": f"https://avatars.githubusercontent.com/u/{oid}?v=4", "description": None}
    if not full:
        return short
    name = next(config_name for config_name, login in ORGS.items() if login == org)
    return {**short, "name": name, "company": None, "blog": "", "location": None, "email": None,
            "is_verified": False, "has_organization_projects": True, "has_repository_projects": True,
            "public_repos": 2, "public_gists": 0, "followers": 0, "following": 0, "html_url": f"{WEB}/{org}",
            "created_at": "2018-01-15T10:00:00Z", "updated_at": "2025-01-02T09:00:00Z", "type": "Organization"}


def members(org: str) -> list[str]:
    """Current (end of the scenario) members of a GitHub organisation: the mover is Acme's by then."""
    config_name = next(name for name, login in ORGS.items() if login == org)
    found = [login_of(p) for p in PEOPLE if p.org == config_name and p.active]
    if config_name == CLIENT_ORG:
        found.append(login_of(MOVER))
    return sorted(found)


def orgs_of(login: str) -> list[str]:
    """The GitHub organisations a user is a public member of."""
    return [org for org in sorted(ORGS.values()) if login in members(org)]


def association(login: str, owner: str) -> str:
    """`author_association` of a login in a repository owned by `owner`."""
    if login in members(owner):
        return "MEMBER"
    if is_bot(login):
        return "NONE"
    person = PERSON_OF_LOGIN.get(login)
    if person is not None and (person.org == PARTNER_ORG or person.handle == "quinn"):
        return "COLLABORATOR"  # the partner's people work in the client's repositories as collaborators
    return "CONTRIBUTOR"


def github_scenario_config(start: date = date(2025, 1, 1), months: int = 18) -> dict[str, Any]:
    """The organisations, enrollments and people of the GitHub scenario in Partnerscope's config shape.

    `organisations[*].accounts` are `github:<login>`; `github_orgs` names each organisation's
    GitHub organisation; the mover is enrolled by date; `people` merges each person's Jira and
    GitHub accounts (both trackers' demos share the cast).
    """
    moved = move_date(start, months)
    organisations = []
    for name, side, domain in ((CLIENT_ORG, CLIENT, CLIENT_DOMAIN), (PARTNER_ORG, PARTNER, PARTNER_DOMAIN)):
        accounts = [f"github:{login_of(p)}" for p in PEOPLE if p.org == name]
        organisations.append({"name": name, "side": side, "domains": [domain], "accounts": accounts,
                              "github_orgs": [ORGS[name]]})
    mover = f"github:{login_of(MOVER)}"
    enrollments = [
        {"account": mover, "organisation": PARTNER_ORG, "until": moved - timedelta(days=1)},
        {"account": mover, "organisation": CLIENT_ORG, "from": moved},
    ]
    people = [{"name": p.name, "accounts": [p.ref, f"github:{login_of(p)}"]} for p in PEOPLE if p.handle != "bot"]
    return {"organisations": organisations, "enrollments": enrollments, "people": people}


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    while number:
        number, rest = divmod(number, len(digits))
        text = digits[rest] + text
    return text or "0"
