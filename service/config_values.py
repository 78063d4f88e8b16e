"""Checks of single configuration values that need more than a type: what `config.py` refuses.

Each check returns what is wrong as a clause ("must not carry a user name or password") or
None, and never repeats the value: a value in the wrong key may be a secret (a token pasted
into `token_env`, a password in a URL), and it is not ours to print. `config.py` puts the
file, the table and the key in front to make the sentence.
"""
from __future__ import annotations

import re

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_NAME_MAX = 64
# How the trackers' tokens begin: Atlassian API tokens, GitHub's classic, OAuth, app and
# fine-grained tokens, GitLab and Slack tokens that end up in the wrong place too.
_TOKEN_PREFIXES = ("ATATT", "ATCTT", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox")


def token_env_problem(value: str) -> str | None:
    """Why `value` cannot be the NAME of the variable holding a token (it may be the token itself)."""
    if (not _ENV_NAME.fullmatch(value) or len(value) > _ENV_NAME_MAX or value.startswith(_TOKEN_PREFIXES)
            or _looks_random(value)):
        return ("must hold the NAME of an environment variable (letters, digits and _, such as JIRA_API_TOKEN), "
                "not the token: its value looks like a secret, so it is not shown here")
    return None


def _looks_random(value: str) -> bool:
    # Variable names are short words joined by "_"; a long run without one, or one that mixes
    # cases and digits like base64 or hex does, is a token (Jira Server PATs, old GitHub tokens).
    if len(value) < 20:
        return False
    mixed = any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value)
    return "_" not in value or mixed
