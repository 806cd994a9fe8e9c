"""The opt-in live conformance target, offline: who selects it, that CI refuses it, and that its
run tag and end-of-session cleanup find and remove everything a run made (on the mock driver)."""

from __future__ import annotations

import json

import pytest

import mcinfra
from mcinfra import SubnetReq
from mcinfra.drivers.mock import reset
from tests.conformance.targets import Target, live, live_aws, live_gcp

AWS_ENV = {"AWS_ACCESS_KEY_ID": "AKIA-test", "AWS_SECRET_ACCESS_KEY": "secret"}
REGION = "mercury"


@pytest.mark.parametrize(("environ", "runs"), [
    ({}, False),                                                    # not requested
    ({**AWS_ENV}, False),                                           # credentials alone select nothing
    ({"MCINFRA_LIVE": "gcp", **AWS_ENV}, False),                    # another provider requested
    ({"MCINFRA_LIVE": "aws"}, False),                               # requested, no credentials
    ({"MCINFRA_LIVE": "aws", **AWS_ENV}, True),
    ({"MCINFRA_LIVE": " GCP , aws ", **AWS_ENV}, True),             # a list, any case and spacing
    ({"MCINFRA_LIVE": "aws", "AWS_PROFILE": "dev"}, True),
    ({"MCINFRA_LIVE": "aws", **AWS_ENV, "CI": "true"}, False),      # CI: refused whatever else is set
    ({"MCINFRA_LIVE": "aws", **AWS_ENV, "CI": "1"}, False),
    ({"MCINFRA_LIVE": "aws", **AWS_ENV, "CI": "false"}, True),
])
def test_live_aws_selection(environ: dict[str, str], runs: bool) -> None:
    reason = live.skip_reason("aws", environ, live_aws.missing_credentials)
    assert (reason is None) == runs, reason
    if environ.get("CI") in ("true", "1"):
        assert "refusing" in reason and "CI" in reason


def test_live_gcp_selection(tmp_path) -> None:
    key = tmp_path / "sa.json"
    env = {"MCINFRA_LIVE": "gcp", "GOOGLE_APPLICATION_CREDENTIALS": str(key)}
    assert "names no file" in live.skip_reason("gcp", env, live_gcp.missing_credentials)
    key.write_text(json.dumps({"type": "service_account", "project_id": "p1", "client_email": "x@p1.iam",
                               "private_key": "-----BEGIN PRIVATE KEY-----\n...", "token_uri": "https://t"}))
    assert live.skip_reason("gcp", env, live_gcp.missing_credentials) is None
    assert "refusing" in live.skip_reason("gcp", {**env, "CI": "true"}, live_gcp.missing_credentials)
    t = live_gcp.make_target({**env, "GOOGLE_CLOUD_PROJECT": "p2", "MCINFRA_LIVE_GCP_REGION": "europe-west1"})
    assert (t.provider, t.region, t.zone, t.spec) == ("gcp", "europe-west1", "europe-west1-a", "e2-micro")
    assert t.credentials["project_id"] == "p2" and t.credentials["client_email"] == "x@p1.iam"
    assert t.unsupported == live_gcp.UNSUPPORTED and t.state_timeout >= 300


def test_live_aws_target_from_env() -> None:
    t = live_aws.make_target({**AWS_ENV, "AWS_REGION": "eu-west-1", "MCINFRA_LIVE_AWS_IMAGE": "ami-0123"})
    assert (t.region, t.zone, t.other_zone, t.image, t.spec) == ("eu-west-1", "eu-west-1a", "eu-west-1b",
                                                                   "ami-0123", "t3.micro")
    assert t.credentials == {"aws_access_key_id": "AKIA-test", "aws_secret_access_key": "secret"}
    t = live_aws.make_target({"AWS_PROFILE": "dev", "MCINFRA_LIVE_AWS_IMAGE": "ami-0123"})
    assert t.credentials == {} and t.region == "us-east-1"  # boto3's chain reads the profile


@pytest.mark.parametrize("environ", [{}, {"MCINFRA_LIVE": "aws", **AWS_ENV, "CI": "true"}])
def test_live_target_skips_before_making_anything(environ: dict[str, str]) -> None:
    def make() -> Target:
        raise AssertionError("a skipped live target must not build its target")

    with pytest.raises(pytest.skip.Exception), live.live_target("aws", live_aws.missing_credentials, make, environ):
        pass


def test_tag_shape() -> None:
    tags = {live.new_tag() for _ in range(50)}
    assert len(tags) == 50
    assert all(len(t) == 6 and t[0] == "t" and t.isalnum() and t == t.lower() for t in tags)


