"""Commands: each parses its arguments, calls ``sim.api`` and prints; nothing else."""
