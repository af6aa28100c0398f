"""SOPS-compatible documents: the pure format core (no I/O, randomness and time as parameters)."""
