"""`lorlint verify`: rebuild each PEFT site for real and run a training step on it."""
