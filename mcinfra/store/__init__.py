"""The metadata store: names users choose mapped to the IDs clouds assign."""

from mcinfra.store.db import IIDRecord, Store

__all__ = ["IIDRecord", "Store"]
