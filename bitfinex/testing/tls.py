"""A throwaway certificate authority and server certificate, for serving ``wss://`` locally.

Clients verify the server against the CA certificate (:attr:`TestCertificates.ca_pem`, also
written to :attr:`TestCertificates.ca_path`), which no system trust store contains, so nothing
outside a test trusts it.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from OpenSSL import SSL
from twisted.internet.interfaces import IOpenSSLServerConnectionCreator
from zope.interface import implementer  # type: ignore[import-untyped]


@dataclass(frozen=True)
class TestCertificates:
    """A CA and a server certificate it signed, in PEM.

    :param ca_pem: the CA certificate (give it to the client as its trust anchor).
    :param ca_path: a file holding ``ca_pem``.
    :param certificate_pem: the server certificate, valid for ``localhost`` and ``127.0.0.1``.
    :param key_pem: the server's private key.
    """

    __test__ = False  # not a pytest test class

    ca_pem: bytes
    ca_path: Path
    certificate_pem: bytes
    key_pem: bytes

    def server_context_factory(self) -> Any:
        """A Twisted TLS connection creator serving the certificate (TLS 1.2 or later), for
        :class:`twisted.protocols.tls.TLSMemoryBIOFactory`."""
        return _ServerTLS(self.certificate_pem, self.key_pem)


@implementer(IOpenSSLServerConnectionCreator)
class _ServerTLS:
    """Creates the server side of each TLS connection (an ``IOpenSSLServerConnectionCreator``)."""

    def __init__(self, certificate_pem: bytes, key_pem: bytes) -> None:
        self._context = SSL.Context(SSL.TLS_SERVER_METHOD)
        self._context.set_min_proto_version(SSL.TLS1_2_VERSION)
        self._context.use_certificate(x509.load_pem_x509_certificate(certificate_pem))
        key = serialization.load_pem_private_key(key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self._context.use_privatekey(key)

    def serverConnectionForTLS(self, protocol: Any) -> Any:
        return SSL.Connection(self._context, None)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def generate_certificates(directory: Path | None = None) -> TestCertificates:
    """Make a fresh CA and a server certificate for ``localhost``/``127.0.0.1``/``::1``.

    :param directory: where to write ``ca.pem``; a new temporary directory by default (the
        caller removes it when done).
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("bitfinex-wss local exchange test CA")
    ca_certificate = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca_certificate.public_bytes(serialization.Encoding.PEM)
    folder = directory if directory is not None else Path(tempfile.mkdtemp(prefix="bitfinex-local-exchange-"))
    ca_path = folder / "ca.pem"
    ca_path.write_bytes(ca_pem)
    os.chmod(ca_path, 0o644)
    return TestCertificates(
        ca_pem=ca_pem,
        ca_path=ca_path,
        certificate_pem=server_certificate.public_bytes(serialization.Encoding.PEM),
        key_pem=server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
    )
