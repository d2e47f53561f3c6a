"""Files are read once, as Python reads them, and never hang: BOM, coding cookies, CR-only line
endings, FIFOs and device links named ``*.py``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import REPO, run_cli

from lorlint.commands import check
from lorlint.frontends import source
from lorlint.frontends.names import might_have_sites
from lorlint.frontends.source import SourceError, decode_python, read_bytes

TYPO = (
    "from peft import LoraConfig\n# lorlint: model=meta-llama/Llama-3.1-8B\n"
    "cfg = LoraConfig(target_modules=['dwn_proj'])\n"
)


def concise(cwd, *args):
    proc = run_cli("check", *args, "--no-cache", "--output-format", "concise", cwd=cwd)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bom.py", b"\xef\xbb\xbf" + TYPO.encode()),
        ("cr.py", TYPO.replace("\n", "\r").encode()),
        ("crlf.py", TYPO.replace("\n", "\r\n").encode()),
        (
            "latin1.py",
            b"# -*- coding: latin-1 -*-\n"
            + TYPO.encode()
            + "NOTE = 'réglage à la main'\n".encode("latin-1"),
        ),
    ],
)
def test_files_python_reads_are_linted(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    out = concise(tmp_path, ".")
    row = 4 if name == "latin1.py" else 3
    assert f"{name}:{row}:34: LL101" in out, out


def test_bom_columns_on_row_one_count_from_after_the_mark(tmp_path):
    text = "from peft import LoraConfig; LoraConfig(target_modules=['dwn_proj'])\n"
    (tmp_path / "t.py").write_bytes(b"\xef\xbb\xbf" + text.encode())
    out = concise(tmp_path, "t.py", "--model", "meta-llama/Llama-3.1-8B")
    assert f"t.py:1:{text.index('dwn_proj')}: LL101" in out  # the quote before it, 1-based


def test_a_cookie_python_rejects_is_ll900(tmp_path):
    (tmp_path / "bad.py").write_bytes(b"# coding: no-such-codec\n" + TYPO.encode())
    assert "bad.py:1:1: LL900 cannot decode" in concise(tmp_path, ".")


@pytest.mark.parametrize(
    "text",
    [
        "\ufefffrom peft import LoraConfig\n",
        "x = 1\rfrom peft import LoraConfig\r",
        "import os, peft\npeft.LoraConfig()\n",
        "import torch; from peft import *\nLoraConfig()\n",
        "from unsloth import FastLanguageModel\nFastLanguageModel.get_peft_model(m)\n",
    ],
)
def test_prefilter_never_skips_a_file_that_can_hold_a_site(text):
    assert might_have_sites(text.encode("utf-8"))


def test_prefilter_skips_what_cannot_hold_one():
    assert not might_have_sites(b"import os\nprint('peft is great')\n")
    assert not might_have_sites(b"from peft import PeftConfig\nPeftConfig.from_pretrained(p)\n")
    # an adapter loaded for training is a site (LL305)
    assert might_have_sites(b"from peft import PeftModel\nPeftModel.from_pretrained(m, p)\n")


def test_decode_as_python_does():
    assert decode_python(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"
    assert decode_python("# coding: latin-1\nx = 'é'\n".encode("latin-1")).endswith("'é'\n")
    with pytest.raises(SourceError):
        decode_python(b"x = '\xe9'\n")  # no cookie: UTF-8, and that is not UTF-8


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_fifo_and_device_links_named_py_do_not_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    os.symlink("/dev/zero", tmp_path / "zero.py")
    (tmp_path / "good.py").write_text(TYPO)
    code = (
        "import sys; from lorlint.cli import main; "
        "sys.exit(main(['check', '.', '--no-cache', '--output-format', 'concise']))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert "pipe.py:1:1: LL900 cannot read: not a regular file" in proc.stdout
    assert "zero.py:1:1: LL900 cannot read: not a regular file" in proc.stdout
    assert "good.py:3:34: LL101" in proc.stdout
    with pytest.raises(SourceError, match="not a regular file"):
        read_bytes(tmp_path / "pipe.py")


def test_reads_are_bounded(tmp_path):
    big = tmp_path / "big.py"
    big.write_bytes(b"#" * 2000)
    with pytest.raises(SourceError, match="larger than 1,000 bytes"):
        read_bytes(big, limit=1000)
    assert len(read_bytes(big, limit=2000)) == 2000


def test_each_file_is_read_once(tmp_path, monkeypatch):
    for i in range(3):
        (tmp_path / f"t{i}.py").write_text(TYPO)
    (tmp_path / "skip.py").write_text("print('no site here')\n")
    reads: list[str] = []
    real = source.read_bytes

    def counting(path, limit=source.MAX_BYTES):
        reads.append(os.path.basename(path))
        return real(path, limit)

    monkeypatch.setattr(check, "read_bytes", counting)
    monkeypatch.setattr(source, "read_bytes", counting)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from lorlint.cli import main

    assert main(["check", ".", "--no-cache", "-q", "--jobs", "1"]) == 1
    assert sorted(reads) == ["skip.py", "t0.py", "t1.py", "t2.py"]


def test_repo_fixture_still_reads(tmp_path):
    assert (REPO / "fixtures" / "clean_llama.py").read_bytes() == read_bytes(
        REPO / "fixtures" / "clean_llama.py"
    )
