"""Running many replications: keyed random streams, sampling a block of inputs, the
Monte Carlo loop, the block store that lets a run resume, executors and clusters."""
