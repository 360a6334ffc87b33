"""Keeps Azure OpenAI accounts locked inside a private network: observe, plan, apply, record."""

__version__ = "0.1.0"
