"""``[tool.lorlint]`` in the nearest pyproject.toml (or lorlint.toml), as ruff reads its own.

Where settings come from, lowest first: the user's configuration
(``$XDG_CONFIG_HOME/lorlint/lorlint.toml``, used when no project file is found, as ruff's), the
project's file (or the one ``--config PATH`` names instead), then ``--config KEY=VALUE`` pairs.
``--isolated`` skips every file.

``online`` is the one setting a project's own file cannot turn on: a cloned repository must not make
a pre-commit hook or a CI step open connections. It is honoured from the user's configuration, from
a file or pair given with ``--config``, and from ``--online``; a project file's ``online = true``
is ignored with a warning.

Every value is checked here, so a bad setting is one line naming the file, the key, the value and
what is expected (exit 2), never a Python exception.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

SEVERITIES = ("info", "warning", "error")  # lorlint.checks.SEVERITIES, kept light to import


class ConfigError(ValueError):
    pass


class Settings:
    """A project's ``[tool.lorlint]`` settings, the command line's overrides applied. (A plain
    class: ``@dataclass`` compiles its methods at every start, 1.3 ms for this one.)"""

    # in ``as_toml``'s order
    FIELDS = ("select", "ignore", "extend_select", "per_file_ignores", "exclude", "fail_level",
              "model", "online", "root", "path", "warnings")  # fmt: skip

    def __init__(self):
        self.select: list[str] = []
        self.ignore: list[str] = []
        self.extend_select: list[str] = []
        self.per_file_ignores: dict[str, list[str]] = {}
        self.exclude: list[str] = []
        self.fail_level: str | None = None
        self.model: str | None = None
        self.online = False
        self.root: Path | None = None  # the project file's directory: settings' paths start there
        self.path: Path | None = None  # the file the settings came from (None: defaults)
        self.warnings: list[str] = []  # e.g. a project's online = true, ignored


LISTS = {"select", "ignore", "extend-select", "exclude"}
KEYS = LISTS | {"per-file-ignores", "fail-level", "model", "online"}
SELECTOR_EXAMPLE = '["LL1", "attention-only"]'


def _toml():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib


def show(value) -> str:
    """A value as TOML would write it (near enough for a message), shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _read_toml(path: Path) -> dict:
    tomllib = _toml()
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"{display(path)}: cannot read: {err.strerror or err}") from err
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ConfigError(
            f"{display(path)}: not valid UTF-8 (byte 0x{data[err.start]:02x} on line {line}, "
            f"offset {err.start}); "
            "TOML files must be UTF-8"
        ) from err
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{display(path)}: invalid TOML: {err}") from err


def _section(path: Path, data: dict) -> dict | None:
    """The lorlint table of a parsed file: ``[tool.lorlint]`` of a pyproject.toml (None when it
    has none); all of a lorlint.toml or of another file named with ``--config``."""
    if path.name != "pyproject.toml":
        return data
    tool = data.get("tool")
    section = tool.get("lorlint") if isinstance(tool, dict) else None
    if section is not None and not isinstance(section, dict):
        raise ConfigError(f"{display(path)}: tool.lorlint = {show(section)}: expected a table")
    return section


