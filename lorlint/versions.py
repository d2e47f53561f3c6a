"""Versions of the packages a training script runs with, read without importing them.

Importing peft or transformers costs seconds; a rule that only needs to know whether PEFT has an
option reads the installed distribution's ``*.dist-info`` directory name instead. ``in_force``
answers for the environment a linted script really runs in: the installed version, or the pins of
the project's ``requirements*.txt`` / ``pyproject.toml`` / ``environment.yml`` nearest the file.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from functools import cache
from pathlib import Path


@cache
def installed(name: str) -> str | None:
    """The installed version of distribution ``name`` (``"peft"``, ``"PyYAML"``), or None.

    Reads it from the ``NAME-VERSION.dist-info`` directory on ``sys.path``, as importlib.metadata
    does, without its cost (~20 ms) or importing the package; the first entry on the path wins."""
    return _dist_infos().get(_normal(name))


@cache
def _dist_infos() -> dict[str, str]:
    """Normalised project name → version of every ``*.dist-info`` on ``sys.path``, the first one
    met winning: the path is listed once per process, not once per package asked about."""
    found: dict[str, str] = {}
    for entry in sys.path:
        for name in entry_names(entry or "."):  # a name each, not a path object (0.8 ms a run)
            if name.endswith(".dist-info"):
                project, _, version = name.removesuffix(".dist-info").rpartition("-")
                found.setdefault(_normal(project), version)
    return found


def entry_names(directory: str) -> list[str]:
    """The entries of ``directory`` in the order ``Path.glob`` meets them (none when it is not a
    directory one can list, as ``Path.glob`` finds none there)."""
    try:
        with os.scandir(directory) as entries:
            return [entry.name for entry in entries]
    except OSError:
        return []


def _normal(name: str) -> str:
    """PEP 503 normalisation: ``Foo_Bar`` and ``foo-bar`` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def release(version: str) -> tuple[int, ...]:
    """The release segment as numbers: ``"0.18.0rc1"`` → ``(0, 18, 0)``."""
    match = re.match(r"\d+(?:\.\d+)*", version.strip().lstrip("vV"))
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def older_than(version: str | None, minimum: str) -> bool:
    """Whether ``version`` is known and predates ``minimum`` (unknown: False, nothing is claimed).

    Compares release segments only: a pre-release of ``minimum`` counts as ``minimum``."""
    if version is None or not release(version):
        return False
    return release(version) < release(minimum)


# --- the versions in force for a linted file --------------------------------------------------
# Installed packages answer for the environment lorlint runs in; a project's own pins answer for
# the environment its scripts run in. They agree when lorlint runs in the project's environment;
# where a pin excludes the installed version, lorlint runs elsewhere (pre-commit's own
# environment, pipx) and the pin is what the script meets.

PIN_FILES = ("requirements*.txt", "pyproject.toml", "environment.yml", "environment.yaml")
MAX_PIN_BYTES = 256 * 1024  # a pin file is read up to here
MAX_LEVELS = 8  # directories walked up from the linted file
DISPLAY = {"trl": "TRL", "peft": "PEFT", "transformers": "transformers",
           "bitsandbytes": "bitsandbytes"}  # fmt: skip


# Patterns compiled on first use (a file with no pins never needs them): @cache'd getters.
@cache
def _spec() -> re.Pattern:
    return re.compile(r"(===|==|~=|!=|>=|<=|>|<|=)\s*([0-9][0-9A-Za-z.*+!-]*)")


