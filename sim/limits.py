"""Documented caps on what one command may ask for, so a typo costs an error, not an hour
of work or an out-of-memory kill. Kept free of heavy imports (the CLI reads it first)."""

MAX_RUNS = 5_000_000  # replications in one run: about 7 GiB at peak (benchmarks/memory.py)
MAX_FILE_BYTES = 1_000_000  # size of a scenario file
MAX_HORIZON_DAYS = 3650  # ten years
MAX_BIDDERS = 50
MAX_DEADLINES = 20
MAX_WORKERS = 1024
MAX_SWEEP_POINTS = 20_000  # points in one sweep
# Every date a scenario names lies in these years (1 January to 31 December), and every day
# count (a duration, a day from start) is at most MAX_DAYS: then every date the model can
# reach (the horizon's end plus any chain of capped extensions, reviews, delays) stays far
# inside the calendar (9999-12-31), so a report can always write it.
FIRST_YEAR = 1900
LAST_YEAR = 2200
MAX_DAYS = MAX_HORIZON_DAYS  # a day count that long ends past any horizon
READ_TIMEOUT_SECONDS = 5.0  # a scenario read from a pipe or FIFO must arrive in full within
