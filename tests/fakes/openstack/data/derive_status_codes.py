"""Derive ``status_codes.json`` from the services' api-ref pages (run by hand, never by tests).

Each OpenStack api-ref ``.inc`` page lists, per operation, "Normal response codes" and
"Error response codes" (Nova, Neutron, Glance, Keystone) or ``rest_status_code`` blocks
(Octavia). This script reads those pages from local git mirrors / the reference folder
given on the command line and writes one table: service -> "METHOD /path[ action]" ->
{"normal": [...], "error": [...]}. ATTRIBUTION.md names the commits it was run on.

usage: python derive_status_codes.py NOVA_API_REF NEUTRON_API_REF OCTAVIA_API_REF GLANCE_API_REF OUT.json
(each *_API_REF is a folder holding that service's ``*.inc`` pages)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

METHOD = re.compile(r"^\.\. rest_method::\s+(GET|POST|PUT|DELETE|PATCH|HEAD)\s+(\S+)")
CODES = re.compile(r"\((\d{3})\)|\b(\d{3})\b")
TITLE_ACTION = re.compile(r"\((?:``)?([\w-]+)(?:``)? Action\)")


def parse_inc(text: str) -> dict[str, dict[str, list[int]]]:
    lines = text.splitlines()
    out: dict[str, dict[str, list[int]]] = {}
    key = None
    title = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and re.fullmatch(r"[=\-~^]{3,}", lines[i + 1].strip() or "x") and line.strip():
            title = line.strip()
        m = METHOD.match(line.strip())
        if m:
            method, path = m.groups()
            path = re.sub(r"\{[^}]+\}", "{id}", path)
            action = TITLE_ACTION.search(title)
            key = f"{method} {path}" + (f" {action.group(1)}" if action and path.endswith("/action") else "")
            out.setdefault(key, {"normal": [], "error": []})
        for label, kind in (("Normal response codes:", "normal"), ("Error response codes:", "error")):
            if key and line.startswith(label):
                chunk = line[len(label):]
                j = i + 1
                while j < len(lines) and lines[j].strip():
                    chunk += " " + lines[j]
                    j += 1
                codes = sorted({int(a or b) for a, b in CODES.findall(chunk)})
                out[key][kind] = sorted(set(out[key][kind]) | set(codes))
        if key and line.strip().startswith(".. rest_status_code::"):
            kind = "normal" if "success" in line else "error"
            j = i + 1
            codes = []
            while j < len(lines) and (not lines[j].strip() or lines[j].strip().startswith("- ")):
                if lines[j].strip().startswith("- "):
                    codes.append(int(lines[j].strip()[2:5]))
                j += 1
                if j < len(lines) and lines[j].strip() and not lines[j].strip().startswith("- "):
                    break
            out[key][kind] = sorted(set(out[key][kind]) | set(codes))
        i += 1
    return out


def main() -> None:
    nova, neutron, octavia, glance, dest = sys.argv[1:6]
    table: dict[str, dict[str, dict[str, list[int]]]] = {}
    for service, folder, pages in (
        ("compute", nova, ["servers.inc", "servers-actions.inc", "os-keypairs.inc", "flavors.inc",
                           "os-availability-zone.inc"]),
        ("network", neutron, ["networks.inc", "subnets.inc", "routers.inc", "security-groups.inc",
                              "security-group-rules.inc", "ports.inc", "floatingips.inc"]),
        ("load-balancer", octavia, ["loadbalancer.inc", "listener.inc", "pool.inc", "member.inc",
                                    "healthmonitor.inc"]),
        ("image", glance, ["images-images-v2.inc"]),
    ):
        merged: dict[str, dict[str, list[int]]] = {}
        for page in pages:
            for key, codes in parse_inc((Path(folder) / page).read_text()).items():
                prev = merged.setdefault(key, {"normal": [], "error": []})
                for kind in ("normal", "error"):
                    prev[kind] = sorted(set(prev[kind]) | set(codes[kind]))
        table[service] = merged
    Path(dest).write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
