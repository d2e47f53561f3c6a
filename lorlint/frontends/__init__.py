"""Front ends: each turns one kind of file into sites."""
