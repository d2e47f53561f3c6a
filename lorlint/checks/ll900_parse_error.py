"""LL900 parse-error: a file that cannot be read or parsed (reported by the runner)."""

from lorlint.checks import rule

rule("LL900", "parse-error", "info", "a file could not be read or parsed")(None)
