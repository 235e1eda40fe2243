"""TLS for client connections: certificates and host names verified, always, failing closed.

OpenSSL checks the server's certificate chain against the system's trust store (or a CA given
explicitly); the host name is checked by us, with ``service_identity``, inside the handshake,
in the verify callback at depth 0 (the server's own certificate). Anything short of a clean
match refuses the handshake: a chain OpenSSL rejects, a name that does not match, a certificate
``service_identity`` cannot read (a malformed name entry, no ``subjectAltName`` at all), or any
error at all while checking. Twisted's TLS layer holds back what the client writes until the
handshake has completed, so a refused server never sees the WebSocket request.

Twisted's ``optionsForClientTLS`` is not used: its verify callback catches and logs any error
other than a mismatch while reading the certificate's names, then accepts the certificate the
chain check accepted, so a certificate for another host carrying one malformed name entry (or
no ``subjectAltName``) passed. There is no switch to turn verification off: a test server with a self-signed
certificate is trusted by passing its CA certificate, never by trusting everything.

Each refusal records a reason (:func:`tls_failure` reads it back for the connection's transport),
so a refused connection reports ``TLS: certificate verify failed: ...`` rather than a dropped TCP
connection.
"""

from __future__ import annotations

import contextlib
import ipaddress
import weakref
from pathlib import Path
from typing import Any, Optional, Union, cast

from cryptography import x509
from cryptography.x509.oid import NameOID
from OpenSSL import SSL, crypto
from service_identity.cryptography import verify_certificate_hostname, verify_certificate_ip_address
from service_identity.exceptions import CertificateError, VerificationError
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from zope.interface import implementer  # type: ignore[import-untyped]

CaSource = Union[str, Path, bytes]
"""A CA certificate: a path to a PEM file, or the PEM bytes themselves (several certificates in
one PEM are all trusted)."""

REFUSED = "TLS: certificate verify failed"
"""How every reason for refusing the server's certificate starts."""

X509_ERRORS: dict[int, str] = {
    2: "unable to get issuer certificate",
    4: "unable to decrypt certificate's signature",
    6: "unable to decode issuer public key",
    7: "certificate signature failure",
    9: "certificate is not yet valid",
    10: "certificate has expired",
    13: "format error in certificate's notBefore field",
    14: "format error in certificate's notAfter field",
    18: "self-signed certificate",
    19: "self-signed certificate in certificate chain",
    20: "unable to get local issuer certificate",
    21: "unable to verify the first certificate",
    22: "certificate chain too long",
    23: "certificate revoked",
    24: "issuer certificate doesn't have a public key",
    25: "path length constraint exceeded",
    26: "unsuitable certificate purpose",
    27: "certificate not trusted",
    28: "certificate rejected",
    29: "subject issuer mismatch",
    32: "key usage does not include certificate signing",
    62: "hostname mismatch",
    64: "IP address mismatch",
    66: "EE certificate key too weak",
    67: "CA certificate key too weak",
    68: "CA signature digest algorithm too weak",
    79: "invalid CA certificate",
}
"""OpenSSL's texts for the X509 verify errors a server's chain commonly fails with, by number
(``X509_V_ERR_*``); :func:`x509_error_text` names any other ``X509 error N``."""

_MAX_NAMES = 8
_MAX_TEXT = 120


def x509_error_text(error: int) -> str:
    """Return OpenSSL's text for X509 verify error ``error`` (``"X509 error N"`` if unknown)."""
    return X509_ERRORS.get(error, f"X509 error {error}")


def client_tls(hostname: str, ca: Optional[CaSource] = None) -> IOpenSSLClientConnectionCreator:
    """Return a TLS connection creator that verifies ``hostname``'s certificate, failing closed.

    The result is what :class:`twisted.protocols.tls.TLSMemoryBIOFactory` takes as its
    ``contextFactory`` (an ``IOpenSSLClientConnectionCreator``).

    :param hostname: the DNS name or IP address the certificate must be for.
    :param ca: a CA certificate (path or PEM bytes) to trust instead of the system's CAs.
    :raises ValueError: if ``ca`` is not a readable PEM certificate.
    """
    return cast(IOpenSSLClientConnectionCreator, VerifiedClientTLS(hostname, ca))


