"""Local development stack: ARM emulator, scenarios and helpers for running the loop without Azure."""
