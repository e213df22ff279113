"""Configuration: one packaged TOML file holds every default (``default_config.toml``);
a user's ``aftercare.toml`` (or ``--config FILE``) overrides any key.

Validation follows the packaged file: a key it does not have is an error naming the key,
and so is a value whose type differs from the default's (an int is accepted where a float
is expected). A few tables are open maps whose keys are the user's own words (brand
names, aliases, kinds); their values are checked against a fixed shape.
"""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from aftercare.errors import ConfigError

DEFAULT_FILE = "default_config.toml"
TABLES = ("vehicles", "customers", "repair_orders", "ro_lines")
KINDS = (
    "first_service",
    "maintenance",
    "repair",
    "bodyshop",
    "warranty",
    "campaign",
    "internal",
    "other",
)
REMINDER_KINDS = (
    "first_service",
    "maintenance",
    "warranty",
    "inspection",
    "insurance",
    "birthday",
    "declined",
    "followup",
    "delivery_followup",
)
# Keys of a [schedule] table that a brand or model may override.
SCHEDULE_KEYS = (
    "first_service_km",
    "first_service_months",
    "first_service_max_age_months",
    "interval_km",
    "interval_months",
    "warranty_years",
    "warranty_km",
)


def default_text() -> str:
    """The packaged default file, with its comments (what `config init` writes)."""
    return resources.files("aftercare").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")


def defaults() -> dict[str, Any]:
    return tomllib.loads(default_text())