def display(path: Path) -> str:
    """A settings file as messages name it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _where(path: Path) -> str:
    return (
        f"{display(path)}: [tool.lorlint]" if path.name == "pyproject.toml" else f"{display(path)}:"
    )


def find(start: Path) -> tuple[Path, dict] | None:
    """The nearest lorlint.toml, or pyproject.toml with a ``[tool.lorlint]`` table, upwards."""
    start = start.resolve()
    for directory in [start, *start.parents] if start.is_dir() else start.parents:
        for name in ("lorlint.toml", "pyproject.toml"):
            candidate = directory / name
            if not candidate.is_file():
                continue
            section = _section(candidate, _read_toml(candidate))
            if section is not None:
                return candidate, section
    return None


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "lorlint" / "lorlint.toml"


def parse_override(text: str) -> dict:
    """``--config "select = ['LL1']"`` (or ``fail-level=error``): one TOML ``KEY = VALUE`` pair."""
    try:
        data = _toml().loads(text)
    except _toml().TOMLDecodeError:
        key, sep, value = text.partition("=")
        if sep and key.strip() in KEYS:
            # a bare string value: fail-level=error, model=gpt2
            try:
                data = _toml().loads(f"{key.strip()} = {json.dumps(value.strip())}")
            except _toml().TOMLDecodeError:
                data = None
        else:
            data = None
        if data is None:
            raise ConfigError(
                f"--config {text!r}: neither a file nor a TOML `KEY = VALUE` pair "
                "(e.g. --config \"select = ['LL1']\")"
            ) from None
    return data


def _strings(value, key: str, where: str, example: str) -> list[str]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, str):
        hint = f"a list of strings, e.g. {key} = [{json.dumps(value)}]"
    else:
        hint = f"a list of strings, e.g. {key} = {example}"
    raise ConfigError(f"{where} {key} = {show(value)}: expected {hint}")


def _apply(settings: Settings, section: dict, where: str, trusted: bool) -> None:
    """Check and copy one source's keys onto ``settings``; ``trusted``: may turn on ``online``."""
    unknown = sorted(set(section) - KEYS)
    if unknown:
        raise ConfigError(
            f"{where} unknown key{'s' * (len(unknown) > 1)}: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(KEYS))})"
        )
    for key, value in section.items():
        if key in LISTS:
            example = '["notebooks/*"]' if key == "exclude" else SELECTOR_EXAMPLE
            setattr(settings, key.replace("-", "_"), _strings(value, key, where, example))
        elif key == "per-file-ignores":
            settings.per_file_ignores = _per_file_ignores(value, where)
        elif key == "fail-level":
            if value not in SEVERITIES:
                raise ConfigError(
                    f"{where} fail-level = {show(value)}: expected one of "
                    + ", ".join(f'"{s}"' for s in SEVERITIES)
                )
            settings.fail_level = value
        elif key == "model":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(
                    f"{where} model = {show(value)}: expected a string (a hub id such as "
                    '"meta-llama/Llama-3.1-8B", or a local directory)'
                )
            settings.model = value
        elif key == "online":
            if not isinstance(value, bool):
                raise ConfigError(f"{where} online = {show(value)}: expected true or false")
            if trusted or not value:
                settings.online = value
            else:
                settings.warnings.append(
                    f"{where} online = true is ignored: a project's settings cannot turn on "
                    f"network access; pass --online, or set it in {user_config_path()}"
                )


def _per_file_ignores(value, where: str) -> dict[str, list[str]]:
    example = 'per-file-ignores = { "legacy/*.py" = ["LL201"] }'
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where} per-file-ignores = {show(value)}: expected a table of glob = [codes], "
            f"e.g. {example}"
        )
    out = {}
    for pattern, codes in value.items():
        out[pattern] = _strings(
            codes, f"per-file-ignores.{json.dumps(pattern)}", where, '["LL201"]'
        )
    return out


def load(
    start: Path,
    config_file: Path | None = None,
    overrides: list[dict] | None = None,
    isolated: bool = False,
) -> Settings:
    """Settings for the files under ``start`` (see the module docstring for the order)."""
    settings = Settings()
    user = user_config_path()
    if not isolated and config_file is None and user.is_file():
        user_section = _section(user, _read_toml(user)) or {}
    else:
        user_section = None
    found = None
    if config_file is not None:
        section = _section(config_file, _read_toml(config_file))
        found = (config_file, section or {})
    elif not isolated:
        found = find(start)
    if found is not None:
        path, section = found
        settings.path, settings.root = path.resolve(), path.resolve().parent
        _apply(settings, section, _where(path), trusted=config_file is not None)
        if user_section and "online" in user_section:
            _apply(settings, {"online": user_section["online"]}, _where(user), trusted=True)
    elif user_section is not None:
        settings.path, settings.root = user, None
        _apply(settings, user_section, _where(user), trusted=True)
    for pair in overrides or []:
        _apply(settings, pair, "--config:", trusted=True)
    return settings


def as_toml(settings: Settings) -> str:
    """The settings in ``[tool.lorlint]`` form (for ``--show-settings``)."""
    lines = []
    for name in Settings.FIELDS:
        if name in ("root", "path", "warnings"):
            continue
        value = getattr(settings, name)
        if value is None:
            continue
        key = name.replace("_", "-")
        if isinstance(value, dict):
            body = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items())
            lines.append(f"{key} = {{ {body} }}" if body else f"{key} = {{}}")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines)
