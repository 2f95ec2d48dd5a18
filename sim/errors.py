"""The one error a user should see as a single line; kept free of heavy imports so the
command line can catch it before scipy or pydantic are loaded."""


class ScenarioError(Exception):
    """A problem with a scenario (or sweep) file, already phrased as the line to show."""
