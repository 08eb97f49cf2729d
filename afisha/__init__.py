"""Afisha's composition root: configuration, the command line, and wiring the parts together."""
