"""The ``mcinfra`` command (typer + rich). The entry point is :data:`mcinfra.cli.main.app`.

Sub-apps written elsewhere (``mcinfra twin``, ``mcinfra cladnet``) get the shared store through
:func:`mcinfra.cli.context.infra` and the shared options from :mod:`mcinfra.cli.context`.
"""
