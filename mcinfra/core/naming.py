"""CSP-side names: the user's name, cooked to the CSP's rules, plus a short unique suffix.

As CB-Spider does, the suffix lets a user reuse a name after a delete and across connections
without the CSP seeing a duplicate. Ours is 8 base32 characters (40 random bits).
"""

from __future__ import annotations

import base64
import re
import secrets

from mcinfra.core.handlers import NameRules

SUFFIX_LEN = 8
_BAD = re.compile(r"[^A-Za-z0-9-]")


def suffix() -> str:
    return base64.b32encode(secrets.token_bytes(5)).decode().lower()  # 40 bits -> 8 characters


def csp_name(user_name: str, kind: str, rules: NameRules) -> str:
    max_len = rules.max_length_by_kind.get(kind, rules.max_length)
    room = max(1, max_len - SUFFIX_LEN - len(rules.separator))
    base = _BAD.sub("", user_name.replace("_", "-"))
    if rules.lowercase:
        base = base.lower()
    base = base[:room].rstrip("-") or "r"
    for prefix in rules.reserved_prefixes:
        # checked on the name as sent (base + "-" + suffix): "SG" must not become "sg-<suffix>"
        while f"{base}-".lower().startswith(prefix.lower()):
            base = base[: len(prefix) - 1] + base[len(prefix):] if len(base) >= len(prefix) else f"r{base}"
    if not base[0].isalpha():
        base = ("r" + base)[:room]
    name = f"{base}-{suffix()}"
    return name.replace("-", rules.separator) if rules.separator != "-" else name
