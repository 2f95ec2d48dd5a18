"""Entry point: ``python run.py scenarios/oracle.yaml`` (see README.md)."""
from sim.cli import main

raise SystemExit(main())
