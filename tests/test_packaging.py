"""The sdist and wheel as built: LICENSE and rule pages inside; the declared lower bounds work.

The lower-bound test installs the wheel with ``[lsp]`` into a fresh virtual environment with every
runtime dependency pinned to the lower bound pyproject.toml declares (from PyPI), then lints a
file and drives ``lorlint server`` through initialize → didOpen → diagnostics → shutdown.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from helpers import REPO
from rawlsp import RawClient

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-d", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_license_is_apache_2_in_repo_sdist_and_wheel(dist):
    license_text = (REPO / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (licensed,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert zf.read(licensed).decode() == license_text
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        assert "License-Expression: Apache-2.0" in metadata
        assert "lorlint/rules/LL101-unknown-target-module.md" in names
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tf:
        member = next(m for m in tf.getmembers() if m.name.endswith("/LICENSE"))
        assert tf.extractfile(member).read().decode() == license_text


def lower_bounds() -> list[str]:
    """``name==X`` for every ``name>=X`` runtime requirement and the lsp extra."""
    project = PYPROJECT["project"]
    pins = []
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["lsp"]]:
        if ";" in requirement:
            continue  # environment markers: not for this Python
        name, bound = re.fullmatch(r"([A-Za-z0-9_.\-]+)>=([\w.]+)", requirement).groups()
        pins.append(f"{name}=={bound}")
    return pins


def test_wheel_at_declared_lower_bounds_lints_and_serves(dist, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    constraints = tmp_path / "lower.txt"
    constraints.write_text("\n".join(lower_bounds()) + "\n")
    (wheel,) = dist.glob("*.whl")
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(constraints),
         f"{wheel}[lsp]"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    frozen = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "freeze"], capture_output=True, text=True
    ).stdout.lower()
    for pin in lower_bounds():
        assert pin.lower().replace("_", "-") in frozen.replace("_", "-"), (pin, frozen)
    assert "torch" not in frozen

    fixture = REPO / "fixtures" / "transformers_peft_llama.py"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    lorlint = str(venv / "bin" / "lorlint")
    proc = subprocess.run(
        [lorlint, "check", "--no-cache", "--output-format", "concise", str(fixture)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1 and "LL101" in proc.stdout, proc.stderr

    client = RawClient([lorlint, "server"], env=env)
    try:
        client.initialize(tmp_path.as_uri())
        uri = fixture.as_uri()
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                              "text": fixture.read_text()}},
        )  # fmt: skip
        codes = [d["code"] for d in client.diagnostics(uri)["diagnostics"]]
        assert codes == ["LL101"]
    finally:
        assert client.close() == 0
