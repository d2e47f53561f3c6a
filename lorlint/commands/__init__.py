"""Sub-commands of the lorlint CLI, one module each."""
