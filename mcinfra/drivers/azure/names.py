"""Azure's naming rules for the resources this driver makes (Microsoft.Network and Microsoft.Compute
naming rules: letters, digits, '-', '_' and '.', starting with a letter or digit, ending with a letter,
digit or '_'; at most 64 characters for VNets and Linux VMs, 80 for the rest). The driver keeps every
name within 64, the tightest of them, and derives the VM's NIC / public IP / OS disk names from the VM's."""

from __future__ import annotations

import re

from mcinfra.core.errors import InvalidRequest

MAX_LENGTH = 64
#: how long each kind's names may be at Azure
MAX_BY_KIND = {"vpc": 64, "subnet": 80, "security_group": 80, "keypair": 64, "vm": 64, "nlb": 80}
#: suffixes the driver adds for a VM's parts and an NLB's public IP (the longest is "-osdisk")
PART_SUFFIX = 7
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]$|^[A-Za-z0-9]$")


def check_name(name: str, kind: str) -> str:
    limit = MAX_BY_KIND.get(kind, MAX_LENGTH) - (PART_SUFFIX if kind in ("vm", "nlb") else 0)
    if not isinstance(name, str) or len(name) > limit or not NAME_RE.match(name):
        raise InvalidRequest(
            f"Azure {kind} name {name!r} is invalid: 1-{limit} characters, letters, digits, '-', '_' or '.', "
            "starting with a letter or digit and ending with a letter, digit or '_'", field="name")
    return name