def load_config(path: Path | str | None = None, *, explicit: bool = False) -> dict[str, Any]:
    """Defaults merged with the user's file.

    ``path`` None means ``./aftercare.toml`` when present. An explicit path that does not
    exist is an error.
    """
    cfg = defaults()
    if path is None:
        candidate = Path("aftercare.toml")
        if not candidate.is_file():
            return cfg
        path = candidate
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"配置文件不存在: {path} (config file not found)")
    try:
        user = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: 配置文件格式错误 (TOML): {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: 配置文件必须是 UTF-8 编码") from None
    return merge(cfg, user, source=str(path))


def merge(base: dict[str, Any], user: dict[str, Any], *, source: str = "config") -> dict[str, Any]:
    out = copy.deepcopy(base)
    _merge_into(out, user, (), source)
    return out


def _merge_into(base: dict, user: dict, path: tuple[str, ...], source: str) -> None:
    for key, value in user.items():
        keypath = path + (key,)
        open_shape = _open_map_shape(keypath[:-1])
        if open_shape is not None:
            _check_open(keypath, value, open_shape, source)
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                # a packaged brand given again: the user's keys win over the packaged ones
                base[key] = {**base[key], **copy.deepcopy(value)}
            else:
                base[key] = copy.deepcopy(value)
            continue
        if key not in base:
            raise ConfigError(f"{source}: 未知的配置项 '{_dotted(keypath)}' (unknown config key)")
        default = base[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise _type_error(source, keypath, "table", value)
            _merge_into(default, value, keypath, source)
        else:
            base[key] = _checked(source, keypath, default, value)


def _open_map_shape(parent: tuple[str, ...]):
    """The value shape of an open map at ``parent`` (None when the table is closed)."""
    if parent == ("aliases",):
        return "aliases_table"
    if len(parent) == 2 and parent[0] == "aliases":
        return "str_list"
    if parent == ("data", "tables"):
        return "str_list"
    if parent == ("service_types",):
        return "str_list"
    if parent == ("schedule", "brands"):
        return "brand"
    if len(parent) == 4 and parent[:2] == ("schedule", "brands") and parent[3] == "models":
        return "model"
    if parent in (("scripts",), ("sms",)):
        return "str"
    return None


def _check_open(keypath, value, shape, source) -> None:
    key = keypath[-1]
    if shape == "aliases_table":
        if key not in TABLES:
            raise ConfigError(
                f"{source}: 未知的表 '{_dotted(keypath)}'，可用: {', '.join(TABLES)} (unknown table)"
            )
        if not isinstance(value, dict):
            raise _type_error(source, keypath, "table", value)
        from aftercare.load.aliases import ALIASES

        for field, aliases in value.items():
            if field not in ALIASES[key]:
                raise ConfigError(
                    f"{source}: 未知的字段 '{_dotted(keypath + (field,))}'，"
                    f"表 {key} 的字段有: {', '.join(ALIASES[key])} (unknown field)"
                )
            _check_str_list(source, keypath + (field,), aliases)
        return
    if shape == "str_list":
        if keypath[:2] == ("data", "tables") and key not in TABLES:
            raise ConfigError(f"{source}: 未知的表 '{_dotted(keypath)}'，可用: {', '.join(TABLES)}")
        if keypath[0] == "service_types" and key not in KINDS:
            raise ConfigError(
                f"{source}: 未知的维修类型 '{_dotted(keypath)}'，可用: {', '.join(KINDS)}"
            )
        _check_str_list(source, keypath, value)
        return
    if shape == "str":
        if key not in REMINDER_KINDS:
            raise ConfigError(
                f"{source}: 未知的提醒类型 '{_dotted(keypath)}'，可用: {', '.join(REMINDER_KINDS)}"
            )
        if not isinstance(value, str):
            raise _type_error(source, keypath, "string", value)
        return
    # brand / model tables
    if not isinstance(value, dict):
        raise _type_error(source, keypath, "table", value)
    allowed = set(SCHEDULE_KEYS) | ({"names", "models"} if shape == "brand" else {"names"})
    for k, v in value.items():
        kp = keypath + (k,)
        if k not in allowed:
            raise ConfigError(f"{source}: 未知的配置项 '{_dotted(kp)}' (unknown config key)")
        if k == "names":
            _check_str_list(source, kp, v)
        elif k == "models":
            if not isinstance(v, dict):
                raise _type_error(source, kp, "table", v)
            for model, mv in v.items():
                _check_open(kp + (model,), mv, "model", source)
        elif isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise _type_error(source, kp, "positive integer", v)


def _check_str_list(source, keypath, value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _type_error(source, keypath, "list of strings", value)


def _checked(source, keypath, default, value):
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise _type_error(source, keypath, "true/false", value)
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(source, keypath, "integer", value)
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(source, keypath, "number", value)
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise _type_error(source, keypath, "string", value)
        return value
    if isinstance(default, list):
        if not isinstance(value, list):
            raise _type_error(source, keypath, "list", value)
        kinds = {type(v) for v in default}
        if kinds and not all(type(v) in kinds for v in value):
            want = "integers" if kinds == {int} else "strings"
            raise _type_error(source, keypath, f"list of {want}", value)
        return value
    return value


def _type_error(source, keypath, expected, value) -> ConfigError:
    return ConfigError(
        f"{source}: 配置项 '{_dotted(keypath)}' 类型错误: 应为 {expected}，"
        f"实际为 {type(value).__name__} (wrong type)"
    )


def _dotted(keypath) -> str:
    return ".".join(f'"{k}"' if not k.isascii() or "." in k or " " in k else k for k in keypath)


def brand_schedule(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Brand name (every spelling, case-folded) → its schedule merged over the defaults."""
    base = {k: cfg["schedule"][k] for k in SCHEDULE_KEYS}
    out: dict[str, dict[str, Any]] = {}
    for brand, spec in cfg["schedule"].get("brands", {}).items():
        merged = {**base, **{k: v for k, v in spec.items() if k in SCHEDULE_KEYS}}
        merged["brand"] = brand
        merged["models"] = {
            m.casefold(): {**merged, **{k: v for k, v in ms.items() if k in SCHEDULE_KEYS}}
            for m, ms in spec.get("models", {}).items()
        }
        for name in [brand, *spec.get("names", [])]:
            out[name.strip().casefold()] = merged
    return out
