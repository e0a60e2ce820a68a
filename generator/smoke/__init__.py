"""The embedding smoke test: load a checkpoint, pool, project to 512-D, check, report."""