def tls_failure(transport: object, error: object = None) -> Optional[str]:
    """Return why TLS failed on a connection, or ``None`` if it did not (as far as is known).

    The reason :class:`VerifiedClientTLS` recorded when it refused the server's certificate
    comes first; else ``error`` (what the connection was lost with: a Twisted ``Failure`` or an
    exception), if it is an :class:`OpenSSL.SSL.Error`, is described.

    :param transport: the TLS transport (a ``TLSMemoryBIOProtocol``) the connection ran over.
    :param error: the reason the connection was lost.
    """
    try:
        check = _checks.get(transport)
    except TypeError:  # not weak-referenceable (or not hashable): not one of ours
        check = None
    if check is not None and check.refusal is not None:
        return check.refusal
    value = getattr(error, "value", error)
    if isinstance(value, SSL.Error):
        return f"TLS: {_ssl_error_text(value)}"
    return None


@implementer(IOpenSSLClientConnectionCreator)
class VerifiedClientTLS:
    """Creates the client side of each TLS connection to one host, verified or refused.

    The OpenSSL context (TLS 1.2 or later, no compression, no session resumption, the trust
    anchors) is made once; each connection gets SNI (for a DNS name, not an IP address) and its
    own verify callback that checks the chain result and, at depth 0, the host name.

    :param hostname: the DNS name or IP address the certificate must be for.
    :param ca: a CA certificate (path or PEM bytes) to trust instead of the system's CAs.
    :raises ValueError: if ``ca`` is not a readable PEM certificate.
    """

    def __init__(self, hostname: str, ca: Optional[CaSource] = None) -> None:
        self._hostname = hostname
        self._is_ip = _is_ip_address(hostname)
        self._server_name = None if self._is_ip else _idna(hostname)
        # service_identity is given the ASCII (IDNA) form, as Twisted does; a name that has no
        # IDNA form stays as it is, and fails verification.
        self._check_name = self._server_name.decode("ascii") if self._server_name is not None else hostname
        context = SSL.Context(SSL.TLS_CLIENT_METHOD)
        context.set_min_proto_version(SSL.TLS1_2_VERSION)
        context.set_options(SSL.OP_NO_COMPRESSION | SSL.OP_NO_TICKET)
        context.set_session_cache_mode(SSL.SESS_CACHE_OFF)
        # Every connection sets its own callback (clientConnectionForTLS); one that somehow did
        # not would still refuse every certificate.
        context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, _refuse_unchecked)
        if ca is None:
            context.set_default_verify_paths()  # the system's trust store, as Twisted's platformTrust()
        else:
            store = context.get_cert_store()
            assert store is not None
            for authority in _load_authorities(ca):
                store.add_cert(crypto.X509.from_cryptography(authority))
        self._context = context

    def __repr__(self) -> str:
        return f"<VerifiedClientTLS {self._hostname!r}>"

    @property
    def hostname(self) -> str:
        """The DNS name or IP address certificates are verified for."""
        return self._hostname

    def clientConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:
        """Make the OpenSSL connection for one TLS client connection (Twisted calls this).

        :param tlsProtocol: the ``TLSMemoryBIOProtocol`` the connection is for; what it refuses
            is recorded against it, for :func:`tls_failure`.
        """
        connection = SSL.Connection(self._context, None)
        if self._server_name is not None:
            connection.set_tlsext_host_name(self._server_name)
        check = _HostCheck(self._check_name, self._is_ip)
        connection.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, check.verify)
        with contextlib.suppress(TypeError):  # a protocol that cannot be weakly referenced: still verified
            _checks[tlsProtocol] = check
        return connection


