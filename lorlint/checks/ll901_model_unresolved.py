"""LL901 model-unresolved: the base model of a config could not be determined."""

from lorlint.checks import rule

rule("LL901", "model-unresolved", "info", "the base model could not be determined")(None)
