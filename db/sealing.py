"""What the execution store keeps of a request: everything masked, the raw plan only sealed.

A command may carry a secret the target needs (`mysql -pS3cret ...`). The rows people and
tools read (executions.request/plan/message, execution_steps.args/result) hold the text as
the redactor masks it (`pipeline.redaction`). When masking changed the plan, the raw plan
is kept too, sealed with the credential key (AES-256-GCM, bound to its execution id:
``<key id>:<nonce b64>:<ciphertext b64>``), and only `open` — the store's `load`, which the
executor runs from — ever sees it again.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from domains.assets.credentials import CredentialCipher, CredentialError, Sealed
from pipeline.contracts import Plan
from pipeline.errors import StoreUnavailable
from pipeline.redaction import Redactor

_T = TypeVar("_T")
KIND = "plan"


class PlanSeal:
    """Masks what the store writes in the clear; seals and opens raw plans."""

    def __init__(self, redactor: Redactor, cipher: CredentialCipher) -> None:
        self.redactor = redactor
        self.cipher = cipher

    def __repr__(self) -> str:
        return f"PlanSeal(key_id={self.cipher.key_id!r})"

    def mask(self, value: _T) -> _T:
        return self.redactor.redact(value)

    def seal(self, execution_id: str, plan: Plan) -> tuple[dict[str, Any], str | None]:
        """(the plan as shown, masked; the raw plan sealed, or None when nothing was masked)."""
        raw = plan.model_dump(mode="json")
        shown = self.mask(raw)
        if shown == raw:
            return raw, None
        sealed = self.cipher.seal(execution_id, KIND, json.dumps(raw, separators=(",", ":")))
        return shown, ":".join(
            (sealed.key_id, _b64(sealed.nonce), _b64(sealed.ciphertext)),
        )

    def open(self, execution_id: str, sealed: str) -> Plan:
        """The raw plan; StoreUnavailable when it cannot be opened (other key, tampered)."""
        try:
            key_id, nonce, ciphertext = sealed.split(":")
            plain = self.cipher.open(
                execution_id, KIND, Sealed(base64.b64decode(ciphertext), base64.b64decode(nonce), key_id)
            )
        except (ValueError, binascii.Error, CredentialError) as err:
            raise StoreUnavailable(
                f"the sealed plan of execution {execution_id} cannot be opened: {err}"
            ) from err
        return Plan.model_validate_json(plain.get_secret_value())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
