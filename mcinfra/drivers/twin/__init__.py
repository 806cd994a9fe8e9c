"""The twin driver: a real local cloud on Linux network namespaces (docs/twin.md)."""
