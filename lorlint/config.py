"""``[tool.lorlint]`` in the nearest pyproject.toml (or lorlint.toml), as ruff reads its own."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    pass


@dataclass
class Settings:
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    fail_level: str | None = None
    model: str | None = None
    online: bool = False
    root: Path | None = None
    path: Path | None = None


KEYS = {"select", "ignore", "extend-select", "per-file-ignores", "exclude", "fail-level", "model",
        "online"}  # fmt: skip


def _toml():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib


def find(start: Path) -> tuple[Path, dict] | None:
    start = start.resolve()
    for directory in [start, *start.parents] if start.is_dir() else start.parents:
        for name in ("lorlint.toml", "pyproject.toml"):
            candidate = directory / name
            if not candidate.is_file():
                continue
            tomllib = _toml()
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as err:
                raise ConfigError(f"{candidate}: {err}") from err
            section = data if name == "lorlint.toml" else data.get("tool", {}).get("lorlint")
            if section is not None:
                return candidate, section
    return None


def load(start: Path) -> Settings:
    found = find(start)
    if found is None:
        return Settings()
    path, section = found
    unknown = set(section) - KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown [tool.lorlint] keys: {', '.join(sorted(unknown))}")
    return Settings(
        select=list(section.get("select", [])),
        ignore=list(section.get("ignore", [])),
        extend_select=list(section.get("extend-select", [])),
        per_file_ignores={k: list(v) for k, v in section.get("per-file-ignores", {}).items()},
        exclude=list(section.get("exclude", [])),
        fail_level=section.get("fail-level"),
        model=section.get("model"),
        online=bool(section.get("online", False)),
        root=path.parent,
        path=path,
    )
