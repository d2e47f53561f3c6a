"""Write each rule page's header line (severity, fix availability and safety) from the registry.

``python scripts/gen_rule_headers.py`` rewrites ``rules/*.md`` in place (``make rule-pages``);
``--check`` only reports the pages that differ and exits 1 (tests/test_rule_pages.py does the same).
A new rule's page may start without a header: it is inserted under the title.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lorlint.checks import load_all
from lorlint.report.pages import with_header

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for code, rule in load_all().items():
        path = RULES_DIR / f"{code}-{rule.name}.md"
        if not path.is_file():
            print(f"{path.name}: missing (every rule needs a page)", file=sys.stderr)
            stale.append(path)
            continue
        text = path.read_text(encoding="utf-8")
        wanted = with_header(text, rule)
        if wanted != text:
            stale.append(path)
            if not check:
                path.write_text(wanted, encoding="utf-8")
                print(f"{path.name}: header updated")
    if check and stale:
        print("stale rule pages: " + ", ".join(p.name for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
