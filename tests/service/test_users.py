"""Users and API tokens from the command line: hashes only, one sentence for every bad value."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from service.store.db import transaction
from service.store.models import ApiToken, User
from service.store.users import authenticate, user_for_token
from tests.service.test_report_inputs import cli


@pytest.fixture
def user_config(db_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return path


def run(capsys, monkeypatch, config: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """The real entry point with `stdin` piped in; (exit status, stdout, stderr)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli(capsys, config, *args)


def test_a_user_added_from_stdin_logs_in_with_that_password_only(user_config, capsys, monkeypatch, sessions) -> None:
    code, out, err = run(capsys, monkeypatch, user_config, "users", "add", "ada", "--role", "admin",
                         stdin="correct horse battery\n")
    assert (code, out, err) == (0, "added ada (admin)\n", "")
    with sessions() as s:
        stored = s.scalar(select(User))
        assert stored.role == "admin" and "correct horse" not in stored.password_hash
        assert stored.password_hash.startswith("scrypt:")
        assert authenticate(s, "ada", "correct horse battery") is not None
        assert authenticate(s, "ada", "correct horse battery ") is None
        assert authenticate(s, "bob", "correct horse battery") is None
    code, out, err = run(capsys, monkeypatch, user_config, "users", "list")
    assert code == 0, err
    assert out.startswith("ada  admin  added ") and out.endswith("  0 tokens\n")


def test_a_token_is_shown_once_kept_as_a_hash_and_revoked(user_config, capsys, monkeypatch, sessions) -> None:
    run(capsys, monkeypatch, user_config, "users", "add", "vic", stdin="a long enough password\n")
    code, token, _ = run(capsys, monkeypatch, user_config, "tokens", "create", "vic")
    token = token.strip()
    assert code == 0 and token.startswith("pst_") and len(token) > 40
    with sessions() as s:
        assert token not in {t.token_hash for t in s.scalars(select(ApiToken))}
        assert user_for_token(s, token).name == "vic" and user_for_token(s, token + "x") is None
    assert run(capsys, monkeypatch, user_config, "tokens", "revoke", "vic")[1] == "revoked 1 tokens of vic\n"
    with sessions() as s:
        assert user_for_token(s, token) is None


@pytest.mark.parametrize("args, stdin, expected", [
    pytest.param(["users", "add", "ada lovelace"], "a long enough password\n", "a user name is 1 to 64", id="name-space"),
    pytest.param(["users", "add", "a" * 65], "a long enough password\n", "a user name is 1 to 64", id="name-too-long"),
    pytest.param(["users", "add", "-x"], "a long enough password\n", "No such option", id="name-like-a-flag"),
    pytest.param(["users", "add", "ädä"], "a long enough password\n", "a user name is 1 to 64", id="name-non-ascii"),
    pytest.param(["users", "add", "ada\x00"], "a long enough password\n", "a user name is 1 to 64", id="name-nul"),
    pytest.param(["users", "add", "ada", "--role", "root"], "a long enough password\n", "Invalid value for '--role'",
                 id="role-unknown"),
    pytest.param(["users", "add", "ada"], "short\n", "a password has 10 to 1024 characters", id="password-short"),
    pytest.param(["users", "add", "ada"], "x" * 1025 + "\n", "a password has 10 to 1024", id="password-huge"),
    pytest.param(["users", "add", "ada"], "tab\tinside the password\n", "no control characters", id="password-control"),
    pytest.param(["users", "add", "ada"], "", "no password", id="password-none"),
    pytest.param(["tokens", "create", "nobody"], "", "no user is named nobody", id="token-unknown-user"),
    pytest.param(["tokens", "revoke", "nobody"], "", "no user is named nobody", id="revoke-unknown-user"),
])
def test_bad_values_are_refused_in_one_sentence(user_config, capsys, monkeypatch, sessions, args, stdin, expected) -> None:
    code, out, err = run(capsys, monkeypatch, user_config, *args, stdin=stdin)
    assert code == 2 and expected in err and "Traceback" not in err + out
    with sessions() as s:
        assert s.scalar(select(User)) is None


def test_a_second_user_of_the_same_name_is_refused(user_config, capsys, monkeypatch, sessions) -> None:
    run(capsys, monkeypatch, user_config, "users", "add", "ada", stdin="a long enough password\n")
    code, _, err = run(capsys, monkeypatch, user_config, "users", "add", "ada", "--role", "admin",
                       stdin="another long password\n")
    assert code == 2 and "a user named ada exists already" in err
    with transaction(sessions) as s:
        assert [(u.name, u.role) for u in s.scalars(select(User))] == [("ada", "viewer")]
