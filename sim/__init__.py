"""dealsim: Monte Carlo discrete-event simulation of forced-sale deal outcomes."""

__version__ = "0.1.0"
