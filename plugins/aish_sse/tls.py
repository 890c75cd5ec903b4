"""TLS for the SSE transport: which certificates are trusted, and why a certificate was refused.

Trusted roots, as requests and curl find them: ``REQUESTS_CA_BUNDLE``, else
``CURL_CA_BUNDLE`` (a PEM file, or a directory of hashed certificates), else
the system's store, which ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` redirect.
This module (and :mod:`ssl`) is imported only for ``https://`` URLs.
"""

from __future__ import annotations

import os
import ssl

from aish import ConfigError

BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

# OpenSSL's X509_V_ERR_* codes, said the way a user can act on them
_REASONS = {
    9: "the server's certificate is not valid yet",
    10: "the server's certificate has expired",
    18: "the server's certificate is self-signed",
    19: "the server's certificate chain ends in an unknown CA (self-signed root)",
    20: "the server's certificate was issued by an unknown CA",
    21: "the server's certificate was issued by an unknown CA",
    23: "the server's certificate was revoked",
    62: "the server's certificate is for another host name",
    64: "the server's certificate is for another IP address",
}


def client_context() -> ssl.SSLContext:
    """A verifying client context trusting the bundle the environment names (or the system's), offering HTTP/1.1."""
    context = _trusting()
    context.set_alpn_protocols(["http/1.1"])
    return context


def _trusting() -> ssl.SSLContext:
    for name in BUNDLE_VARIABLES:
        path = os.environ.get(name, "")
        if not path:
            continue
        try:
            if os.path.isdir(path):
                return ssl.create_default_context(capath=path)
            if not os.path.isfile(path):
                raise ConfigError(f"{name}={path}: no such file")
            return ssl.create_default_context(cafile=path)
        except ssl.SSLError as exc:
            raise ConfigError(f"{name}={path}: not a certificate bundle ({exc.reason or exc})") from None
    return ssl.create_default_context()


def failure_reason(exc: BaseException) -> str | None:
    """Why a TLS handshake failed, in one phrase; None when ``exc`` is not a TLS error."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        detail = str(exc.verify_message or "").rstrip(".")
        reason = _REASONS.get(code, "the server's certificate was refused")
        hint = _trust_hint() if code in (18, 19, 20, 21) else ""
        return f"certificate verify failed: {reason}: {detail}{hint}" if detail else f"{reason}{hint}"
    if isinstance(exc, ssl.SSLError):
        why = exc.reason or str(exc)
        if why == "WRONG_VERSION_NUMBER":
            return "TLS handshake failed: the server does not speak TLS on this port (wrong version number)"
        return f"TLS handshake failed ({why})"
    return None


def _trust_hint() -> str:
    """What to set to trust a private CA: the bundle variable in force when there is one (it hides
    ``SSL_CERT_FILE``, as in requests: many systems set ``CURL_CA_BUNDLE`` or ``REQUESTS_CA_BUNDLE``)."""
    for name in BUNDLE_VARIABLES:
        path = os.environ.get(name, "")
        if path:
            return f" (the trusted CAs are {name}={path}: add this server's CA to it, or point it at one)"
    return " (set SSL_CERT_FILE or REQUESTS_CA_BUNDLE to trust it)"
