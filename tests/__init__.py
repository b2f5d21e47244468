"""Cross-app flows and browser tests. A package, so `tests.*` resolves here even where an
installed distribution ships a top-level `tests` package (apimatic-core does)."""
