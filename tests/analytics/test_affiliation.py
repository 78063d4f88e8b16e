from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from analytics.affiliation import Affiliation, Affiliator, Enrollment, Organisation

ACME = Organisation("Acme", "client", domains=("acme.example",), accounts=("jira:acme-admin",))
NORDSOFT = Organisation("Nordsoft", "partner", domains=("nordsoft.example",), accounts=("jira:5b10ac8d", "github:Dag-Lund"))
ORGS = (ACME, NORDSOFT)

HIRED = date(2025, 6, 1)  # Anna leaves Nordsoft and joins Acme
LEFT = date(2025, 9, 30)  # Erik's partner contract ends (inclusive)


def at(day: date, hour: int = 12, tz: timezone = timezone.utc) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz)


def affiliator() -> Affiliator:
    return Affiliator(
        ORGS,
        [
            Enrollment("jira:anna", "Nordsoft"),  # from the start, open-ended
            Enrollment("jira:anna", "Acme", start=HIRED),  # the later start wins from the hire date
            Enrollment("erik@acme.example", "Nordsoft", start=date(2025, 3, 1), until=LEFT),
            Enrollment("jira:5b10ac8d", "Acme", start=date(2025, 1, 1), until=date(2025, 1, 31)),
        ],
    )


CLIENT_ENROLLED = Affiliation("Acme", "client", "enrollment")
PARTNER_ENROLLED = Affiliation("Nordsoft", "partner", "enrollment")
UNKNOWN = Affiliation(None, "unknown", "none")


@pytest.mark.parametrize(
    "ref, email, when, expected",
    [
        pytest.param("jira:anna", None, at(HIRED - timedelta(days=1)), PARTNER_ENROLLED, id="before-from"),
        pytest.param("jira:anna", None, at(HIRED, hour=0), CLIENT_ENROLLED, id="at-from-inclusive"),
        pytest.param("jira:anna", None, at(HIRED + timedelta(days=1)), CLIENT_ENROLLED, id="after-from"),
        pytest.param(
            "jira:anna", None, datetime(2025, 6, 1, 1, tzinfo=timezone(timedelta(hours=3))), PARTNER_ENROLLED,
            id="date-compared-in-utc",  # 01:00 at +03:00 is still 31 May in UTC
        ),
        pytest.param("JIRA:ANNA", None, at(HIRED), CLIENT_ENROLLED, id="ref-case-insensitive"),
        pytest.param("jira:erik", "erik@acme.example", at(date(2025, 2, 28)), Affiliation("Acme", "client", "domain"),
                     id="email-enrollment-before-from-falls-to-domain"),
        pytest.param("jira:erik", "Erik@Acme.example", at(date(2025, 3, 1)), PARTNER_ENROLLED,
                     id="email-enrollment-at-from"),
        pytest.param("jira:erik", "erik@acme.example", at(LEFT, hour=23), PARTNER_ENROLLED, id="at-until-inclusive"),
        pytest.param("jira:erik", "erik@acme.example", at(LEFT + timedelta(days=1), hour=0),
                     Affiliation("Acme", "client", "domain"), id="after-until"),
        pytest.param(None, "erik@acme.example", at(date(2025, 4, 1)), PARTNER_ENROLLED, id="email-alone"),
        pytest.param("jira:5b10ac8d", None, at(date(2025, 1, 15)), CLIENT_ENROLLED, id="enrollment-beats-account-list"),
        pytest.param("jira:5b10ac8d", None, at(date(2025, 2, 1)), Affiliation("Nordsoft", "partner", "account"),
                     id="account-list-outside-enrollment"),
        pytest.param("github:dag-lund", None, at(date(2025, 2, 1)), Affiliation("Nordsoft", "partner", "account"),
                     id="account-list-case-insensitive"),
        pytest.param("jira:acme-admin", "someone@nordsoft.example", at(date(2025, 2, 1)),
                     Affiliation("Acme", "client", "account"), id="account-list-beats-domain"),
        pytest.param("jira:x", "x@nordsoft.example", at(date(2025, 2, 1)), Affiliation("Nordsoft", "partner", "domain"),
                     id="domain"),
        pytest.param("jira:x", "x@Dev.Nordsoft.EXAMPLE", at(date(2025, 2, 1)), Affiliation("Nordsoft", "partner", "domain"),
                     id="subdomain-case-insensitive"),
        pytest.param("jira:x", "x@notnordsoft.example", at(date(2025, 2, 1)), UNKNOWN, id="suffix-is-not-subdomain"),
        pytest.param("jira:x", "x@gmail.example", at(date(2025, 2, 1)), UNKNOWN, id="unknown-domain"),
        pytest.param("jira:x", None, at(date(2025, 2, 1)), UNKNOWN, id="unknown-account-no-email"),
        pytest.param("jira:x", "not-an-email", at(date(2025, 2, 1)), UNKNOWN, id="malformed-email"),
        pytest.param(None, None, at(date(2025, 2, 1)), UNKNOWN, id="no-account"),
    ],
)
def test_affiliate(ref: str | None, email: str | None, when: datetime, expected: Affiliation) -> None:
    assert affiliator().affiliate(ref, email, when) == expected


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert affiliator().affiliate("jira:anna", None, datetime(2025, 6, 1, 0, 30)) == CLIENT_ENROLLED
    assert affiliator().affiliate("jira:anna", None, datetime(2025, 5, 31, 23, 30)) == PARTNER_ENROLLED


def test_overlapping_enrollments_with_same_start_keep_the_first_listed() -> None:
    aff = Affiliator(ORGS, [Enrollment("jira:p", "Acme"), Enrollment("jira:p", "Nordsoft")])
    assert aff.affiliate("jira:p", None, at(date(2025, 1, 1))) == CLIENT_ENROLLED


@pytest.mark.parametrize(
    "organisations, enrollments, words",
    [
        pytest.param(ORGS, [Enrollment("jira:p", "Acme Corp")], ["jira:p", "Acme Corp", "not defined"],
                     id="unknown-organisation"),
        pytest.param([Organisation("Acme", "customer")], [], ["Acme", "customer"], id="bad-side"),
        pytest.param(ORGS, [Enrollment("jira:p", "Acme", start=date(2025, 5, 1), until=date(2025, 4, 30))],
                     ["jira:p", "2025-04-30", "2025-05-01"], id="until-before-from"),
        pytest.param([ACME, ACME], [], ["Acme", "twice"], id="duplicate-organisation"),
        pytest.param([ACME, Organisation("Other", "partner", domains=("ACME.example",))], [],
                     ["ACME.example", "Acme", "Other"], id="domain-claimed-twice"),
        pytest.param([ACME, Organisation("Other", "partner", accounts=("jira:acme-admin",))], [],
                     ["jira:acme-admin", "Other"], id="account-claimed-twice"),
    ],
)
def test_invalid_configuration_is_a_value_error_naming_it(organisations, enrollments, words: list[str]) -> None:
    with pytest.raises(ValueError) as error:
        Affiliator(organisations, enrollments)
    for word in words:
        assert word in str(error.value)


def test_one_day_enrollment_is_valid_and_inclusive() -> None:
    day = date(2025, 5, 1)
    aff = Affiliator(ORGS, [Enrollment("jira:p", "Nordsoft", start=day, until=day)])
    assert aff.affiliate("jira:p", None, at(day, hour=23)) == PARTNER_ENROLLED
    assert aff.affiliate("jira:p", None, at(day + timedelta(days=1), hour=0)) == UNKNOWN
