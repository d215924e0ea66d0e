"""Unit tests: the domain and pure helpers, no database and no network."""