class InForce:
    """What is known of one package's version for a linted file.

    ``version`` is exact (installed, or pinned with ``==``); ``low``/``high`` bound a range
    (``low`` inclusive, ``high`` exclusive, as release tuples); ``source`` is "installed" or the
    pin file's name."""

    def __init__(
        self,
        package: str,
        source: str,
        version: str | None = None,
        spec: str = "",
        low: tuple[int, ...] | None = None,
        high: tuple[int, ...] | None = None,
    ):
        self.package = package
        self.source = source
        self.version = version
        self.spec = spec
        self.low = low
        self.high = high

    @property
    def name(self) -> str:
        return DISPLAY.get(self.package, self.package)

    def label(self) -> str:
        """``transformers 5.23.0 (installed)``, ``TRL 0.26.2 in requirements.txt``,
        ``transformers>=4.45,<5 in pyproject.toml``."""
        if self.source == "installed":
            return f"{self.name} {self.version} (installed)"
        if self.version is not None:
            return f"{self.name} {self.version} in {self.source}"
        return f"{self.name}{self.spec} in {self.source}"

    def at_least(self, minimum: str) -> bool | None:
        """Whether every version in force is ``minimum`` or later; None when they straddle it."""
        floor = release(minimum)
        if self.version is not None:
            return release(self.version) >= floor if release(self.version) else None
        if self.low is not None and self.low >= floor:
            return True
        if self.high is not None and self.high <= floor:
            return False
        return None

    def admits(self, version: str) -> bool:
        """Whether ``version`` satisfies this pin (an unknown range admits everything)."""
        if self.version is not None:
            return release(self.version) == release(version)
        v = release(version)
        return (self.low is None or v >= self.low) and (self.high is None or v < self.high)


def in_force(package: str, path: str | Path) -> InForce | None:
    """The version of ``package`` a script at ``path`` runs with: the installed one, unless the
    nearest pin excludes it; else that pin; None when neither says anything."""
    pin = _pinned_for_file(package, str(path))
    version = installed(package)
    if version is not None and (pin is None or pin.admits(version)):
        return InForce(package, "installed", version)
    return pin


@cache
def _pinned_for_file(package: str, path: str) -> InForce | None:
    """``pinned`` for a file's directory, once per process: every site and rule of a file asks,
    and the directories' pins are read once per process anyway (``_directory_pins``)."""
    return pinned(package, Path(path).resolve().parent)


def forget_pins() -> None:
    """Read pin files again on the next question (they are read once per process)."""
    _directory_pins.cache_clear()
    _pinned_for_file.cache_clear()


def pinned(package: str, directory: Path) -> InForce | None:
    """The nearest pin of ``package``: the first directory up from ``directory`` (at most
    ``MAX_LEVELS``, not past a repository root) whose pin files name it."""
    for _ in range(MAX_LEVELS):
        specs = _directory_pins(str(directory)).get(_normal(package))
        if specs:
            return _combine(package, specs)
        if (directory / ".git").exists() or directory.parent == directory:
            return None
        directory = directory.parent
    return None


def _combine(package: str, specs: list[tuple[str, str]]) -> InForce:
    """Every constraint of one directory's pins (file name, specifier) as one range."""
    source = specs[0][0]
    text = ",".join(s for _, s in specs if s)
    low: tuple[int, ...] | None = None
    high: tuple[int, ...] | None = None
    exact: str | None = None
    for op, version in _spec().findall(text):
        number = release(version.rstrip(".*"))
        if not number:
            continue
        wildcard = version.endswith("*") or op == "="  # conda's "=4.44" is "4.44.*"
        if op in ("==", "===", "=") and not wildcard and not re.search(r"[a-z]", version):
            exact = version
        if op in ("==", "===", "=", ">=", "~="):
            low = max(low or number, number)
        if op == ">":
            low = max(low or number, (*number, 1))
        if op in ("<", "<="):
            top = number if op == "<" else _bump(number, -1)
            high = min(high or top, top)
        if op == "~=" and len(number) > 1:
            top = _bump(number, -2)
            high = min(high or top, top)
        if op in ("==", "===", "=") and (wildcard or exact is None):
            top = _bump(number, -1)
            high = min(high or top, top)
    if exact is not None and (low is None or release(exact) >= low):
        return InForce(package, source, version=exact, spec=f"=={exact}")
    return InForce(package, source, spec=text.replace(" ", ""), low=low, high=high)


def _bump(number: tuple[int, ...], index: int) -> tuple[int, ...]:
    """The first release past every one sharing ``number`` up to ``index``: (4, 44, 2), -2 →
    (4, 45)."""
    index %= len(number)
    return (*number[:index], number[index] + 1)


