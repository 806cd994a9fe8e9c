"""The AWS target: the real boto3 code path against moto's server on 127.0.0.1.

moto is put in its strict mode, so that an unknown AMI, instance type or key pair is refused
at run_instances as AWS refuses it (moto accepts anything by default). moto has no Price List
API: prices come from the loopback fake in tests/fakes/aws_pricing (option pricing_endpoint_url).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.conformance.targets import Target
from tests.fakes import FAKE_RATE

#: Amazon Linux 2 (x86_64), one of the AMIs moto loads into every region.
IMAGE = "ami-04681a1dbd79675a5"
SPEC = "t2.micro"
REGION = "us-east-1"

#: moto's switches for AWS-like validation of run_instances (read by moto.settings).
STRICT_ENV = {
    "MOTO_ENABLE_AMI_VALIDATION": "true",
    "MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION": "true",
    "MOTO_ENABLE_KEYPAIR_VALIDATION": "true",
}

#: what AWS itself cannot do, shared with the live target (docs/aws.md); moto's own gaps are not here
UNSUPPORTED: dict[str, str] = {}

_lock = threading.Lock()
_server: Any = None
_url = ""
_pricing: Any = None


def _strict() -> None:
    os.environ.update(STRICT_ENV)
    from moto import settings

    # moto reads these at import; set them too in case moto was imported before us.
    settings.ENABLE_AMI_VALIDATION = True
    settings.EC2_ENABLE_INSTANCE_TYPE_VALIDATION = True
    settings.ENABLE_KEYPAIR_VALIDATION = True


def server_url() -> str:
    """Start moto's server once per process (loading its AMI/instance-type catalog takes seconds)."""
    global _server, _url
    with _lock:
        if _server is None:
            for mod in ("moto", "flask", "flask_cors", "boto3"):
                pytest.importorskip(mod, reason=f"aws target needs {mod} (pip install 'mcinfra[dev]')")
            _strict()
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            from moto.server import ThreadedMotoServer

            srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            srv.start()
            host, port = srv.get_host_and_port()
            _server, _url = srv, f"http://{host}:{port}"
            atexit.register(srv.stop)
        return _url


def pricing_url() -> str:
    """Start the Price List fake once per process (moto does not serve ``pricing``)."""
    global _pricing
    with _lock:
        if _pricing is None:
            pytest.importorskip("jsonschema", reason="the pricing fake needs jsonschema (pip install 'mcinfra[dev]')")
            from tests.fakes.aws_pricing import PricingFake

            _pricing = PricingFake().start()
            atexit.register(_pricing.stop)
        return str(_pricing.url)


def reset(url: str | None = None) -> None:
    """Drop every resource moto holds (POST /moto-api/reset)."""
    req = urllib.request.Request((url or server_url()) + "/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()


def make_target(url: str) -> Target:
    return Target(
        provider="aws",
        credentials={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
        region=REGION,
        zone=f"{REGION}a",
        options={"endpoint_url": url, "pricing_endpoint_url": pricing_url(), "poll_interval": 0.05, **FAKE_RATE},
        image=IMAGE,
        spec=SPEC,
        other_zone=f"{REGION}b",
        state_timeout=30.0,
        reset=lambda: reset(url),
        unsupported=dict(UNSUPPORTED),
        root_disk_type="gp3",
    )


@contextmanager
def target() -> Iterator[Target]:
    url = server_url()
    reset(url)
    yield make_target(url)
