"""lorlint: static analysis for LoRA / QLoRA fine-tuning code and configs."""

__version__ = "0.1.0"
