"""``python -m sim ...``: the same commands as ``run.py`` and the ``dealsim`` script."""

from sim.commands.main import main

if __name__ == "__main__":
    raise SystemExit(main())
