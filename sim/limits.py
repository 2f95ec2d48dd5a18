"""Documented caps on what one command may ask for, so a typo costs an error, not an hour
of work or an out-of-memory kill. Kept free of heavy imports (the CLI reads it first)."""

MAX_RUNS = 10_000_000  # replications in one run
MAX_FILE_BYTES = 1_000_000  # size of a scenario file
MAX_HORIZON_DAYS = 3650  # ten years
MAX_BIDDERS = 50
MAX_DEADLINES = 20
MAX_WORKERS = 1024
MAX_SWEEP_POINTS = 20_000  # points in one sweep
