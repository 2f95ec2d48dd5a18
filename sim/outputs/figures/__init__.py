"""Figures, one module per command; the house style is ``sim.outputs.style``."""
