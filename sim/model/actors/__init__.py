"""The actors of one replication, one a file; ``deal.Deal`` is the state they share."""
