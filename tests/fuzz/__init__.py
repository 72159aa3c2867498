"""Fuzzing of every printer-layer parser and message handler (scripts/fuzz, tests/fuzz)."""
