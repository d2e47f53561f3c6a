"""lorlint.versions: installed package versions without importing the packages."""

from __future__ import annotations

import subprocess
import sys

from lorlint.versions import installed, older_than, release


def test_installed_reads_dist_info_like_importlib_metadata():
    from importlib import metadata

    for name in ("peft", "transformers", "PyYAML", "huggingface-hub"):
        assert installed(name) == metadata.version(name)
    assert installed("surely-not-installed-here") is None


def test_installed_does_not_import_the_package():
    code = (
        "import sys\nfrom lorlint.versions import installed\n"
        "assert installed('peft')\nassert 'peft' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_older_than_compares_releases_and_claims_nothing_when_unknown():
    assert release("0.18.0rc1") == (0, 18, 0)
    assert older_than("0.17.1", "0.18")
    assert not older_than("0.18.0", "0.18")
    assert not older_than("0.18.0.dev0", "0.18")
    assert not older_than("1.0", "0.18")
    assert not older_than(None, "0.18")
    assert not older_than("unknown", "0.18")


# --- pins of the project a linted file belongs to -------------------------------------------
import pytest  # noqa: E402

from lorlint import versions  # noqa: E402
from lorlint.versions import in_force, pinned  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_pin_cache():
    versions.forget_pins()
    yield
    versions.forget_pins()


def _project(tmp_path, **files):
    (tmp_path / ".git").mkdir()  # the repository root bounds the walk
    for name, text in files.items():
        (tmp_path / name.replace("__", "/")).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name.replace("__", "/")).write_text(text)
    return tmp_path


def test_requirements_pins_exact_ranges_extras_markers_and_references(tmp_path):
    root = _project(
        tmp_path,
        **{
            "requirements.txt": "# training\ntrl==0.26.2\ntransformers[torch] >=4.45, <5 ; "
            "python_version > '3.8'\npeft @ git+https://github.com/huggingface/peft\n-r other.txt\n",
        },
    )
    trl = pinned("trl", root)
    assert trl.version == "0.26.2" and trl.label() == "TRL 0.26.2 in requirements.txt"
    assert trl.at_least("0.27") is False and trl.at_least("0.23.1") is True
    tf = pinned("transformers", root)
    assert tf.version is None and tf.label() == "transformers>=4.45,<5 in requirements.txt"
    assert tf.at_least("5") is False and tf.at_least("4.45") is True
    assert tf.at_least("4.50") is None  # the range straddles it: nothing is claimed
    peft = pinned("peft", root)
    assert peft is not None and peft.at_least("0.1") is None  # named, version unknown


def test_nearest_directory_wins_and_the_walk_stops_at_the_repository(tmp_path):
    root = _project(
        tmp_path,
        **{
            "requirements.txt": "transformers==4.44.2\n",
            "sub__requirements-train.txt": "transformers>=5.1\n",
            "sub__deeper__train.py": "",
        },
    )
    assert pinned("transformers", root / "sub" / "deeper").label() == (
        "transformers>=5.1 in requirements-train.txt"
    )
    assert pinned("transformers", root).version == "4.44.2"
    assert pinned("bitsandbytes", root / "sub") is None


def test_pyproject_pep621_groups_and_poetry(tmp_path):
    root = _project(
        tmp_path,
        **{
            "pyproject.toml": '[project]\ndependencies = ["peft~=0.13.0"]\n'
            '[project.optional-dependencies]\ntrain = ["trl<0.20"]\n'
            '[tool.poetry.dependencies]\ntransformers = "^4.44"\n'
            'bitsandbytes = {version = "0.43.1"}\n',
        },
    )
    peft = pinned("peft", root)
    assert peft.at_least("0.13") is True and peft.at_least("0.14") is False
    assert pinned("trl", root).at_least("0.23.1") is False
    tf = pinned("transformers", root)
    assert tf.at_least("4.44") is True and tf.at_least("5") is False
    assert pinned("bitsandbytes", root).version == "0.43.1"


def test_conda_environment_and_its_pip_section(tmp_path):
    root = _project(
        tmp_path,
        **{
            "environment.yml": "name: ft\ndependencies:\n  - python=3.10\n  - conda-forge::"
            "transformers=4.44\n  - pip:\n    - trl==0.24.0\n",
        },
    )
    tf = pinned("transformers", root)
    assert tf.at_least("4.44") is True and tf.at_least("4.45") is False
    assert pinned("trl", root).version == "0.24.0"


def test_installed_wins_unless_a_pin_excludes_it(tmp_path):
    tf = installed("transformers")
    root = _project(tmp_path, **{"requirements.txt": f"transformers>={tf}\n"})
    assert in_force("transformers", root / "train.py").source == "installed"
    (root / "requirements.txt").write_text("transformers==4.44.2\n")
    versions.forget_pins()
    pin = in_force("transformers", root / "train.py")
    assert pin.source == "requirements.txt" and pin.at_least("5") is False
    if installed("trl") is None:
        assert in_force("trl", root / "train.py") is None  # neither installed nor pinned


def test_pin_files_are_read_bounded(tmp_path):
    big = "x" * (versions.MAX_PIN_BYTES + 10) + "\ntrl==0.26.2\n"
    root = _project(tmp_path, **{"requirements.txt": big})
    assert pinned("trl", root) is None


def test_pin_files_of_one_directory_in_glob_order(tmp_path):
    """Each pattern's files in sorted order, the patterns in PIN_FILES' order; a directory with a
    pin file's name is not one."""
    root = _project(
        tmp_path,
        **{
            "requirements.txt": "peft>=0.10\n",
            "requirements-dev.txt": "peft<0.18\n",
            "pyproject.toml": '[project]\ndependencies = ["peft!=0.12"]\n',
            "requirements-gpu.txt__x": "",
        },
    )
    found = pinned("peft", root)
    assert found.source == "requirements-dev.txt"  # "-" sorts before "."
    assert found.spec == "<0.18,>=0.10,!=0.12"
    assert (found.low, found.high) == ((0, 10), (0, 18))
