"""The audit checkpoints' signing key as the settings name it, for the audit routes
(api/routes/audit.py), the supervision page and `minqing audit` (api/audit_cli.py)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters import audit
from application.settings import Settings


def signing_key(settings: Settings, *, create: bool) -> Ed25519PrivateKey | None:
    """The configured checkpoint key; on the embedded store made on first use if `create`."""
    return audit.load_signing_key(
        settings.audit_signing_key,
        settings.audit_signing_key_file,
        create=create and settings.embedded,
    )