@pytest.fixture
def mock_target():
    reset(REGION)
    yield Target(provider="mock", region=REGION, zone=f"{REGION}-a", image="ubuntu-22.04", spec="t2.micro")
    reset(REGION)


def test_live_run_tags_names_and_cleans_up(mock_target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    run = live.LiveRun(mock_target)
    try:
        # someone else's resource in the same account and region, unmapped: the sweep must leave it
        with mcinfra.Infra("sqlite:///:memory:") as other:
            other.regions.add("r", provider="mock", region=REGION, zone=f"{REGION}-a")
            other.connections.add("c", provider="mock", region="r")
            other.connect("c").vpcs.create("vpc-01", cidr="10.9.0.0/16")
            other.connect("c").vpcs.unregister("vpc-01")
            (foreign,) = other.connect("c").vpcs.list_all().only_csp  # IID(CSP name, CSP id)

        run.install_tag(monkeypatch)
        first = run.connect()
        vpc = first.vpcs.create("vpc-01", cidr="10.1.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.1.1.0/24")])
        sg = first.security_groups.create("sg-01", vpc="vpc-01")
        key = first.keypairs.create("key-01")
        first.vms.start("vm-01", image="ubuntu-22.04", spec="t2.micro", vpc="vpc-01", subnet="sn",
                        security_groups=["sg-01"], keypair="key-01")
        # a "failed scenario" that had unregistered its SG: only the tag finds it now
        second = run.connect()
        second.vpcs.create("vpc-02", cidr="10.2.0.0/16")
        lost = second.security_groups.create("sg-lost", vpc="vpc-02")
        second.security_groups.unregister("sg-lost")
        monkeypatch.undo()

        names = {i.name_id for i in first.vpcs.list_all().only_csp} | {
            r.csp_name for k in ("vpc", "security_group", "keypair", "vm")
            for r in run.infra.store.list(first.name, k)}
        assert names and all(run.tagged(n) for n in names - {foreign.name_id}), names
        assert not run.tagged(foreign.name_id)
        assert run.connections == [first.name, second.name]

        assert run.finish(pause=0.0) == {}
        for conn in (first, second):
            for kind in ("nlb", "vm", "keypair", "security_group", "vpc"):
                listing = conn.manager(kind).list_all()
                assert listing.mapped == [] and listing.only_store == []
        left = {i.system_id for i in first.vpcs.list_all().only_csp}
        assert left == {foreign.system_id}  # only the untagged VPC survives
        assert lost.iid.system_id not in {i.system_id for i in first.security_groups.list_all().only_csp}
        assert {vpc.iid.system_id, sg.iid.system_id, key.iid.system_id}.isdisjoint(left)
    finally:
        run.close()


def test_sweep_reports_what_it_cannot_delete(mock_target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    run = live.LiveRun(mock_target)
    try:
        run.install_tag(monkeypatch)
        conn = run.connect()
        conn.vpcs.create("vpc-01", cidr="10.1.0.0/16")
        conn.vpcs.unregister("vpc-01")
        monkeypatch.undo()

        def refuse(*_: object) -> None:
            raise mcinfra.InUse("still in use")

        monkeypatch.setattr(type(conn.vpcs), "delete_csp", lambda self, system_id: refuse())
        left = live.sweep(conn, run.tagged, rounds=2, pause=0.0)
        assert list(left) == ["vpc"] and run.tagged(left["vpc"][0].name_id)
    finally:
        run.close()


def test_live_target_context_cleans_up_and_fails_on_leftovers(mock_target: Target,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"MCINFRA_LIVE": "mock"}
    with live.live_target("mock", lambda e: "", lambda: mock_target, env) as t:
        assert t.live is not None and t.live.infra is not None
        t.live.install_tag(monkeypatch)
        t.live.connect().vpcs.create("vpc-01", cidr="10.1.0.0/16")  # a scenario that left its VPC
        monkeypatch.undo()
    # the session's end removed it
    with mcinfra.Infra("sqlite:///:memory:") as i:
        i.regions.add("r", provider="mock", region=REGION, zone=f"{REGION}-a")
        i.connections.add("c", provider="mock", region="r")
        assert i.connect("c").vpcs.list_all().only_csp == []

    monkeypatch.setattr(live, "sweep", lambda *a, **k: {"vpc": [mcinfra.IID(name_id="tx-vpc", system_id="v1")]})
    with pytest.raises(pytest.fail.Exception, match="left resources at the CSP"), \
            live.live_target("mock", lambda e: "", lambda: mock_target, env):
        pass
