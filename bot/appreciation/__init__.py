"""Appreciation between colleagues (`/apresiasi`), across units and generations."""
