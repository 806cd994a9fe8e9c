"""Public home of mcinfra's error types (``mcinfra.errors``)."""

from mcinfra.core.errors import *  # noqa: F403
from mcinfra.core.errors import __all__  # noqa: F401
