"""The scenario's cast and configuration, and the shift from win-lose to win-win in the generated JSON."""
from __future__ import annotations

import tomllib
from collections import Counter
from datetime import date, datetime
from typing import Any, Iterator

import pytest

from simulator.scenario import scenario_config, scenario_toml

CONFIG = scenario_config()
MIDDLE = date(2025, 10, 1)  # halfway through the default 18 months from 2025-01-01


def side_at(ref: str, day: date) -> str:
    """The side an account acted for on `day`: enrollments first, then account lists (as configured)."""
    sides = {org["name"]: org["side"] for org in CONFIG["organisations"]}
    for enrollment in CONFIG["enrollments"]:
        if enrollment["account"] == ref and enrollment.get("from", date.min) <= day <= enrollment.get("until", date.max):
            return sides[enrollment["organisation"]]
    for org in CONFIG["organisations"]:
        if ref in org["accounts"]:
            return org["side"]
    return "unknown"


def day_of(value: str) -> date:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").date()


def transitions(issues: list[dict[str, Any]]) -> Iterator[tuple[str, str, str | None, date]]:
    """(from status, to status, author ref, day) of every status change."""
    for issue in issues:
        for history in issue["changelog"]["histories"]:
            author = history.get("author")
            ref = f"jira:{author['accountId']}" if author else None
            for item in history["items"]:
                if item["field"] == "status":
                    yield item["fromString"], item["toString"], ref, day_of(history["created"])


def acts(issues: list[dict[str, Any]]) -> Iterator[tuple[str, date]]:
    """(author ref, day) of every history and comment with an author."""
    for issue in issues:
        for history in issue["changelog"]["histories"]:
            if "author" in history:
                yield f"jira:{history['author']['accountId']}", day_of(history["created"])
        for comment in issue["fields"]["comment"]["comments"]:
            if "author" in comment:
                yield f"jira:{comment['author']['accountId']}", day_of(comment["created"])


def partner_share(rows: list[tuple[str | None, date]]) -> tuple[float, int]:
    sides = Counter(side_at(ref, day) if ref else "unknown" for ref, day in rows)
    known = sides["partner"] + sides["client"]
    return sides["partner"] / known, known


def test_config_shape() -> None:
    orgs = {org["name"]: org for org in CONFIG["organisations"]}
    assert orgs["Acme"]["side"] == "client" and orgs["Acme"]["domains"] == ["acme.example"]
    assert orgs["Nordlys"]["side"] == "partner" and orgs["Nordlys"]["domains"] == ["nordlys.example"]
    assert 5 <= len(orgs["Acme"]["accounts"]) <= 8 and 6 <= len(orgs["Nordlys"]["accounts"]) <= 10
    assert all(ref.startswith("jira:") for org in orgs.values() for ref in org["accounts"])
    assert not set(orgs["Acme"]["accounts"]) & set(orgs["Nordlys"]["accounts"])
    until, since = CONFIG["enrollments"]
    assert until["account"] == since["account"]
    assert (until["organisation"], since["organisation"]) == ("Nordlys", "Acme")
    assert (since["from"] - until["until"]).days == 1
    assert date(2025, 6, 1) <= since["from"] <= date(2025, 12, 31)


def test_toml_text_parses_to_the_same_config() -> None:
    assert tomllib.loads(scenario_toml()) == CONFIG


def test_config_follows_the_period() -> None:
    moved = scenario_config(start=date(2024, 1, 1), months=12)["enrollments"][1]["from"]
    assert date(2024, 4, 1) <= moved <= date(2024, 9, 1)
    assert tomllib.loads(scenario_toml(date(2024, 1, 1), 12)) == scenario_config(date(2024, 1, 1), 12)


def test_the_service_accepts_the_config() -> None:
    from service.config import parse_config

    config = parse_config(CONFIG, None)
    assert {org.name for org in config.organisations} == {"Acme", "Nordlys"}


