"""Names the Python front end looks for; light (no libcst) so the pre-filter can use them."""

from __future__ import annotations

import re

# PEFT configs that take ``target_modules``.
PEFT_CONFIGS = frozenset(
    {
        "LoraConfig", "AdaLoraConfig", "LoHaConfig", "LoKrConfig", "IA3Config", "VeraConfig",
        "OFTConfig", "BOFTConfig", "FourierFTConfig", "HRAConfig", "VBLoRAConfig",
        "LNTuningConfig", "RandLoraConfig", "C3AConfig", "ShiraConfig", "MissConfig", "RoadConfig",
        "DeloraConfig", "GraloraConfig",
    }
)  # fmt: skip
UNSLOTH_CLASSES = frozenset({"FastLanguageModel", "FastModel", "FastVisionModel"})

# A site is a call that resolves to peft.<Config> or unsloth.<Class>.get_peft_model: the file must
# import peft or unsloth, and name one of those somewhere (the import or the call).
_IMPORT = re.compile(rb"(?m)^[ \t]*(?:from|import)[ \t]+(?:peft|unsloth)\b")
_NAME = re.compile(
    rb"\b(?:" + b"|".join(n.encode() for n in sorted(PEFT_CONFIGS)) + rb"|get_peft_model)\b"
)


def might_have_sites(data: bytes) -> bool:
    """The cheap text pre-filter run on every file before any parsing."""
    return _IMPORT.search(data) is not None and _NAME.search(data) is not None
