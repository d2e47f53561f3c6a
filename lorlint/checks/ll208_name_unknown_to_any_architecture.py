"""LL208 name-unknown-to-any-architecture: retired (see rules/LL208-name-unknown-to-any-architecture.md).

It flagged, with no model known, target names that no catalogued architecture has. Measured on
real code it could not be made right often enough: remote-code models (Baichuan's ``W_pack``,
InternLM2's ``wqkv``, TeleChat's ``key_value``) are exactly the ones lorlint cannot place, and
their own names are unknown to every transformers architecture. The code stays registered so
that ``--select LL208`` and ``# noqa: LL208`` keep working; it reports nothing.
"""

from lorlint.checks import rule

rule(
    "LL208",
    "name-unknown-to-any-architecture",
    "info",
    "retired: a target name no catalogued architecture has (never reported)",
    retired=True,
)(None)
