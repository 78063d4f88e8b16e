"""The cast of the demo scenario: Acme (client), Nordlys (partner) and a few unaffiliated accounts.

People are the same for every seed and size, so `scenario_config()` needs no arguments
beyond the scenario's dates. Each person has the roles they can play and the stretches of the
scenario in which they act, and for which side; the mover is a Nordlys tester who joins Acme
part-way through with the same Jira accountId. The configuration lists affiliated people by
accountId, as on Jira Cloud, where most profiles hide the email address.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta

CLIENT, PARTNER = "client", "partner"
CLIENT_ORG, PARTNER_ORG = "Acme", "Nordlys"
CLIENT_DOMAIN, PARTNER_DOMAIN = "acme.example", "nordlys.example"


@dataclass(frozen=True, slots=True)
class Person:
    """One Jira account and how it behaves in the scenario."""

    handle: str
    name: str
    org: str | None  # organisation in the configuration; None: unaffiliated (or enrolled)
    roles: frozenset[str]
    stints: tuple[tuple[float, float, str], ...]  # (from, until) as fractions of the period, side
    email: str | None = None  # only public profiles show it on Jira Cloud
    weight: float = 1.0
    active: bool = True
    account_type: str = "atlassian"
    legacy_id: bool = False  # accounts migrated from Server keep a 24-hex accountId
    time_zone: str = "Europe/Oslo"
    account_id: str = field(init=False)

    def __post_init__(self) -> None:
        # Stable ids in Cloud's two formats, derived from the handle so they never change.
        digest = hashlib.sha256(f"partnerscope-demo:{self.handle}".encode()).hexdigest()
        prefix = "557058" if self.account_type == "app" else "712020"  # Atlassian's app / user id prefixes
        account_id = digest[:24] if self.legacy_id else (
            f"{prefix}:{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}")
        object.__setattr__(self, "account_id", account_id)

    @property
    def ref(self) -> str:
        return f"jira:{self.account_id}"


def _roles(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Role names used by the lifecycle: detect, incident (reports incidents), specify (writes scope
# tickets), cospec (comments/edits in refinement), improve, prioritise, investigate, develop,
# review, test, accept, deploy, close, comment, interfere (client moving partner-owned work).
# MOVE marks the mover's switch; its date comes from `move_date`.
MOVE = -1.0
_WHOLE = ((0.0, 1.0, CLIENT),)
_WHOLE_P = ((0.0, 1.0, PARTNER),)

PEOPLE: tuple[Person, ...] = (
    # Acme, the client
    Person("astrid", "Astrid Holm", CLIENT_ORG, _roles("specify cospec prioritise accept improve close interfere comment detect"),
           _WHOLE, email=f"astrid.holm@{CLIENT_DOMAIN}", weight=1.5, legacy_id=True),
    Person("ben", "Ben Carter", CLIENT_ORG, _roles("detect test accept investigate close comment"), _WHOLE, weight=1.3,
           time_zone="Europe/London"),
    Person("chloe", "Chloe Martin", CLIENT_ORG, _roles("detect test comment"), _WHOLE),
    Person("daniel", "Daniel Okafor", CLIENT_ORG, _roles("deploy investigate incident close comment interfere"), _WHOLE,
           email=f"daniel.okafor@{CLIENT_DOMAIN}", weight=1.2),
    Person("emma", "Emma Lindqvist", CLIENT_ORG, _roles("specify cospec accept improve prioritise comment"), _WHOLE,
           time_zone="Europe/Stockholm"),
    Person("farid", "Farid Haddad", CLIENT_ORG, _roles("detect incident comment"), _WHOLE, weight=0.8),
    # Nordlys, the partner
    Person("henrik", "Henrik Aas", PARTNER_ORG,
           _roles("investigate review deploy cospec improve prioritise develop comment specify"),
           _WHOLE_P, email=f"henrik.aas@{PARTNER_DOMAIN}", weight=1.4),
    Person("ingrid", "Ingrid Solberg", None, _roles("test detect accept cospec comment"),
           ((0.0, MOVE, PARTNER), (MOVE, 1.0, CLIENT)), weight=1.3),
    Person("jonas", "Jonas Berg", PARTNER_ORG, _roles("develop investigate review comment detect"), _WHOLE_P, legacy_id=True),
    Person("kari", "Kari Nilsen", PARTNER_ORG, _roles("develop investigate review comment improve"), _WHOLE_P),
    Person("lars", "Lars Eide", PARTNER_ORG, _roles("develop investigate review comment"), _WHOLE_P, weight=0.9),
    Person("maja", "Maja Dahl", PARTNER_ORG, _roles("develop review comment detect improve"), _WHOLE_P),
    Person("nils", "Nils Haugen", PARTNER_ORG, _roles("deploy investigate incident comment close"), _WHOLE_P),
    Person("oda", "Oda Strand", PARTNER_ORG, _roles("cospec improve prioritise specify accept close comment"), _WHOLE_P,
           email=f"oda.strand@{PARTNER_DOMAIN}"),
    # Nordlys hires a second tester once it takes over testing.
    Person("per", "Per Lunde", PARTNER_ORG, _roles("test accept detect comment"), ((0.3, 1.0, PARTNER),)),
    # Unaffiliated: a freelance developer working with Nordlys for a while, the automation
    # bot (no email, app account), and an Acme employee who left early on (deactivated).
    Person("quinn", "Quinn Rivera", None, _roles("develop review comment"), ((0.15, 0.6, PARTNER),),
           email="quinn@rivera-consulting.example", weight=0.7, time_zone="Europe/Lisbon"),
    Person("bot", "Automation for Jira", None, frozenset(), (), account_type="app", time_zone="UTC"),
    Person("george", "George Whitfield", None, _roles("detect specify cospec comment"), ((0.0, 0.2, CLIENT),),
           active=False, time_zone="Europe/London"),
)

BY_HANDLE = {p.handle: p for p in PEOPLE}
BOT = BY_HANDLE["bot"]
MOVER = BY_HANDLE["ingrid"]


def add_months(day: date, months: int) -> date:
    """`day` moved by whole calendar months; days after the 28th become the 28th, which every month has."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def move_date(start: date, months: int) -> date:
    """The first day the mover works for Acme: a little before the middle of the period."""
    return add_months(start, max(1, (months * 4) // 9))


def scenario_config(start: date = date(2025, 1, 1), months: int = 18) -> dict:
    """The scenario's organisations and enrollments in the shape of Partnerscope's TOML config."""
    moved = move_date(start, months)
    organisations = []
    for name, side, domain in ((CLIENT_ORG, CLIENT, CLIENT_DOMAIN), (PARTNER_ORG, PARTNER, PARTNER_DOMAIN)):
        accounts = [p.ref for p in PEOPLE if p.org == name]
        organisations.append({"name": name, "side": side, "domains": [domain], "accounts": accounts})
    enrollments = [
        {"account": MOVER.ref, "organisation": PARTNER_ORG, "until": moved - timedelta(days=1)},
        {"account": MOVER.ref, "organisation": CLIENT_ORG, "from": moved},
    ]
    return {"organisations": organisations, "enrollments": enrollments}


def _toml_string(value: str) -> str:
    # The demo's strings are plain ASCII; escape the two characters TOML basic strings forbid.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scenario_toml(start: date = date(2025, 1, 1), months: int = 18) -> str:
    """`scenario_config()` as TOML text, with the people's names as comments, for a demo config file."""
    config = scenario_config(start, months)
    names = {p.ref: p.name for p in PEOPLE}
    lines = [
        "# Demo scenario: Acme (client) and its outsourcing partner Nordlys.",
        "# Jira Cloud hides most email addresses, so people are listed by accountId.",
    ]
    for org in config["organisations"]:
        lines += ["", "[[organisations]]", f"name = {_toml_string(org['name'])}", f"side = {_toml_string(org['side'])}",
                  "domains = [" + ", ".join(map(_toml_string, org["domains"])) + "]", "accounts = ["]
        lines += [f"    {_toml_string(ref)},  # {names[ref]}" for ref in org["accounts"]]
        lines.append("]")
    lines += ["", f"# {MOVER.name} moves from {PARTNER_ORG} to {CLIENT_ORG}; same account throughout."]
    for enrollment in config["enrollments"]:
        lines += ["", "[[enrollments]]"]
        for key in ("account", "organisation", "from", "until"):
            value = enrollment.get(key)
            if isinstance(value, date):
                lines.append(f"{key} = {value.isoformat()}")
            elif value is not None:
                lines.append(f"{key} = {_toml_string(value)}")
    return "\n".join(lines) + "\n"
