"""The one error a user should see as a single line; kept free of heavy imports so the
command line can catch it before scipy or pydantic are loaded."""


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\x1b``, ``\\n``): a name from a
    file must never reach a terminal as a control sequence."""
    return text if text.isprintable() else "".join(
        c if c.isprintable() else repr(c)[1:-1] for c in text)


class ScenarioError(Exception):
    """A problem with a scenario (or sweep) file, already phrased as the line to show."""

    def __str__(self) -> str:
        # A key or value from the file may hold a newline or a terminal escape: show it
        # escaped, so the message stays one printable line whatever the file holds.
        return printable(super().__str__())


class Terminated(KeyboardInterrupt):
    """SIGTERM turned into an orderly stop: a KeyboardInterrupt, so every clean-up that
    saves finished work on Ctrl-C runs for it too; the command line exits 143, not 130."""


class OutputError(ScenarioError):
    """An output folder dealsim must not or cannot write (not its own, a full disk, no
    permission): shown as the same one line, exit code 2, with earlier results intact."""