@pytest.mark.parametrize(
    "source, first_half_below, second_half_above",
    [
        pytest.param("In QA", 0.4, 0.6, id="testing"),
        pytest.param("Ready for Release", 0.4, 0.6, id="deploying"),
        pytest.param("UAT", 0.3, 0.3, id="acceptance-shifts-less"),
    ],
)
def test_the_partner_takes_over_testing_and_deploying(issues, source, first_half_below, second_half_above) -> None:
    moves = [(ref, day) for old, _new, ref, day in transitions(issues) if old == source]
    first, first_n = partner_share([m for m in moves if m[1] < MIDDLE])
    second, second_n = partner_share([m for m in moves if m[1] >= MIDDLE])
    assert first_n > 100 and second_n > 100
    assert first < first_half_below
    assert second > second_half_above


@pytest.mark.parametrize(
    "type_name, first_half_below, second_half_above",
    [
        pytest.param("Bug", 0.4, 0.5, id="bugs-detected"),
        pytest.param("Improvement", 0.4, 0.5, id="improvements-proposed"),
    ],
)
def test_the_partner_reports_more_in_the_second_half(issues, type_name, first_half_below, second_half_above) -> None:
    rows = [(f"jira:{i['fields']['reporter']['accountId']}" if i["fields"]["reporter"] else None,
             day_of(i["fields"]["created"])) for i in issues if i["fields"]["issuetype"]["name"] == type_name]
    assert partner_share([r for r in rows if r[1] < MIDDLE])[0] < first_half_below
    assert partner_share([r for r in rows if r[1] >= MIDDLE])[0] > second_half_above


def test_partner_co_specifies_in_refinement_later(issues) -> None:
    rows = []
    for issue in issues:
        for history in issue["changelog"]["histories"]:
            if "author" in history and any(i["field"] == "description" for i in history["items"]):
                rows.append((f"jira:{history['author']['accountId']}", day_of(history["created"])))
    assert partner_share([r for r in rows if r[1] < MIDDLE])[0] < 0.4
    assert partner_share([r for r in rows if r[1] >= MIDDLE])[0] > 0.6


def test_the_mover_acts_on_both_sides_of_the_move(issues) -> None:
    until, since = CONFIG["enrollments"]
    mover = until["account"]
    days = [day for ref, day in acts(issues) if ref == mover]
    before = [d for d in days if d <= until["until"]]
    after = [d for d in days if d >= since["from"]]
    assert len(before) > 20 and len(after) > 20
    tests_by_mover = [day for old, _new, ref, day in transitions(issues) if old == "In QA" and ref == mover]
    assert {side_at(mover, d) for d in tests_by_mover} == {"partner", "client"}


def test_unaffiliated_accounts_act_now_and_then(issues) -> None:
    counts = Counter(ref for ref, _day in acts(issues))
    unaffiliated = {ref: n for ref, n in counts.items() if side_at(ref, MIDDLE) == "unknown"}
    assert len(unaffiliated) >= 3  # contractor, automation bot, former employee
    assert all(n >= 5 for n in unaffiliated.values())
    assert sum(unaffiliated.values()) < 0.15 * sum(counts.values())
    users = {h["author"]["accountId"]: h["author"] for i in issues for h in i["changelog"]["histories"] if "author" in h}
    bots = [u for u in users.values() if u["accountType"] == "app"]
    assert bots and all("emailAddress" not in u for u in bots)
    assert any(not u["active"] for u in users.values())  # the former employee's account is deactivated


def test_anonymous_reporters_and_deleted_comment_authors_occur(issues) -> None:
    anonymous = [i for i in issues if i["fields"]["reporter"] is None]
    assert 3 <= len(anonymous) <= 0.03 * len(issues)
    assert all(i["fields"]["issuetype"]["name"] in ("Bug", "Incident") for i in anonymous)
    comments = [c for i in issues for c in i["fields"]["comment"]["comments"]]
    authorless = [c for c in comments if "author" not in c]
    assert 0 < len(authorless) < 0.05 * len(comments)


def test_most_users_hide_their_email(issues) -> None:
    users = {}
    for issue in issues:
        for role in ("reporter", "assignee"):
            if issue["fields"][role]:
                users[issue["fields"][role]["accountId"]] = issue["fields"][role]
    with_email = [u for u in users.values() if "emailAddress" in u]
    assert len(users) >= 15
    assert 0.15 <= len(with_email) / len(users) <= 0.4
    domains = {u["emailAddress"].split("@")[1] for u in with_email}
    assert {"acme.example", "nordlys.example"} <= domains
