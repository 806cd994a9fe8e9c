"""Live AWS target (opt-in): ``MCINFRA_LIVE=aws`` plus boto3's usual credentials
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` [``AWS_SESSION_TOKEN``], or ``AWS_PROFILE``) and
region (``AWS_REGION``/``AWS_DEFAULT_REGION``, default us-east-1). ``MCINFRA_LIVE_AWS_IMAGE``
picks the AMI; by default the region's current Amazon Linux 2023 AMI (a public SSM parameter).
See tests/conformance/targets/live.py and docs/testing.md."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from tests.conformance.targets import Target
from tests.conformance.targets.aws import UNSUPPORTED
from tests.conformance.targets.live import live_target

SPEC = "t3.micro"
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def missing_credentials(environ: Mapping[str, str]) -> str:
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        return ""
    if environ.get("AWS_PROFILE"):
        return ""
    return "no AWS credentials in the environment (AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"


def region(environ: Mapping[str, str]) -> str:
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def make_target(environ: Mapping[str, str] | None = None) -> Target:
    env = os.environ if environ is None else environ
    reg = region(env)
    creds = {}
    if env.get("AWS_ACCESS_KEY_ID"):  # else boto3's own chain (AWS_PROFILE) decides
        creds = {"aws_access_key_id": env["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}
        if env.get("AWS_SESSION_TOKEN"):
            creds["aws_session_token"] = env["AWS_SESSION_TOKEN"]
    image = env.get("MCINFRA_LIVE_AWS_IMAGE") or _current_ami(reg)
    return Target(provider="aws", credentials=creds, region=reg, zone=f"{reg}a", other_zone=f"{reg}b",
                  image=image, spec=SPEC, state_timeout=600.0, unsupported=dict(UNSUPPORTED),
                  root_disk_type="gp3", root_disk_size=20)


def _current_ami(reg: str) -> str:
    import boto3

    return boto3.client("ssm", region_name=reg).get_parameter(Name=AMI_PARAMETER)["Parameter"]["Value"]


@contextmanager
def target() -> Iterator[Target]:
    with live_target("aws", missing_credentials, make_target) as t:
        yield t
