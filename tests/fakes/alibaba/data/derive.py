"""Regenerate ``api.json`` from Alibaba Cloud's published API metadata (a maintainer's tool;
tests never run it). Usage: ``python tests/fakes/alibaba/data/derive.py <real-api/alibaba dir>``.

For each kept action: the 200 response schema with ``description``/``example``/``title``/
``format``/``required`` dropped (they do not constrain a body), the action's documented error
codes by HTTP status, and its published JSON example bodies. Per product: every documented
(HTTP status, code) pair, for codes the per-action lists omit (throttling, for example).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

FILES = {"ecs": "ecs-2014-05-26", "vpc": "vpc-2016-04-28", "nlb": "nlb-2022-04-30"}
DROP = {
    "description",
    "example",
    "title",
    "format",
    "required",
    "enum",
    "maxItems",
    "minItems",
    "pattern",
    "maximum",
    "minimum",
    "default",
    "readOnly",
    "deprecated",
    "docRequired",
    "exclusiveMaximum",
}


def trim(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: trim(v) for k, v in schema.items() if k not in DROP}
    if isinstance(schema, list):
        return [trim(x) for x in schema]
    return schema


def main(src: Path) -> None:
    out: dict[str, Any] = {"actions": {}, "product_errors": {}}
    for product, stem in FILES.items():
        docs = json.loads((src / f"{stem}.api-docs.sliced.json").read_text())
        out.setdefault("source", {})[product] = docs["_slice"]["source"]
        for action, entry in docs["apis"].items():
            examples = [
                json.loads(d["example"])
                for d in json.loads(entry.get("responseDemo") or "[]")
                if d.get("type") == "json" and d.get("example")
            ]
            out["actions"][f"{product}/{action}"] = {
                "schema": trim(entry["responses"]["200"]["schema"]),
                "errors": {s: sorted({e["errorCode"] for e in v}) for s, v in (entry.get("errorCodes") or {}).items()},
                "examples": examples,
            }
        codes: dict[str, set[str]] = {}
        for row in json.loads((src / f"{stem}.error-codes.json").read_text())["errorCodes"]:
            codes.setdefault(row["httpStatus"], set()).add(row["errorCode"])
        out["product_errors"][product] = {s: sorted(c) for s, c in sorted(codes.items())}
    target = Path(__file__).with_name("api.json")
    target.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":"), sort_keys=True))
    print(f"wrote {target} ({target.stat().st_size} bytes)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
