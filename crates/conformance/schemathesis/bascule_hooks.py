"""Schemathesis hooks for the official-spec fuzz run against Bascule.

Loaded through SCHEMATHESIS_HOOKS by `bascule-conformance`'s `schemathesis` binary, which
starts the bank, makes the TPP's consents and tokens, and serves its signer. Per request:

- `Authorization`: the client-credentials token for an operation the spec secures with
  `TPPOAuth2Security`, the customer's token for `PSUOAuth2Security` (the generated value of
  the declared `Authorization` header would only ever be refused at the door);
- for a request with a body on an operation that declares `x-jws-signature`: the body is
  serialised here, once, and those exact bytes are sent and signed (detached JWS, RW §Message
  Signing) by the TPP's key through the driver's signer, with a fresh `x-idempotency-key`.

The signing rule lives in Rust (bascule-testkit's `Tpp::sign_detached`); this file only
carries the bytes to it.
"""

import json
import os
import urllib.request
import uuid

import schemathesis
from schemathesis.core import NotSet

TOKENS = json.loads(os.environ["BASCULE_TOKENS"])
SIGNER = os.environ["BASCULE_SIGNER"]


def _declares(case, name):
    for parameter in case.operation.definition.raw.get("parameters", []):
        ref = parameter.get("$ref", "")
        if parameter.get("name", "").lower() == name or ref.endswith("/" + name):
            return True
    return False


def _token(case):
    security = case.operation.definition.raw.get("security", [])
    schemes = {name for requirement in security for name in requirement}
    return TOKENS["customer"] if "PSUOAuth2Security" in schemes else TOKENS["client"]


def _sign(body):
    request = urllib.request.Request(SIGNER, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode("ascii")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = dict(case.headers or {})
    headers["Authorization"] = "Bearer " + _token(case)
    if case.method.upper() == "POST" and _declares(case, "x-jws-signature"):
        body = case.body
        if isinstance(body, NotSet):
            raw = b""
        elif isinstance(body, (bytes, bytearray)):
            raw = bytes(body)
        else:
            raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        kwargs["data"] = raw
        headers["x-jws-signature"] = _sign(raw)
        headers["x-idempotency-key"] = uuid.uuid4().hex
    case.headers = headers
