"""The pure matcher's copies of PEFT's data equal the installed PEFT's."""

from __future__ import annotations

import pytest

pytest.importorskip("peft")


def test_default_targets_equal_peft():
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

    from lorlint.models.peft_defaults import DEFAULT_TARGET_MODULES

    assert dict(TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING) == DEFAULT_TARGET_MODULES


def test_every_method_default_equals_its_tuner():
    """Each method's own map, read from its tuner class the way ``_prepare_adapter_config`` does."""
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING, PEFT_TYPE_TO_TUNER_MAPPING
    from peft.utils import constants

    from lorlint.models.peft_defaults import (
        CONFIG_FIELDS,
        CONFIG_PEFT_TYPES,
        IA3_FEEDFORWARD_MODULES,
        METHOD_TARGET_MODULES,
    )

    assert set(METHOD_TARGET_MODULES) == set(CONFIG_PEFT_TYPES.values()) == set(CONFIG_FIELDS)
    for name, peft_type in CONFIG_PEFT_TYPES.items():
        config = PEFT_TYPE_TO_CONFIG_MAPPING[peft_type]
        tuner = PEFT_TYPE_TO_TUNER_MAPPING[peft_type]
        assert config.__name__ == name
        if peft_type == "IA3":
            theirs = constants.TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING
        else:
            theirs = tuner.target_module_mapping
        assert METHOD_TARGET_MODULES[peft_type] == dict(theirs), peft_type
        assert all(f in config.__dataclass_fields__ for f in CONFIG_FIELDS[peft_type])
    assert (
        IA3_FEEDFORWARD_MODULES == constants.TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING
    )


def test_generated_module_is_current():
    """scripts/gen_peft_defaults.py run now renders the same data the module holds."""
    import importlib.util
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "gen_peft_defaults.py"
    spec = importlib.util.spec_from_file_location("gen_peft_defaults", script)
    gen = importlib.util.module_from_spec(spec)
    sys.modules["gen_peft_defaults"] = gen
    spec.loader.exec_module(gen)
    namespace: dict = {}
    exec(gen.render(gen.collect()), namespace)

    from lorlint.models import peft_defaults

    for key in ("DEFAULT_TARGET_MODULES", "METHOD_TARGET_MODULES", "IA3_FEEDFORWARD_MODULES",
                "CONFIG_PEFT_TYPES", "CONFIG_FIELDS", "PEFT_VERSION"):  # fmt: skip
        assert namespace[key] == getattr(peft_defaults, key), key


def test_every_python_config_name_is_a_peft_method():
    from lorlint.frontends.names import PEFT_CONFIGS
    from lorlint.models.methods import modelled
    from lorlint.models.peft_defaults import CONFIG_PEFT_TYPES

    assert all(modelled(CONFIG_PEFT_TYPES[name]) for name in PEFT_CONFIGS)


def test_moe_conversion_tables_equal_peft():
    from peft.utils import transformers_weight_conversion as twc

    from lorlint.models.match import MOE_FUSED_TARGETS, MOE_TARGET_MODULE_MAPPING

    assert MOE_TARGET_MODULE_MAPPING == twc._MOE_TARGET_MODULE_MAPPING
    assert MOE_FUSED_TARGETS == twc._MOE_FUSED_TARGETS


def test_constants_equal_peft():
    from peft.utils.constants import INCLUDE_LINEAR_LAYERS_SHORTHAND, SEQ_CLS_HEAD_NAMES

    from lorlint.models.match import ALL_LINEAR
    from lorlint.models.match import SEQ_CLS_HEAD_NAMES as OURS

    assert ALL_LINEAR == INCLUDE_LINEAR_LAYERS_SHORTHAND
    assert list(OURS) == SEQ_CLS_HEAD_NAMES


def test_mamba_restriction_equals_peft():
    """The sets in ``_check_lora_target_modules_mamba``, read from PEFT's source."""
    import ast
    import inspect

    from peft.tuners import tuners_utils

    from lorlint.models.match import LORA_LIKE_TYPES, MAMBA_INCOMPATIBLE, MAMBA_MODEL_TYPES

    source = inspect.getsource(tuners_utils._check_lora_target_modules_mamba)
    sets = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Set)
    }
    assert sets == {
        "lora_like_types": set(LORA_LIKE_TYPES),
        "incompatible_modules": set(MAMBA_INCOMPATIBLE),
        "mamba_model_types": set(MAMBA_MODEL_TYPES),
    }


def test_embedding_layer_names_equal_peft():
    from peft.utils.constants import EMBEDDING_LAYER_NAMES

    from lorlint.models.match import EMBEDDING_LAYER_NAMES as OURS

    assert list(OURS) == EMBEDDING_LAYER_NAMES


def test_kernel_weight_reads_equal_transformers_sources():
    """lorlint/models/kernel_weights.py is what scripts/gen_kernel_weights.py finds today."""
    import importlib.util
    from pathlib import Path

    from lorlint.models.kernel_weights import DIRECT_WEIGHT_READS, TRANSFORMERS_VERSION

    script = Path(__file__).resolve().parents[1] / "scripts" / "gen_kernel_weights.py"
    spec = importlib.util.spec_from_file_location("gen_kernel_weights", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.collect() == (TRANSFORMERS_VERSION, DIRECT_WEIGHT_READS)
