"""Scrub API keys out of any text we produce (error messages, ledger records, logs).

Provider error messages sometimes echo part or all of the key they rejected; the key must never reach
a log, a Parquet file or an exception that a stage may store as a reject reason.
"""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}")
_URL_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
            if len(secret) >= 12:  # providers often print a masked prefix/suffix such as "sk-abc1***wxyz"
                text = text.replace(secret[:8], REDACTED).replace(secret[-6:], REDACTED)
    text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + REDACTED + "@", text)  # api_base with user:pass@
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
