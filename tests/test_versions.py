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
