"""The composition root: the CLI, the one start-up path, the wiring of the PTB Application
and its background services."""
