"""TLS verification fails closed: ``WssClient`` against a real TLS WebSocket server on 127.0.0.1.

Each test makes its own certificates (a CA the client trusts, another it does not), serves one
of them from an autobahn server wrapped in Twisted's TLS layer on a private reactor, and checks
that the client is refused with a TLS reason and that the server never got a single byte of
application data (no HTTP upgrade, no ``subscribe``), or, for a good certificate, that the
subscription goes through.

The first cases are the regression: a certificate for another host that also carries one
malformed name made ``service_identity`` raise while Twisted's verify callback read the names;
Twisted logged it and accepted the certificate.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from OpenSSL import SSL
from twisted.protocols.tls import TLSMemoryBIOFactory

from bitfinex import WssClient
from bitfinex.testing.tls import TestCertificates
from bitfinex.transport.reactor import ReactorThread, bind_timers
from bitfinex.transport.tls import client_tls, tls_failure, x509_error_text

from helpers import Inbox, is_event

WAIT = 5.0
REFUSED = "TLS: certificate verify failed: "

# -- certificates -------------------------------------------------------------------------------

NOW = datetime.datetime.now(datetime.timezone.utc)
HOUR = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Authority:
    """A CA: its name, key and certificate."""

    name: x509.Name
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_authority(common_name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - HOUR)
        .not_valid_after(NOW + 24 * HOUR)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(name, key, certificate)


def issue(
    authority: Authority,
    names: list[x509.GeneralName],
    common_name: str = "bitfinex-wss test server",
    not_before: datetime.datetime = NOW - HOUR,
    not_after: datetime.datetime = NOW + 24 * HOUR,
) -> tuple[bytes, bytes]:
    """A server certificate signed by ``authority`` with these subjectAltNames (none: no SAN
    extension at all); returns ``(certificate_pem, key_pem)``."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(authority.name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()), critical=False)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    certificate = builder.sign(authority.key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture(scope="module")
def trusted() -> Authority:
    """The CA the client is given (``ca_file=``)."""
    return make_authority("bitfinex-wss test CA")


@pytest.fixture(scope="module")
def stranger() -> Authority:
    """A CA the client does not trust."""
    return make_authority("bitfinex-wss stranger CA")


def dns(name: str) -> x509.GeneralName:
    return x509.DNSName(name)


def ip(address: str) -> x509.GeneralName:
    return x509.IPAddress(ipaddress.ip_address(address))


# -- the server -----------------------------------------------------------------------------------


class _RecordingServer(WebSocketServerProtocol):
    """Records everything that reaches the application layer; answers ``subscribe``."""

    def connectionMade(self) -> None:
        self.factory.seen("tcp")
        super().connectionMade()

    def dataReceived(self, data: bytes) -> None:
        self.factory.seen(("data", len(data)))
        super().dataReceived(data)

    def onConnect(self, request: Any) -> None:
        self.factory.seen(("upgrade", request.path))

    def onOpen(self) -> None:
        self.sendMessage(json.dumps({"event": "info", "version": 2, "serverId": "test", "platform": {"status": 1}}).encode())

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        message = json.loads(payload)
        self.factory.seen(("message", message))
        if isinstance(message, dict) and message.get("event") == "subscribe":
            answer = {"event": "subscribed", "channel": message["channel"], "chanId": 1, "symbol": message["symbol"],
                      "pair": message["symbol"][1:], "subId": message.get("subId")}
            self.sendMessage(json.dumps(answer).encode())

    def connectionLost(self, reason: Any = None) -> None:
        self.factory.seen("lost")
        super().connectionLost(reason)


class TLSServer:
    """What a running server saw (an :class:`Inbox` of ``"tcp"``, ``("data", n)``,
    ``("upgrade", path)``, ``("message", m)``, ``"lost"``) and its port."""

    def __init__(self, seen: Inbox, port: int) -> None:
        self.seen = seen
        self.port = port

    def application_traffic(self) -> list[Any]:
        """Everything past the TLS handshake that reached the server."""
        return [item for item in self.seen.items if item not in ("tcp", "lost")]


