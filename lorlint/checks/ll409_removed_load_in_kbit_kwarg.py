"""LL409 removed-load-in-kbit-kwarg: ``from_pretrained(..., load_in_4bit=True)`` /
``load_in_8bit=``: transformers 5 removed the keywords (PR 41287); they reach the model's
``__init__`` and raise TypeError, whatever their value."""

from __future__ import annotations

from lorlint.checks import Context, rule
from lorlint.checks.setup import delete_argument, insert_text, keyword_span, replace_argument
from lorlint.fixes import Fix
from lorlint.frontends.setup import KBIT_KWARGS

REMOVED_IN = "5.0"  # transformers 5.0.0's from_pretrained no longer pops them (4.57.1 does)


@rule(
    "LL409",
    "removed-load-in-kbit-kwarg",
    "error",
    "from_pretrained(load_in_4bit=/load_in_8bit=): removed in transformers 5",
    fixes=("safe",),
    sites="setup",
)
def check(ctx: Context):
    site = ctx.site
    if site.kind != "load":
        return
    passed = [k for k in KBIT_KWARGS if k in site.keywords]
    if not passed:
        return
    names = " and ".join(f"{k}=" for k in passed)
    advice = "; ".join(_advice(k, site.get(k)) for k in passed)
    fix = _fix(site, passed[0], site.get(passed[0])) if len(passed) == 1 else None
    span = keyword_span(site, passed[0])
    transformers = ctx.version("transformers")
    removed = transformers.at_least(REMOVED_IN) if transformers is not None else None
    if removed:
        yield (
            f"{transformers.label()}: from_pretrained() no longer takes {names} (removed in "
            f"transformers {REMOVED_IN}): it reaches the model's __init__ and raises TypeError, "
            f"even when False; {advice}",
            span,
            fix,
        )
        return
    where = (
        f"{transformers.label()} still accepts it"
        if removed is False
        else "transformers 4 accepts it"
    )
    yield (
        f"{names} was removed from from_pretrained() in transformers {REMOVED_IN}, where it raises "
        f"TypeError ({where}, deprecated); {advice}",
        span,
        fix,
        "warning",
    )


def _advice(keyword: str, value) -> str:
    if value is False:
        return f"remove {keyword}=False"
    return f"pass quantization_config=BitsAndBytesConfig({keyword}=True)"


def _fix(site, keyword: str, value) -> Fix | None:
    """Safe: drop ``=False``; turn ``=True`` into ``quantization_config=BitsAndBytesConfig(...)``,
    merged into a ``BitsAndBytesConfig`` the call already passes inline."""
    if value is False:
        edit = delete_argument(site, keyword)
        return Fix("safe", f"Remove {keyword}=False", known_edits=(edit,)) if edit else None
    if value is not True or any(site.get(k) is True for k in KBIT_KWARGS if k != keyword):
        return None
    if "quantization_config" not in site.keywords:
        bnb = site.facts.get("bnb") or {}
        if not bnb.get("name"):
            return None
        edits = [
            replace_argument(site, keyword, f"quantization_config={bnb['name']}({keyword}=True)")
        ]
        if "import_row" in bnb:
            line = f"{bnb['indent']}from transformers import BitsAndBytesConfig{bnb['eol']}"
            edits.append(insert_text(bnb["import_row"], 1, line))
        message = f"Pass quantization_config={bnb['name']}({keyword}=True)"
    else:
        config = site.facts.get("quantization_config")
        if not config or not config["inline"] or not config["clean"]:
            return None
        if any(v is True for k, v in config["keywords"].items() if k != keyword):
            return None  # the config asks for the other width: the user must choose
        edits = [delete_argument(site, keyword)]
        if config["keywords"].get(keyword) is not True:
            row, col = config["insert_at"]
            edits.append(
                insert_text(row, col, f"{keyword}=True" + (", " if config["args"] else ""))
            )
        message = f"Move {keyword}=True into the BitsAndBytesConfig passed as quantization_config"
    if any(edit is None for edit in edits):
        return None
    return Fix("safe", message, known_edits=tuple(edits))