@cache
def _directory_pins(directory: str) -> dict[str, list[tuple[str, str]]]:
    """Normalised package name → [(file name, specifier)] from one directory's pin files."""
    out: dict[str, list[tuple[str, str]]] = {}
    base, names = Path(directory), entry_names(directory)  # listed once, not once a pattern
    for pattern in PIN_FILES:
        for file in sorted(base / name for name in fnmatch.filter(names, pattern)):
            text = _read(file)
            if text is None:
                continue
            if file.name == "pyproject.toml":
                found = _pyproject_pins(text)
            elif file.suffix in (".yml", ".yaml"):
                found = _conda_pins(text)
            else:
                found = _requirement_pins(text.splitlines())
            for name, spec in found:
                out.setdefault(_normal(name), []).append((file.name, spec))
    return out


def _read(file: Path) -> str | None:
    try:
        if not file.is_file():
            return None
        with file.open("rb") as handle:
            return handle.read(MAX_PIN_BYTES).decode("utf-8", "replace")
    except OSError:
        return None


@cache
def _requirement_line() -> re.Pattern:
    return re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")


def _requirement(line: str) -> tuple[str, str] | None:
    """``transformers[torch]>=4.45,<5 ; python_version>'3.8'`` → ("transformers", ">=4.45,<5");
    a direct reference (``trl @ git+...``) names the package with no known version."""
    line = line.split("#", 1)[0].split(";", 1)[0].strip()
    if not line or line.startswith(("-", "git+", "http", ".", "/")):
        return None
    m = _requirement_line().match(line)
    if m is None:
        return None
    rest = m.group(2).strip()
    if rest.startswith("@"):
        return m.group(1), ""
    return m.group(1), rest.replace(" ", "")


def _requirement_pins(lines: list[str]) -> list[tuple[str, str]]:
    return [r for r in map(_requirement, lines) if r is not None]


def _pyproject_pins(text: str) -> list[tuple[str, str]]:
    """PEP 621 dependencies and optional dependencies, dependency groups, Poetry dependencies."""
    if sys.version_info >= (3, 11):
        import tomllib  # only where a pyproject.toml is read
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return []
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    lines: list = list(project.get("dependencies") or [])
    for extra in (project.get("optional-dependencies") or {}).values():
        lines.extend(extra if isinstance(extra, list) else [])
    for group in (data.get("dependency-groups") or {}).values():
        lines.extend(group if isinstance(group, list) else [])
    out = _requirement_pins([line for line in lines if isinstance(line, str)])
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    tables = [poetry.get("dependencies")]
    tables += [
        g.get("dependencies") for g in (poetry.get("group") or {}).values() if isinstance(g, dict)
    ]
    for table in tables:
        for name, value in (table if isinstance(table, dict) else {}).items():
            spec = value.get("version") if isinstance(value, dict) else value
            if isinstance(spec, str):
                out.append((name, _poetry_spec(spec)))
    return out


def _poetry_spec(spec: str) -> str:
    """Poetry's ``^4.44`` / ``~4.44`` / ``4.44.2`` / ``*`` as PEP 440 specifiers."""
    spec = spec.strip()
    number = release(spec.lstrip("^~"))
    if spec.startswith("^") and number:
        first = next((i for i, n in enumerate(number) if n), len(number) - 1)
        top = _bump(number, first)
        return f">={spec[1:]},<{'.'.join(map(str, top))}"
    if spec.startswith("~") and not spec.startswith("~=") and number:
        top = _bump(number, min(1, len(number) - 1))
        return f">={spec[1:]},<{'.'.join(map(str, top))}"
    if number and spec[0].isdigit():
        return f"=={spec}"
    return "" if spec == "*" else spec


def _conda_pins(text: str) -> list[tuple[str, str]]:
    """environment.yml: ``- transformers=4.44`` (conda), ``- pip:`` entries (PEP 508)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^\s*-\s+([^\s#:][^#]*?)\s*(?:#.*)?$", line)
        if m is None:
            continue
        entry = m.group(1).strip().strip("'\"")
        conda = re.match(r"^(?:[\w.-]+::)?([A-Za-z0-9][\w.-]*)\s*(=?=?[^=\s].*)?$", entry)
        if "=" in entry and "==" not in entry and not re.search(r"[<>~!]", entry) and conda:
            version = (conda.group(2) or "").lstrip("=").split("=", 1)[0]  # name=ver=build
            out.append((conda.group(1), f"={version}" if version else ""))
            continue
        found = _requirement(entry)
        if found is not None:
            out.append(found)
    return out
