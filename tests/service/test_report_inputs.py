"""Hostile values for the report's filters and the commands' flags: a clear error, never a traceback or a 500."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from service.cli import main
from tests.service.test_report import three_bugs


@pytest.fixture
def report_config(sessions, config, db_url: str, tmp_path: Path) -> Path:
    three_bugs(sessions, config)
    path = tmp_path / "c.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n[scorecard]\nmin_samples = 2\n'
        '[[organisations]]\nname = "Acme"\nside = "client"\naccounts = ["jira:client-1"]\n'
        '[[organisations]]\nname = "Nordlys"\nside = "partner"\naccounts = ["jira:partner-1"]\n',
        encoding="utf-8",
    )
    return path


def cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    """Run the real entry point; (exit status, stdout, stderr)."""
    try:
        main(["--config", str(config), *args])
        code = 0
    except SystemExit as exited:
        code = exited.code if isinstance(exited.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("bound", [
    pytest.param(["--until", "9999-12-31"], id="until-the-last-day-there-is"),
    pytest.param(["--since", "0001-01-01"], id="since-the-first-day-there-is"),
    pytest.param(["--since", "0001-01-01", "--until", "9999-12-31"], id="both-extremes"),
])
def test_extreme_dates_count_everything(report_config, capsys, bound: list[str]) -> None:
    code, everything, _ = cli(capsys, report_config, "report", "--format", "json")
    assert code == 0
    code, bounded, err = cli(capsys, report_config, "report", "--format", "json", *bound)
    assert (code, err) == (0, "")
    assert json.loads(bounded) == json.loads(everything)
    assert json.loads(bounded)["roles"]["deploy"] == {"partner": 1, "client": 2, "unknown": 0}


@pytest.mark.parametrize("args, expected", [
    pytest.param(["report", "--since", "2025-05-01", "--until", "2025-01-01"],
                 "partnerscope: 'since' (2025-05-01) is after 'until' (2025-01-01), so no act can match.",
                 id="report-since-after-until"),
    pytest.param(["report", "--project", "SHOP\x01"], "'project' must be a project key", id="report-project-control"),
    pytest.param(["report", "--project", "P" * 201], "at most 200 characters", id="report-project-too-long"),
    pytest.param(["report", "--since", "10000-01-01"], "Invalid value for '--since'", id="report-since-five-digit-year"),
    pytest.param(["report", "--format", "xml"], "Invalid value for '--format'", id="report-format-xml"),
    pytest.param(["demo", "--tickets", "-5"], "-5 is not in the range 1<=x<=1000000", id="demo-negative"),
    pytest.param(["demo", "--tickets", "0"], "0 is not in the range 1<=x<=1000000", id="demo-zero"),
    pytest.param(["demo", "--tickets", "10000000000"], "10000000000 is not in the range", id="demo-ten-billion"),
    pytest.param(["demo", "--tickets", "many"], "'many' is not a valid integer", id="demo-not-a-number"),
    pytest.param(["demo", "--no-shift=yes"], "does not take a value", id="demo-no-shift-with-value"),
    pytest.param(["serve", "--port", "70000"], "70000 is not in the range 1<=x<=65535", id="serve-port-too-high"),
    pytest.param(["serve", "--port", "0"], "0 is not in the range 1<=x<=65535", id="serve-port-zero"),
    pytest.param(["run", "--port", "-1"], "-1 is not in the range 1<=x<=65535", id="run-port-negative"),
    pytest.param(["people", "--unaffiliated=yes"], "does not take a value", id="people-flag-with-value"),
    pytest.param(["statuses", "--unmapped=1"], "does not take a value", id="statuses-flag-with-value"),
    pytest.param(["people", "merge", "jira:client-1", "jira:client-1"], "cannot merge jira:client-1 with itself",
                 id="people-merge-itself"),
])
def test_bad_flags_exit_2_with_one_clear_error(report_config, capsys, args: list[str], expected: str) -> None:
    code, out, err = cli(capsys, report_config, *args)
    assert code == 2, (out, err)
    assert expected in err
    assert "Traceback" not in err and out == ""
    assert err.strip().splitlines()[-1].startswith(("partnerscope: ", "Error: "))


def test_serve_on_a_port_in_use_is_one_sentence(report_config, capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = cli(capsys, report_config, "serve", "--port", str(port))
    assert code == 1
    assert err.strip() == f"Error: cannot serve on 127.0.0.1 port {port}: Address already in use."
    assert "serving on" not in out


def test_api_extreme_dates_answer_like_no_bound(client, sessions, config) -> None:
    three_bugs(sessions, config)
    everything = client.get("/api/report").get_json()
    for query in ("until=9999-12-31", "since=0001-01-01", "since=0001-01-01&until=9999-12-31"):
        response = client.get(f"/api/report?{query}")
        assert response.status_code == 200, query
        assert response.get_json() == everything, query
        assert client.get(f"/?{query}").status_code == 200, query


@pytest.mark.parametrize("query, message", [
    pytest.param("since=2025-05-01&until=2025-01-01", "'since' (2025-05-01) is after 'until' (2025-01-01)",
                 id="since-after-until"),
    pytest.param("project=SHOP%00", "'project' must be a project key", id="project-nul"),
    pytest.param("project=%1b%5b2J", "'project' must be a project key", id="project-escape"),
    pytest.param("project=" + "P" * 5000, "at most 200 characters", id="project-very-long"),
    pytest.param("format=xml", "'format' must be json or csv", id="format-xml"),
    pytest.param("since=" + "9" * 5000, "'since' must be a date like 2025-01-31.", id="since-very-long"),
    pytest.param("until=2025-02-30", "'until' must be a date like 2025-01-31, not '2025-02-30'.", id="until-no-such-day"),
    pytest.param("since=%00", "'since' must be a date", id="since-nul"),
])
def test_api_refuses_hostile_filters_with_a_sentence(client, sessions, config, query: str, message: str) -> None:
    three_bugs(sessions, config)
    response = client.get(f"/api/report?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert message in body["message"]
    assert len(body["message"]) < 200  # the value is not echoed back at length


@pytest.mark.parametrize("query, status", [
    pytest.param("since=2025-05-01&until=2025-01-01", 400, id="since-after-until"),
    pytest.param("project=SHOP%00", 400, id="project-nul"),
    pytest.param("project=" + "P" * 5000, 400, id="project-very-long"),
    pytest.param("format=xml", 200, id="format-is-not-a-page-filter"),
    pytest.param("format=csv", 200, id="format-csv-on-the-page"),
    pytest.param("project=%E6%97%A5%E6%9C%AC", 200, id="unicode-project"),
    pytest.param("project=%ff%fe", 200, id="not-utf-8"),
])
def test_report_page_answers_hostile_filters_without_a_500(client, sessions, config, query: str, status: int) -> None:
    three_bugs(sessions, config)
    response = client.get(f"/?{query}")
    assert response.status_code == status
    assert b"Internal Server Error" not in response.data


def test_page_links_keep_the_filters_and_drop_the_rest(client, sessions, config) -> None:
    three_bugs(sessions, config)
    page = client.get("/?project=SHOP&format=xml&since=2025-01-01").get_data(as_text=True)
    assert 'href="/api/report?project=SHOP&amp;since=2025-01-01"' in page
    assert "format=xml" not in page


def test_api_unicode_project_counts_nothing(client, sessions, config) -> None:
    three_bugs(sessions, config)
    response = client.get("/api/report?project=%E6%97%A5%E6%9C%AC")
    assert response.status_code == 200
    assert response.get_json()["roles"]["deploy"] == {"partner": 0, "client": 0, "unknown": 0}
