"""Seeded generator of a SUNAFIL-like demo world in canonical form, with a hidden truth."""
