"""Driver discovery: built-ins through the hook, third parties through the entry-point group."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mcinfra
from mcinfra.drivers.loader import DriverRegistry

PLUGIN = '''
from mcinfra.core.handlers import CloudDriver, DriverSession
from mcinfra.drivers.spec import hookimpl

class ToyDriver(CloudDriver):
    provider = "toy"
    def connect(self, info):
        return DriverSession(info)

@hookimpl
def mcinfra_drivers():
    return [ToyDriver]
'''


def test_entry_point_plugin_is_loaded(tmp_path: Path) -> None:
    """A package installed with an ``mcinfra`` entry point shows up as a provider."""
    (tmp_path / "toy_mcinfra.py").write_text(PLUGIN)
    dist = tmp_path / "toy_mcinfra-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-mcinfra\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[mcinfra]\ntoy = toy_mcinfra\n")
    script = textwrap.dedent("""
        import mcinfra
        infra = mcinfra.Infra("sqlite:///:memory:")
        print(sorted(p.name for p in infra.providers() if p.installed))
        infra.connections.add("t", provider="toy")
        cloud = infra.connect("t")
        try:
            cloud.vpcs.create("v", cidr="10.0.0.0/16")
        except mcinfra.Unsupported as exc:
            print("unsupported:", exc)
    """)
    root = Path(__file__).parents[2]
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": f"{tmp_path}:{root}", "MCINFRA_SECRET_KEY": "x", "PATH": "/usr/bin:/bin"})
    assert "'toy'" in out.stdout and "'mock'" in out.stdout
    assert "unsupported: driver 'toy' has no vpc handler" in out.stdout


def test_register_in_process() -> None:
    import types

    from mcinfra.core.handlers import CloudDriver, DriverSession
    from mcinfra.drivers.spec import hookimpl

    class Tiny(CloudDriver):
        provider = "tiny"

        def connect(self, info):  # type: ignore[no-untyped-def]
            return DriverSession(info)

    plugin = types.SimpleNamespace(mcinfra_drivers=hookimpl(lambda: [Tiny]))
    registry = DriverRegistry(entry_points=False)
    registry.register(plugin, name="tiny-plugin")
    assert registry.get("tiny").provider == "tiny"
    with pytest.raises(mcinfra.InvalidRequest, match="unknown provider"):
        registry.get("nope")


def test_import_needs_no_sdk_and_stays_light() -> None:
    code = ("import sys, mcinfra; heavy = [m for m in ('boto3', 'google.cloud.compute_v1', 'sqlalchemy', 'alembic',"
            " 'asyncssh', 'typer') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[2])
    assert out.stdout.strip() == "[]"


def test_driver_import_does_not_import_sdks() -> None:
    code = ("import sys, mcinfra; i = mcinfra.Infra('sqlite:///:memory:'); i.providers();"
            " print([m for m in ('boto3', 'google.cloud.compute_v1') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[2])
    assert out.stdout.strip() == "[]"


def _plugin(provider: str, *, overrides: bool = False) -> object:
    import types

    from mcinfra.core.handlers import CloudDriver, DriverSession
    from mcinfra.drivers.spec import hookimpl

    cls = type(f"Driver_{provider}_{overrides}", (CloudDriver,), {
        "provider": provider, "overrides": overrides, "connect": lambda self, info: DriverSession(info)})
    mod = types.SimpleNamespace()
    mod.mcinfra_drivers = hookimpl(lambda: [cls])  # type: ignore[attr-defined]
    return mod


def test_a_plugin_naming_a_taken_provider_is_an_error() -> None:
    reg = DriverRegistry(entry_points=False)
    reg.register(_plugin("mock"), name="impostor")
    with pytest.raises(mcinfra.DriverConflict, match=r"'mock' is claimed by .*impostor.*overrides = True"):
        reg.get("mock")


def test_a_plugin_that_says_it_overrides_replaces_the_builtin() -> None:
    reg = DriverRegistry(entry_points=False)
    reg.register(_plugin("mock", overrides=True), name="patched-mock")
    assert type(reg.get("mock")).__name__ == "Driver_mock_True"
    assert type(DriverRegistry(entry_points=False).get("mock")).__name__ == "MockDriver"
    # two overriders of one provider: ambiguous again
    reg.register(_plugin("mock", overrides=True), name="another")
    with pytest.raises(mcinfra.DriverConflict):
        reg.get("mock")
