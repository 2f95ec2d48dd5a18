"""Entry point: ``python run.py scenarios/oracle.yaml`` (see README.md)."""
from sim.commands.main import entry

if __name__ == "__main__":  # worker processes (Dask, spawn) import this file
    entry()
