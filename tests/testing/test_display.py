"""Results as tables: notebooks (_repr_html_) and rich show the CLI's columns; names are escaped."""

from __future__ import annotations

from rich.console import Console

from mcinfra import SecurityRule, SubnetReq
from mcinfra.cladnet.check import PingStats, RTTMatrix
from mcinfra.core.display import COLUMNS, ResultList
from mcinfra.testing import TestCloud

EVIL = "<script>alert(1)</script>"


def test_lists_render_as_tables_with_the_cli_columns(mock_cloud: TestCloud) -> None:
    mock_cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-01", cidr="10.0.1.0/24")])
    mock_cloud.security_groups.create("sg-01", vpc="vpc-01", rules=[
        SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22)])
    mock_cloud.keypairs.create("key-01")
    mock_cloud.vms.start("vm-01", image="ubuntu-22.04", spec="t2.micro", vpc="vpc-01", subnet="sn-01",
                         security_groups=["sg-01"], keypair="key-01")
    vms = mock_cloud.vms.list()
    assert isinstance(vms, ResultList) and isinstance(vms, list)
    page = vms._repr_html_()
    for header in COLUMNS[type(vms[0])].headers:
        assert f">{header}<" in page
    assert "vm-01" in page and "sn-01" in page and "Running" in page and "color:" in page
    one = vms[0]._repr_html_()
    assert one.count("<tr>") == 2  # header + the one VM
    assert "vpc-01" in mock_cloud.vpcs.list()._repr_html_()
    assert "ubuntu" in mock_cloud.images.list()._repr_html_().lower()
    history = mock_cloud.infra.history(connection=mock_cloud.name)
    assert ">operation<" in history._repr_html_() and "vm.start" in history._repr_html_()
    text = _render(vms)
    assert "vm-01" in text and "public ip" in text


def test_user_names_cannot_inject_html(mock_cloud: TestCloud) -> None:
    sg = mock_cloud.security_groups  # rule text comes from the CSP; names are the user's: check both
    mock_cloud.vpcs.create("vpc-x", cidr="10.0.0.0/16")
    info = sg.create("sg-x", vpc="vpc-x")
    evil = info.model_copy(update={"vpc": EVIL, "iid": info.iid.model_copy(update={"name_id": EVIL})})
    page = ResultList([evil])._repr_html_() or ""
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_models_without_a_table_fall_back_to_their_repr() -> None:
    assert ResultList([1, 2])._repr_html_() is None
    assert ResultList([])._repr_html_() == "<p><em>(none)</em></p>"


def test_rtt_matrix_is_a_heat_map() -> None:
    m = RTTMatrix("net-1", ["a", EVIL], {("a", EVIL): PingStats(3, 3, 1.0, 2.0, 3.0),
                                         (EVIL, "a"): PingStats(3, 0, error="lost")})
    page = m._repr_html_()
    assert "2.0" in page and "background" in page and "<script>" not in page
    assert "net-1" in _render(m)


def _render(obj: object) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(obj)
    return console.export_text()


def test_destroy_all_reports_each_item_to_a_progress_callback(mock_cloud: TestCloud) -> None:
    mock_cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16")
    mock_cloud.keypairs.create("key-01")
    seen: list[tuple[str, str, str | None]] = []
    report = mock_cloud.destroy_all(progress=lambda kind, name, error: seen.append((kind, name, error)))
    assert report.all_destroyed
    assert seen == [("keypair", "key-01", None), ("vpc", "vpc-01", None)]
    assert mock_cloud.destroy_all(progress=True).all_destroyed  # the bar itself, on nothing left


def test_every_result_model_has_a_table() -> None:
    import mcinfra

    results = [getattr(mcinfra, n) for n in mcinfra.__all__ if n.endswith(("Info", "Report")) or n in (
        "IID", "ListAll", "CallRecord")]
    assert len(results) >= 15
    assert [r.__name__ for r in results if r not in COLUMNS] == []
