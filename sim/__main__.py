"""``python -m sim ...``: the same commands as ``run.py`` and the ``dealsim`` script."""

from sim.commands.main import entry

if __name__ == "__main__":
    entry()
