"""Checks a request's ACS3-HMAC-SHA256 signature (Alibaba's V3 signature) as the gateway does,
written from Alibaba's published description of the algorithm:

    CanonicalRequest = Method \\n URI \\n CanonicalQuery \\n CanonicalHeaders \\n SignedHeaders \\n HexSHA256(body)
    StringToSign     = "ACS3-HMAC-SHA256" \\n HexSHA256(CanonicalRequest)
    Signature        = Hex(HMAC-SHA256(AccessKeySecret, StringToSign))

The query is sorted by name with names and values percent-encoded (RFC 3986: space as %20, '~'
kept); the signed headers are lower-case ``name:value`` lines in name order. The fake uses it to
prove the driver hands the SDK the right secret and the SDK signs what it sends.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "ACS3-HMAC-SHA256"


def _encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_request(method: str, raw_path: str, headers: dict[str, str], body: bytes, signed: list[str]) -> str:
    parts = urlsplit(raw_path)
    pairs = sorted((_encode(k), _encode(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    lower = {k.lower(): v for k, v in headers.items()}
    header_lines = "".join(f"{name}:{lower.get(name, '').strip()}\n" for name in signed)
    return "\n".join(
        [method.upper(), parts.path or "/", query, header_lines, ";".join(signed), hashlib.sha256(body).hexdigest()]
    )


def check(method: str, raw_path: str, headers: dict[str, str], body: bytes, secrets: dict[str, str]) -> str | None:
    """None when the request is signed with the secret of its AccessKey id, else why not."""
    lower = {k.lower(): v for k, v in headers.items()}
    auth = lower.get("authorization", "")
    algorithm, _, rest = auth.partition(" ")
    if algorithm != ALGORITHM:
        return f"Authorization is not {ALGORITHM}: {algorithm or 'missing'}"
    fields = dict(item.strip().split("=", 1) for item in rest.split(",") if "=" in item)
    key_id, signed, signature = fields.get("Credential", ""), fields.get("SignedHeaders", ""), fields.get("Signature")
    if key_id not in secrets:
        return f"unknown AccessKey id {key_id!r}"
    if lower.get("x-acs-content-sha256") != hashlib.sha256(body).hexdigest():
        return "x-acs-content-sha256 does not match the body"
    names = signed.split(";")
    if not {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"} <= set(names):
        return f"signed headers miss required ones: {signed}"
    request = canonical_request(method, raw_path, headers, body, names)
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(request.encode()).hexdigest()}"
    expected = hmac.new(secrets[key_id].encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature or "") else "signature does not match"