@pytest.fixture
def serve(no_leaks: None) -> Iterator[Callable[[bytes, bytes], TLSServer]]:
    """``serve(certificate_pem, key_pem)`` starts a TLS WebSocket server on 127.0.0.1 (on a private
    reactor); it is stopped at teardown."""
    started: list[tuple[ReactorThread, Any]] = []

    def start(certificate_pem: bytes, key_pem: bytes) -> TLSServer:
        thread = ReactorThread(name="test-tls-server")
        seen = Inbox("server")
        factory = WebSocketServerFactory(reactor=thread.reactor)
        bind_timers(factory, thread.reactor)
        factory.protocol = _RecordingServer
        factory.seen = seen
        creator = TestCertificates(b"", Path("unused"), certificate_pem, key_pem).server_context_factory()
        port = thread.reactor.listenTCP(0, TLSMemoryBIOFactory(creator, False, factory, clock=thread.reactor),
                                        interface="127.0.0.1")
        started.append((thread, port))
        thread.start()
        return TLSServer(seen, port.getHost().port)

    try:
        yield start
    finally:
        for thread, port in started:
            try:
                thread.run_sync(port.stopListening)
            finally:
                thread.stop()


@pytest.fixture
def connect(trusted: Authority) -> Iterator[Callable[..., tuple[Inbox, Inbox]]]:
    """``connect(url)`` starts a ``WssClient`` trusting only the test CA, subscribed to a ticker,
    giving up after the first failure; returns ``(statuses, ticks)``. Stopped at teardown."""
    clients: list[WssClient] = []

    def start(url: str, ca: Optional[bytes] = None) -> tuple[Inbox, Inbox]:
        statuses, ticks = Inbox("statuses"), Inbox("ticks")
        client = WssClient(url=url, ca_file=ca if ca is not None else trusted.pem, status_callback=statuses,
                           reconnect_base=0.05, reconnect_cap=0.05)
        clients.append(client)
        client.subscribe_to_ticker("BTCUSD", ticks)
        client.start()
        return statuses, ticks

    try:
        yield start
    finally:
        for client in clients:
            client.stop()


def assert_refused(server: TLSServer, statuses: Inbox, ticks: Inbox) -> str:
    """The client gave up after a TLS refusal and nothing but the handshake reached the server;
    returns the reason the client reported."""
    event = statuses.wait_for(lambda e: e.kind in ("disconnected", "connected"), timeout=WAIT)
    assert event.kind == "disconnected", f"the client connected: {event}"
    assert event.reason.startswith("TLS: "), event.reason
    gave_up = statuses.wait_kind("gave_up", timeout=WAIT)  # a refused certificate is not retried
    assert "not retried" in gave_up.reason and not statuses.matching(lambda e: e.kind == "reconnecting")
    server.seen.wait_for(lambda item: item == "lost", timeout=WAIT)  # the server is done with it
    assert server.application_traffic() == []
    assert [e for e in statuses.items if e.kind == "connected"] == []
    assert ticks.items == []
    return str(event.reason)


# -- refused ----------------------------------------------------------------------------------------


MALFORMED = {
    "dns-ipv4-10.0.0.1": dns("10.0.0.1"),
    "dns-ipv4-127.0.0.1": dns("127.0.0.1"),
    "dns-double-wildcard": dns("*.*.example"),
    "uri-not-a-uri": x509.UniformResourceIdentifier("not-a-uri"),
}