class _HostCheck:
    """The verify callback of one connection, and the reason it refused, if it did.

    It holds no reference to the connection or its protocol (it is the value of a weak-keyed
    registry keyed by the protocol).
    """

    def __init__(self, hostname: str, is_ip: bool) -> None:
        self.hostname = hostname
        self.is_ip = is_ip
        self.refusal: Optional[str] = None
        """Why the server's certificate was refused (``None``: it was not)."""

    def verify(self, connection: SSL.Connection, certificate: crypto.X509, error: int, depth: int, ok: int) -> bool:
        """OpenSSL's verify callback: True only for a good chain whose leaf is for the host.

        Called for each certificate of the chain, the server's own last (depth 0). Returns
        False (refuse the handshake) if OpenSSL found the chain bad, and at depth 0 unless
        ``service_identity`` confirms the host name; any exception refuses too.
        """
        try:
            if not ok:
                self._refuse(x509_error_text(error))
                return False
            if depth != 0:
                return True
            leaf = certificate.to_cryptography()
            problem = self._name_problem(leaf)
            if problem is None:
                return True
            self._refuse(problem)
            return False
        except BaseException as failure:  # never let an error accept, nor escape into OpenSSL
            self._refuse(f"certificate could not be checked ({type(failure).__name__})")
            return False

    def _name_problem(self, leaf: x509.Certificate) -> Optional[str]:
        """Check the host name; return why the certificate is not for it (``None``: it is)."""
        try:
            if self.is_ip:
                verify_certificate_ip_address(leaf, self.hostname)
            else:
                verify_certificate_hostname(leaf, self.hostname)
        except VerificationError:
            detail = ""
        except CertificateError as failure:  # malformed or missing names
            detail = f": {_clean(str(failure)).rstrip('.')}"
        except Exception as failure:
            detail = f": could not check its names ({type(failure).__name__})"
        else:
            return None
        return f"certificate is not valid for {self.hostname!r}{detail} (names: {_names(leaf)})"

    def _refuse(self, reason: str) -> None:
        if self.refusal is None:
            self.refusal = f"{REFUSED}: {reason}"


_checks: weakref.WeakKeyDictionary[Any, _HostCheck] = weakref.WeakKeyDictionary()
"""Each TLS connection's check, by its ``TLSMemoryBIOProtocol`` (gone with the protocol)."""


def _refuse_unchecked(connection: SSL.Connection, certificate: crypto.X509, error: int, depth: int, ok: int) -> bool:
    """The context's verify callback, overridden on every connection: refuses everything."""
    return False


def _load_authorities(ca: CaSource) -> list[x509.Certificate]:
    pem = ca if isinstance(ca, bytes) else Path(ca).read_bytes()
    try:
        return x509.load_pem_x509_certificates(pem)
    except Exception as error:
        raise ValueError(f"ca_file is not a PEM certificate: {error}") from None


def _is_ip_address(hostname: str) -> bool:
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def _idna(hostname: str) -> Optional[bytes]:
    """The name as SNI and ``service_identity`` want it (IDNA ASCII), or ``None`` if it has none."""
    if hostname.isascii():
        return hostname.encode("ascii")
    try:
        import idna  # optional: the IDNA 2008 rules browsers use

        return bytes(idna.encode(hostname, uts46=True))
    except ImportError:
        pass
    except Exception:
        return None
    try:
        return hostname.encode("idna")
    except UnicodeError:
        return None


def _clean(text: str) -> str:
    """Certificate text made safe to show: printable characters only, and not too long."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _names(leaf: x509.Certificate) -> str:
    """The names a certificate carries, for a refusal message (public data only)."""
    try:
        try:
            alternatives = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            common = [str(a.value) for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
            return "no subjectAltName" + "".join(f", CN={_clean(name)}" for name in common)
        names: list[str] = []
        for name in alternatives:
            if isinstance(name, (x509.DNSName, x509.IPAddress)):
                names.append(_clean(str(name.value)))
            elif isinstance(name, x509.UniformResourceIdentifier):
                names.append(f"URI:{_clean(name.value)}")
            else:
                names.append(type(name).__name__)
    except Exception:
        return "unreadable"
    if not names:
        return "none"
    shown = ", ".join(names[:_MAX_NAMES])
    return shown if len(names) <= _MAX_NAMES else f"{shown}, … ({len(names) - _MAX_NAMES} more)"


def _ssl_error_text(error: SSL.Error) -> str:
    """The reasons in an OpenSSL error (``[(library, function, reason), ...]``), or its text."""
    reasons: list[str] = []
    entries = error.args[0] if error.args else None
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, tuple) and len(entry) == 3 and entry[2]:
                reasons.append(str(entry[2]))
    if reasons:
        return "; ".join(dict.fromkeys(reasons))
    return _clean(str(error)) or type(error).__name__
