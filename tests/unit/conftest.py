"""Unit tests: pure code only (no emulator, no Azurite); shared builders are in tests/helpers/arm_shapes.py."""