@pytest.mark.parametrize("extra", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_certificate_for_another_host_with_a_malformed_name_is_refused(serve, connect, trusted, extra):
    server = serve(*issue(trusted, [dns("wrong.example"), extra]))
    statuses, ticks = connect(f"wss://localhost:{server.port}")
    reason = assert_refused(server, statuses, ticks)
    assert reason.startswith(REFUSED + "certificate is not valid for 'localhost'"), reason
    assert "wrong.example" in reason


def test_a_certificate_for_another_host_is_refused(serve, connect, trusted):
    server = serve(*issue(trusted, [dns("wrong.example")]))
    statuses, ticks = connect(f"wss://localhost:{server.port}")
    reason = assert_refused(server, statuses, ticks)
    assert reason == REFUSED + "certificate is not valid for 'localhost' (names: wrong.example)"


@pytest.mark.parametrize(("host", "common_name"), [("127.0.0.1", "127.0.0.1"), ("localhost", "wrong.example")],
                         ids=["ip-only-in-cn", "no-san-cn-of-another-host"])
def test_a_certificate_without_subject_alt_names_is_refused(serve, connect, trusted, host, common_name):
    server = serve(*issue(trusted, [], common_name=common_name))
    statuses, ticks = connect(f"wss://{host}:{server.port}")
    reason = assert_refused(server, statuses, ticks)
    assert reason == (f"{REFUSED}certificate is not valid for {host!r}: Certificate does not contain any `subjectAltName`s"
                      f" (names: no subjectAltName, CN={common_name})")


def test_an_expired_certificate_is_refused(serve, connect, trusted):
    server = serve(*issue(trusted, [dns("localhost")], not_before=NOW - 48 * HOUR, not_after=NOW - HOUR))
    statuses, ticks = connect(f"wss://localhost:{server.port}")
    assert assert_refused(server, statuses, ticks) == REFUSED + "certificate has expired"


def test_a_certificate_from_another_ca_is_refused(serve, connect, stranger):
    server = serve(*issue(stranger, [dns("localhost"), ip("127.0.0.1")]))
    statuses, ticks = connect(f"wss://localhost:{server.port}")
    assert assert_refused(server, statuses, ticks) == REFUSED + "unable to get local issuer certificate"


# -- accepted ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "names"), [("localhost", [dns("localhost")]), ("127.0.0.1", [ip("127.0.0.1")])],
                         ids=["dns-localhost", "ip-127.0.0.1"])
def test_a_good_certificate_connects_and_the_subscription_goes_through(serve, connect, trusted, host, names):
    server = serve(*issue(trusted, names))
    statuses, ticks = connect(f"wss://{host}:{server.port}")
    subscribed = ticks.wait_for(is_event("subscribed", channel="ticker"), timeout=WAIT)
    assert subscribed["symbol"] == "tBTCUSD" and subscribed["chanId"] == 1
    assert statuses.wait_kind("connected", timeout=WAIT).data == f"wss://{host}:{server.port}"
    upgrade = server.seen.wait_for(lambda item: item[0] == "upgrade", timeout=WAIT)
    assert upgrade == ("upgrade", "/")
    request = server.seen.wait_for(lambda item: item[0] == "message", timeout=WAIT)[1]
    assert request["event"] == "subscribe" and request["symbol"] == "tBTCUSD"
    assert [e for e in statuses.items if e.kind == "disconnected"] == []


# -- the connection creator ---------------------------------------------------------------------


class _Protocol:
    """Stands in for the ``TLSMemoryBIOProtocol`` a connection is made for."""


@pytest.mark.parametrize(("host", "server_name"), [("localhost", b"localhost"), ("bücher.example", b"xn--bcher-kva.example"),
                                                   ("127.0.0.1", None), ("::1", None)])
def test_sni_is_sent_for_dns_names_only_and_the_peer_is_always_verified(trusted, host, server_name):
    connection = client_tls(host, trusted.pem).clientConnectionForTLS(_Protocol())
    assert connection.get_servername() == server_name
    assert connection.get_verify_mode() == SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT


def test_a_bad_ca_is_a_value_error_and_an_unknown_x509_error_has_a_number(trusted):
    with pytest.raises(ValueError, match="ca_file"):
        client_tls("localhost", b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    assert client_tls("localhost", trusted.pem + make_authority("second CA").pem) is not None  # a bundle
    assert x509_error_text(10) == "certificate has expired"
    assert x509_error_text(12345) == "X509 error 12345"
    assert tls_failure(_Protocol(), SSL.Error([("SSL routines", "", "tlsv1 alert protocol version")])) == (
        "TLS: tlsv1 alert protocol version")
    assert tls_failure(_Protocol(), ConnectionError("refused")) is None
