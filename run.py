"""Entry point: ``python run.py scenarios/oracle.yaml`` (see README.md)."""
from sim.commands.main import main

if __name__ == "__main__":  # worker processes (Dask, spawn) import this file
    raise SystemExit(main())
