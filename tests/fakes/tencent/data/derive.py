"""Re-derive this folder's JSON from the staged Tencent reference material (run by hand, not by tests).

    python tests/fakes/tencent/data/derive.py <real-api/tencent folder>

Keeps from tccli's api.json only what the validator needs (member name, type, member type,
nullability, output_required, disabled, required); the examples unchanged; the error-code
lists without their descriptions. See ATTRIBUTION.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
SERVICES = ("cvm-v20170312", "vpc-v20170312", "clb-v20180317")
KEEP = ("name", "type", "member", "value_allowed_null", "output_required", "disabled", "required")


def main(src: Path) -> None:
    out: dict[str, object] = {}
    for svc in SERVICES:
        api = json.loads((src / f"{svc}.api.sliced.json").read_text())
        objects = {
            name: [{k: m[k] for k in KEEP if k in m} for m in obj["members"]] for name, obj in api["objects"].items()
        }
        actions = {a: {"input": v["input"], "output": v["output"]} for a, v in api["actions"].items()}
        examples = json.loads((src / f"{svc}.examples.sliced.json").read_text())["actions"]
        codes = json.loads((src / f"{svc}.errorcodes.json").read_text())["codes"]
        out[svc] = {"version": api["metadata"]["apiVersion"], "actions": actions, "objects": objects}
        (HERE / f"{svc}.schema.json").write_text(json.dumps(out[svc], indent=0, sort_keys=True) + "\n")
        (HERE / f"{svc}.examples.json").write_text(json.dumps(examples, ensure_ascii=False, indent=1) + "\n")
        (HERE / f"{svc}.errorcodes.json").write_text(json.dumps(codes, indent=0) + "\n")
    common = json.loads((src / "common-errorcodes.json").read_text())["codes"]
    (HERE / "common.errorcodes.json").write_text(json.dumps(common, indent=0) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
