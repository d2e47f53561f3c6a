"""Reports: turn diagnostics into text for a terminal, an editor or a tool."""
