"""TLS for client connections: certificates and host names verified, always.

Twisted's ``optionsForClientTLS`` checks the server's certificate chain against the system's
trust store (or a CA given explicitly) and its host name with ``service_identity``. There is no
switch to turn verification off: a test server with a self-signed certificate is trusted by
passing its CA certificate, never by trusting everything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from twisted.internet import ssl

CaSource = Union[str, Path, bytes]
"""A CA certificate: a path to a PEM file, or the PEM bytes themselves."""


def client_tls(hostname: str, ca: Optional[CaSource] = None) -> Any:
    """Return TLS options that verify ``hostname``'s certificate.

    :param hostname: the name the certificate must be for.
    :param ca: a CA certificate (path or PEM bytes) to trust instead of the system's CAs.
    :raises ValueError: if ``ca`` is not a readable PEM certificate.
    """
    if ca is None:
        return ssl.optionsForClientTLS(hostname)
    pem = ca if isinstance(ca, bytes) else Path(ca).read_bytes()
    try:
        authority = ssl.Certificate.loadPEM(pem)
    except Exception as error:
        raise ValueError(f"ca_file is not a PEM certificate: {error}") from None
    return ssl.optionsForClientTLS(hostname, trustRoot=authority)
