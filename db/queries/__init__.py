"""Data functions: keyword-only, the session first, plain values in and out."""
