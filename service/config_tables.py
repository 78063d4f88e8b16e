"""Reading TOML tables: each mistake is one sentence naming the file and the key (ConfigError)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from service.config_values import has_control


class ConfigError(Exception):
    """A configuration mistake; the message is one sentence naming the file and the key."""


def no_unknown(table: Mapping[str, Any], allowed: set[str], origin: str, where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{origin}: {where}key '{key}' is not a known setting; known: {', '.join(sorted(allowed))}.")


def table(data: Mapping[str, Any], key: str, origin: str, name: str | None = None) -> Mapping[str, Any]:
    """The table `key` of `data` (empty when absent); `name` is its full dotted name, for nested tables."""
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{origin}: [{name or key}] must be a table.")
    return value


def array(data: Mapping[str, Any], key: str, origin: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{origin}: '{key}' must be an array of tables ([[{key}]]).")
    return value


def text(table: Mapping[str, Any], key: str, origin: str, where: str, default: str | None = None,
         allow: str = "") -> str:
    value = table.get(key, default)
    if value is None:
        raise ConfigError(f"{origin}: {where}key '{key}' is missing.")
    if not isinstance(value, str) or (not value.strip() and default is None):
        raise ConfigError(f"{origin}: {where}key '{key}' must be a non-empty string.")
    if has_control(value.strip(), allow):  # names and ids are printed on terminals and in one-line errors
        raise ConfigError(f"{origin}: {where}key '{key}' must not contain control characters.")
    return value.strip()


def text_list(table: Mapping[str, Any], key: str, origin: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() and not has_control(v.strip())
                                              for v in value):
        raise ConfigError(f"{origin}: {where} key '{key}' must be a list of strings without control characters.")
    return [v.strip() for v in value]


def text_map(table: Mapping[str, Any], origin: str, where: str) -> dict[str, str]:
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigError(f"{origin}: {where} \"{key}\" must map to a string.")
    return dict(table)


def day(table: Mapping[str, Any], key: str, origin: str, where: str) -> date | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{origin}: {where} key '{key}' is {value!r}; write a date as 2025-01-31.")
