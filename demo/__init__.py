"""Demo tooling, kept out of the product modules: the `seed_demo` command and the sample
referrers, clicks, sign-ups and purchases it loads through the ordinary services."""
