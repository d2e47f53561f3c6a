"""Layer tables and what is derived from them are shared per process (issue #12): a finding
must never depend on which files were linted before in the same process."""

from __future__ import annotations

import gc
from pathlib import Path

from lorlint.engine import Options, ViewCache, lint_file
from lorlint.models import catalog, view
from lorlint.models.table import LayerTable, Module, tables_out_of_collections

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FILES = sorted(
    p for p in FIXTURES.iterdir() if p.is_file() and p.suffix in (".py", ".yaml", ".yml", ".ipynb")
)


def _forget() -> None:
    catalog.type_table.cache_clear()
    catalog.entry_table.cache_clear()
    view._BUILT.clear()


def _findings(path: Path, views: ViewCache) -> list[tuple]:
    found, _ = lint_file(path, Options(), views)
    return [(d.code, d.span, d.message, d.severity) for d in found]


def test_two_files_loading_one_model_share_its_table(tmp_path):
    _forget()
    one = view.load_view("meta-llama/Llama-3.1-8B", "causal-lm", tmp_path / "a")
    other = view.load_view("meta-llama/Llama-3.1-8B", "causal-lm", tmp_path / "b")
    assert one.table is other.table and one.table is not None


def test_findings_do_not_depend_on_what_was_linted_before():
    assert len(FILES) > 10
    alone = {}
    for path in FILES:  # each file in a fresh state
        _forget()
        alone[path] = _findings(path, ViewCache(online=False))
    _forget()
    for order in (FILES, FILES[::-1]):  # one process, one view cache per file as `check` has
        for path in order:
            assert _findings(path, ViewCache(online=False)) == alone[path], path.name
    shared = ViewCache(online=False)  # and one view cache for all, as a worker's chunk has
    for path in FILES[::-1]:
        assert _findings(path, shared) == alone[path], path.name


def test_a_files_directory_is_its_resolved_parent(tmp_path, monkeypatch):
    """``ViewCache.directory_of`` resolves each directory once; the answer is ``resolve``'s,
    through symbolic links to files and directories, ``..`` after a link, and missing paths."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "sub" / "f.py").write_text("")
    (tmp_path / "lnk").symlink_to("real")
    (tmp_path / "flink.py").symlink_to("real/sub/f.py")
    (tmp_path / "real" / "up").symlink_to("../real")
    views = ViewCache(online=False)
    written = ["lnk/sub/f.py", "flink.py", "flink.py/", "real/sub/../sub/f.py",
               "lnk/../real/sub/f.py", "./real//sub/f.py", "real/up/up/sub/f.py", "nope/x.py",
               "x.py", ".", "..", "real/sub/..", str(tmp_path / "lnk" / "sub" / "f.py")]  # fmt: skip
    for path in written + written[::-1]:
        assert views.directory_of(path) == Path(path).resolve().parent, path


def test_decoded_tables_leave_the_collector_only_within_a_check():
    """``lorlint check`` moves a decoded table out of the collector's reach (``gc.freeze``);
    outside ``tables_out_of_collections`` (the server, ``--watch``) a table stays collectable."""
    data = LayerTable("x", "X", [Module("m", "M"), Module("m.a", "Linear", "linear")]).to_json()
    before = gc.get_freeze_count()
    LayerTable.from_json(data)
    assert gc.get_freeze_count() == before
    with tables_out_of_collections():
        kept = LayerTable.from_json(data)
    assert gc.get_freeze_count() > before + len(kept.modules)
    frozen = gc.get_freeze_count()
    LayerTable.from_json(data)
    assert gc.get_freeze_count() == frozen
