"""The mock cloud: an in-memory (or file-shared) CSP for users' unit tests and demos."""

from mcinfra.drivers.mock.state import reset

__all__ = ["reset"]
