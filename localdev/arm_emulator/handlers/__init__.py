"""The provider modules: each holds its types' handlers and their `SPECS` (spec.py), gathered in registry.py."""
