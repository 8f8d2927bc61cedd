"""OpsConductor: composition root (settings, CLI, app wiring, server lifecycle)."""
