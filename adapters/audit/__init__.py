"""Tamper evidence: a hash chain over the stored events, signed checkpoints, and verifiers.

The chain's layout and arithmetic are domain/audit_chain.py; here its storage and the
verification of the database (storage.py), the checkpoint key and signatures (signing.py),
and export bundles with their offline verifier (bundle.py). Everything is importable from
`adapters.audit`, as it has always been.
"""

from adapters.audit.bundle import BUNDLE_FORMAT, export_bundle, verify_bundle, write_bundle
from adapters.audit.signing import (
    CHECKPOINTS_FORMAT,
    Checkpoint,
    checkpoints_export,
    key_fingerprint,
    load_signing_key,
    public_key_b64,
    read_kept_checkpoints,
    sign,
)
from adapters.audit.storage import (
    BATCH,
    CHAIN_TABLE,
    CHECKPOINTS_TABLE,
    chain_head,
    checkpoints,
    ensure_tables,
    extend_chain,
    install_guards,
    link_before,
    make_checkpoint,
    read_chain,
    read_events,
    verify,
)
from domain.audit_chain import (
    CHAIN_LAYOUT,
    GENESIS,
    ChainRow,
    Head,
    LogEntry,
    Problem,
    Report,
    checkpoint_message,
    event_digest,
    next_link,
)

__all__ = [
    "BATCH",
    "BUNDLE_FORMAT",
    "CHAIN_LAYOUT",
    "CHAIN_TABLE",
    "CHECKPOINTS_FORMAT",
    "CHECKPOINTS_TABLE",
    "GENESIS",
    "ChainRow",
    "Checkpoint",
    "Head",
    "LogEntry",
    "Problem",
    "Report",
    "chain_head",
    "checkpoint_message",
    "checkpoints",
    "checkpoints_export",
    "ensure_tables",
    "event_digest",
    "export_bundle",
    "extend_chain",
    "install_guards",
    "key_fingerprint",
    "link_before",
    "load_signing_key",
    "make_checkpoint",
    "next_link",
    "public_key_b64",
    "read_chain",
    "read_events",
    "read_kept_checkpoints",
    "sign",
    "verify",
    "verify_bundle",
    "write_bundle",
]
