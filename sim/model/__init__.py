"""The model of the world: one replication (``replication.Model``), its actors (one a
file), the events it logs and the row it ends as. No files, no plotting, no randomness
of its own: every draw comes in with the replication."""
