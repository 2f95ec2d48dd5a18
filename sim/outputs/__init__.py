"""Outputs: the folders each command writes (tables, ``summary.json``, the report page),
the figures (one module per command, one shared style) and the printed text."""
