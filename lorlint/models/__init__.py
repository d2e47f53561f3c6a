"""Model knowledge: resolve a model reference, introspect its layers, match target specs as PEFT does."""
