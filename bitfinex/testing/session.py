"""One client connection, without I/O: what a Bitfinex server says to what a client sends.

An :class:`ExchangeSession` reads decoded-to-be frames (:meth:`ExchangeSession.receive`, the
guard all sessions share: :class:`~bitfinex.testing.requests.RequestSession`) and writes encoded
frames through the ``send`` callable it was given. It keeps everything that is per connection:
conf flags, channel ids, sequence numbers, the authenticated account and its filter, the
``calc`` rate limit. The server shell (:mod:`bitfinex.testing.server`) only moves bytes and
runs timers.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Optional

from bitfinex.protocol.codec import Decoder, dumps_js
from bitfinex.protocol.constants import (
    CALCS_PER_SECOND,
    MAX_CALCS_PER_MESSAGE,
    MAX_CHANNELS_PER_CONNECTION,
    MAX_SAFE_INTEGER,
    ORDER_INPUTS,
    PROTOCOL_VERSION,
    ConfFlag,
)
from bitfinex.protocol.jsnum import js_number_text
from bitfinex.protocol.signing import verify
from bitfinex.testing.accounts import Account, AccountMessage, Topic
from bitfinex.testing.channels import (
    BookUpdate,
    ChannelSpec,
    SubscriptionError,
    TradeUpdate,
    Update,
    parse_subscription,
)
from bitfinex.testing.faults import FaultState
from bitfinex.testing.requests import ECHO_DEPTH, EventHandler, RequestSession, echoable, nests_deeper
from bitfinex.testing.venue import Venue

log = logging.getLogger("bitfinex.testing.session")

_SIGNATURE = re.compile(r"[0-9a-fA-F]{96}")
_NONCE = re.compile(r"[0-9]{1,16}\Z")
"""A nonce as Bitfinex takes it: an integer, written in digits (docs ws-auth: an ever
increasing integer, at most 9007199254740991, sixteen digits)."""

SUPPORTED_FLAGS = int(ConfFlag.DEC_S | ConfFlag.TIMESTAMP | ConfFlag.SEQ_ALL | ConfFlag.OB_CHECKSUM | ConfFlag.BULK_UPDATES)
"""The ``conf`` flags the exchange applies. TIME_S (32) is documented ("timestamps as date
strings", docs ws-general, bfx-api-node-core ``config.js``) but no source shows the format, so
it is refused with 10050 rather than invented; bits no flag has are refused too."""

KNOWN_FLAGS = sum(int(flag) for flag in ConfFlag)
"""Every bit a documented ``conf`` flag has."""

PAYLOAD_OBJECTS = (*ORDER_INPUTS, "fon", "foc")
"""Inputs whose PAYLOAD must be an object (else 10020 ``OP: payload must be an object``)."""


def decimal_strings(frame: Any) -> Any:
    """Return a copy of ``frame`` with every float (the frames' decimals: prices, amounts,
    rates, balances, all made by :func:`bitfinex.testing.numbers.wire`) replaced by its JSON
    text as a string (``7255.0`` → ``"7255"``, ``2e-08`` → ``"2e-8"``): what the DEC_S flag asks
    for. Integers (ids, timestamps, counts, periods, flags, sequence numbers) stay numbers.
    Iterative: frames are built by the exchange, but nothing here recurses."""
    if not isinstance(frame, list):
        return js_number_text(frame) if type(frame) is float else frame
    root: list[Any] = []
    pending: list[tuple[list[Any], list[Any]]] = [(frame, root)]
    while pending:
        source, target = pending.pop()
        for item in source:
            if type(item) is float:
                target.append(js_number_text(item))
            elif isinstance(item, list):
                copy: list[Any] = []
                target.append(copy)
                pending.append((item, copy))
            elif isinstance(item, dict):
                target.append({k: decimal_strings(v) for k, v in item.items()})
            else:
                target.append(item)
    return root

AUTH_CAPS = {
    "orders": {"read": 1, "write": 1},
    "account": {"read": 1, "write": 0},
    "funding": {"read": 1, "write": 1},
    "history": {"read": 1, "write": 0},
    "wallets": {"read": 1, "write": 1},
    "withdraw": {"read": 0, "write": 0},
    "positions": {"read": 1, "write": 1},
}
"""The ``caps`` an ``auth`` OK reports (every key is fully permitted except withdrawals)."""


@dataclass(frozen=True)
class SessionLimits:
    """Per-connection limits.

    :param max_subscriptions: channels one connection may hold; the next subscribe fails with
        10305 (Bitfinex: 25).
    :param calcs_per_second: ``calc`` messages accepted per second (Bitfinex: 8).
    """

    max_subscriptions: int = MAX_CHANNELS_PER_CONNECTION
    calcs_per_second: int = CALCS_PER_SECOND


class ExchangeSession(RequestSession):
    """The server side of one connection.

    :param venue: the exchange core.
    :param send: writes one text frame (UTF-8 JSON bytes) to the client.
    :param faults: the exchange's fault switches (checksum corruption, auth refusal).
    :param limits: per-connection limits.
    :param monotonic: seconds on a monotonic clock, for heartbeats and the calc rate limit.
    :param decoder: reads the client's frames; by default the installed decoder
        (:data:`bitfinex.testing.requests.loads`).
    """

    _log = log

    def __init__(
        self,
        venue: Venue,
        send: Callable[[bytes], None],
        faults: FaultState,
        limits: SessionLimits,
        monotonic: Callable[[], float],
        decoder: Optional[Decoder] = None,
    ) -> None:
        self._decoder = decoder
        self._venue = venue
        self._send = send
        self._faults = faults
        self._limits = limits
        self._monotonic = monotonic
        self.flags = 0
        self.channels: dict[int, ChannelSpec] = {}
        self._chan_ids = itertools.count(venue.draw_channel_base())
        self._public_seq = 0
        self._auth_seq = 0
        self.account: Optional[Account] = None
        self._filters: Optional[frozenset[str]] = None
        self._dead_man_switch = False
        self._calc_times: deque[float] = deque()
        self._last_sent: dict[int, float] = {}
        self._opened = monotonic()
        self.closed = False
        self._events: dict[str, EventHandler] = {
            "conf": self._on_conf,
            "subscribe": self._on_subscribe,
            "unsubscribe": self._on_unsubscribe,
            "ping": self._on_ping,
            "auth": self._on_auth,
            "unauth": self._on_unauth,
        }
        desk = venue.desk
        self._inputs: dict[str, Callable[[Account, Any], None]] = {
            "on": desk.submit,
            "oc": desk.cancel,
            "oc_multi": desk.cancel_multi,
            "ou": desk.update,
            "ox_multi": desk.multi,
            "calc": self._calc,
            "fon": venue.funding.submit,
            "foc": venue.funding.cancel,
        }

    # -- frames out -------------------------------------------------------------------------

    def _write(self, frame: Any, chan_id: Optional[int] = None) -> None:
        if chan_id is not None:
            self._last_sent[chan_id] = self._monotonic()
        self._send(dumps_js(frame))

    def send_event(self, event: dict[str, Any]) -> None:
        """Send a control event (``info``, ``error``...) as is."""
        self._write(event)

    def _send_public(self, chan_id: int, *items: Any) -> None:
        frame = [chan_id, *items]
        if self.flags & ConfFlag.DEC_S:
            frame = decimal_strings(frame)
        if self.flags & ConfFlag.SEQ_ALL:
            self._public_seq += 1
            frame.append(self._public_seq)
        if self.flags & ConfFlag.TIMESTAMP:
            frame.append(self._venue.now())
        self._write(frame, chan_id)

    def _send_account(self, kind: str, data: Any) -> None:
        frame: list[Any] = [0, kind, decimal_strings(data) if self.flags & ConfFlag.DEC_S else data]
        if self.flags & ConfFlag.SEQ_ALL:
            request = kind == "n" and isinstance(data, list) and str(data[1]).endswith("-req")
            if kind != "n":
                self._auth_seq += 1
            if request:
                frame.append(self._auth_seq)
            else:
                self._public_seq += 1
                frame.extend((self._public_seq, self._auth_seq))
        if self.flags & ConfFlag.TIMESTAMP:  # "appended to every array" (Bitfinex API update, April 2018)
            frame.append(self._venue.now())
        self._write(frame, 0)

    def deliver_public(self, chan_id: int, update: Update) -> None:
        """Send a channel update, shaped by this connection's conf flags."""
        if isinstance(update, BookUpdate):
            if self.flags & ConfFlag.BULK_UPDATES:
                self._send_public(chan_id, update.entries)
            else:
                for entry in update.entries:
                    self._send_public(chan_id, entry)
            if self.flags & ConfFlag.OB_CHECKSUM:
                self._send_checksum(chan_id, update.checksum())
        elif isinstance(update, TradeUpdate):
            self._send_public(chan_id, update.kind, update.trade)
        else:
            self._send_public(chan_id, update.payload)

    def _send_checksum(self, chan_id: int, checksum: int) -> None:
        if self._faults.take_checksum_corruption():
            checksum = checksum - 1 if checksum > -(1 << 31) else (1 << 31) - 1  # still an int32
        self._send_public(chan_id, "cs", checksum)

    def deliver_account(self, message: AccountMessage) -> None:
        """Send an account message if this connection's auth filter lets it through."""
        if self._allowed(message.topic):
            self._send_account(message.kind, message.data)

    def _allowed(self, topic: Topic) -> bool:
        filters = self._filters
        if filters is None or topic[0] in filters:
            return True
        if topic[0] == "wallet":
            return f"wallet-{topic[1]}-{topic[2]}" in filters
        return topic[0] in ("trading", "funding") and f"{topic[0]}-{topic[1]}" in filters

    def heartbeat(self, interval: float) -> None:
        """Send ``[CHAN_ID, "hb"]`` on every channel (and channel 0 once authenticated) silent
        for ``interval`` seconds or more."""
        now = self._monotonic()
        channels = [0, *self.channels] if self.account is not None else list(self.channels)
        for chan_id in channels:
            if now - self._last_sent.get(chan_id, self._opened) >= interval:
                self._send_public(chan_id, "hb")

    # -- frames in --------------------------------------------------------------------------

    def open(self) -> None:
        """Greet the client with the ``info`` event, as Bitfinex does on connect."""
        self.send_event(
            {"event": "info", "version": PROTOCOL_VERSION, "serverId": self._venue.server_id, "platform": {"status": 1}}
        )

    def after_receive(self) -> None:
        """Send what the frame made the venue queue (fills, other accounts' updates)."""
        self._venue.flush()

    def _on_conf(self, message: dict[str, Any]) -> None:
        flags = message.get("flags")
        if isinstance(flags, bool) or not isinstance(flags, int) or not 0 <= flags < (1 << 31):
            self._refuse("CONF_INVALID", flags=flags)
            return
        refused = flags & ~SUPPORTED_FLAGS
        if refused:
            names = [f"{flag.name} ({int(flag)})" for flag in ConfFlag if flag & refused]
            unknown = refused & ~KNOWN_FLAGS
            if unknown:
                names.append(f"unknown bits ({unknown})")
            self._refuse("CONF_UNSUPPORTED", flags=flags, names=", ".join(names))
            return
        self.flags = flags
        self.send_event({"event": "conf", "status": "OK", "flags": flags})

    def _refuse_subscription(self, error: str, message: dict[str, Any]) -> None:
        symbol = None
        if message.get("channel") in ("ticker", "trades", "book"):
            named = message.get("symbol") or message.get("pair")
            symbol = named if isinstance(named, str) else None
        if symbol is None:
            self._refuse(error, message)
        else:
            self._refuse(error, message, symbol=symbol)

    def _on_subscribe(self, message: dict[str, Any]) -> None:
        try:
            spec, echo = parse_subscription(message, self._venue.instruments)
        except SubscriptionError as refusal:
            self._refuse_subscription(refusal.error, message)
            return
        if spec in self.channels.values():
            self._refuse_subscription("SUBSCRIBE_DUP", message)
            return
        if len(self.channels) >= self._limits.max_subscriptions:
            self._refuse_subscription("SUBSCRIBE_LIMIT", message)
            return
        chan_id = next(self._chan_ids)
        snapshot = self._venue.subscribe(spec, self, chan_id)
        self.channels[chan_id] = spec
        event: dict[str, Any] = {"event": "subscribed", "channel": spec.channel, "chanId": chan_id, **echo}
        if "subId" in message:
            event["subId"] = echoable(message["subId"])
        self.send_event(event)
        if snapshot is not None:  # liq:global has none
            self._send_public(chan_id, snapshot)
        if spec.channel == "book" and self.flags & ConfFlag.OB_CHECKSUM:
            self._send_checksum(chan_id, self._venue.book_checksum(spec))

    def _on_unsubscribe(self, message: dict[str, Any]) -> None:
        chan_id = message.get("chanId")
        spec = self.channels.pop(chan_id, None) if isinstance(chan_id, int) and not isinstance(chan_id, bool) else None
        if spec is None or not isinstance(chan_id, int):  # live: 10400 for a chanId the socket does not hold
            self._refuse("UNSUBSCRIBE_INVALID", message)
            return
        self._venue.unsubscribe(spec, self, chan_id)
        self._last_sent.pop(chan_id, None)
        self.send_event({"event": "unsubscribed", "status": "OK", "chanId": chan_id})

    def _on_ping(self, message: dict[str, Any]) -> None:
        pong: dict[str, Any] = {"event": "pong", "ts": self._venue.now()}
        if "cid" in message:
            pong["cid"] = echoable(message["cid"])
        self.send_event(pong)

    def _on_auth(self, message: dict[str, Any]) -> None:
        if self.account is not None:  # live: an error event, not an auth FAILED (node issue 329)
            self._refuse("AUTH_DUP")
            return
        refusal = self._faults.take_auth_refusal()
        if refusal is not None:
            code, msg = refusal
            self.send_event({"event": "auth", "status": "FAILED", "chanId": 0, "code": int(code), "msg": msg})
            return
        key = message.get("apiKey")
        account = self._venue.accounts.get(key) if isinstance(key, str) else None
        if account is None:
            self._refuse("AUTH_APIKEY")
            return
        payload, nonce_field, signature = message.get("authPayload"), message.get("authNonce"), message.get("authSig")
        if nonce_field is None and isinstance(payload, str):
            nonce_field = payload[4:]
        nonce_text: Optional[str] = None  # only a string or a JSON integer can be a nonce
        if isinstance(nonce_field, str):
            nonce_text = nonce_field
        elif type(nonce_field) is int:
            nonce_text = str(nonce_field)
        elif type(nonce_field) is float and nonce_field == nonce_field and abs(nonce_field) < 1e300:
            nonce_text = js_number_text(nonce_field)  # as the client's JSON wrote it (1.5, 100000)
        if nonce_text is None or not isinstance(payload, str) or payload != f"AUTH{nonce_text}":
            self._refuse("AUTH_PAYLOAD")
            return
        if not isinstance(signature, str) or not _SIGNATURE.fullmatch(signature):
            self._refuse("AUTH_SIGNATURE")
            return
        if not verify(account.secret, payload, signature.lower()):
            self._refuse("AUTH_DIGEST")
            return
        nonce = int(nonce_text) if type(nonce_field) is not float and _NONCE.match(nonce_text) else 0
        if not 0 < nonce <= MAX_SAFE_INTEGER:
            self._refuse("AUTH_NONCE_INVALID")
            return
        if nonce <= account.last_nonce:
            self._refuse("AUTH_NONCE_SMALL")
            return
        account.last_nonce = Decimal(nonce)
        self._start_account_session(account, message)

    def _start_account_session(self, account: Account, message: dict[str, Any]) -> None:
        filters = message.get("filter")
        self._filters = frozenset(f for f in filters if isinstance(f, str)) if isinstance(filters, list) and filters else None
        self._dead_man_switch = message.get("dms") == 4
        self.account = account
        self._venue.attach(account, self)
        self.send_event(
            {
                "event": "auth",
                "status": "OK",
                "chanId": 0,
                "userId": account.user_id,
                "auth_id": self._venue.new_uuid(),
                "caps": AUTH_CAPS,
            }
        )
        figures = self._venue.desk.figures
        if self._wants("trading"):
            positions = [p for p in account.positions.values() if self._allowed(("trading", p.symbol))]
            self._send_account("ps", [figures.position_array(p) for p in positions])
        if self._wants("wallet"):
            wallets = [figures.wallet_message(account, w.wallet_type, w.currency) for w in account.wallets.values()]
            self._send_account("ws", [w.data for w in wallets if self._allowed(w.topic)])
        if self._wants("trading"):
            orders = [o for o in account.orders.values() if self._allowed(("trading", o.symbol))]
            self._send_account("os", [order.wire() for order in orders])
        if self._wants("funding"):
            funding = account.funding
            for kind, items in (("fos", funding.offers), ("fcs", funding.credits), ("fls", funding.loans)):
                self._send_account(kind, [item.wire() for item in items.values() if self._allowed(("funding", item.symbol))])
        self.deliver_account(figures.balance_message(account))

    def _wants(self, topic: str) -> bool:
        """Whether the auth filter lets through any message of ``topic`` (e.g. ``wallet``)."""
        filters = self._filters
        return filters is None or any(f == topic or f.startswith(topic + "-") for f in filters)

    def _on_unauth(self, message: dict[str, Any]) -> None:
        if self.account is None:
            self._refuse("UNAUTH_FAILED")
            return
        self._venue.detach(self.account, self)
        self.account = None
        self._last_sent.pop(0, None)
        self.send_event({"event": "unauth", "status": "OK", "chanId": 0})

    def on_input(self, message: list[Any]) -> None:
        """Handle an input (``[0, OP, null, PAYLOAD]``) of the authenticated account."""
        shaped = len(message) >= 2 and type(message[0]) is int and message[0] == 0 and isinstance(message[1], str)
        if not shaped:
            self._refuse("INPUT_INVALID")
            return
        if self.account is None:  # live: "auth: invalid" 10100 (node issue 77)
            self._refuse("AUTH_REQUIRED")
            return
        if nests_deeper(message, ECHO_DEPTH):  # no input nests past 4 levels; the desk never sees deeper
            self._refuse("INPUT_INVALID")
            return
        operation, payload = message[1], message[3] if len(message) > 3 else None
        handler = self._inputs.get(operation)
        if handler is None:
            self._refuse("INPUT_UNKNOWN", op=operation[:40])
        elif operation in PAYLOAD_OBJECTS and not isinstance(payload, dict):
            self._refuse("INPUT_PAYLOAD", op=operation)
        else:
            handler(self.account, payload)

    def _calc(self, account: Account, requests: Any) -> None:
        valid = (
            isinstance(requests, list)
            and 0 < len(requests) <= MAX_CALCS_PER_MESSAGE
            and all(isinstance(r, list) and len(r) == 1 and isinstance(r[0], str) for r in requests)
        )
        if not valid:
            self._refuse("CALC_INVALID", limit=MAX_CALCS_PER_MESSAGE)
            return
        now = self._monotonic()
        while self._calc_times and now - self._calc_times[0] >= 1.0:
            self._calc_times.popleft()
        if len(self._calc_times) >= self._limits.calcs_per_second:
            self._refuse("CALC_RATELIMIT")
            return
        self._calc_times.append(now)
        unknown = self._venue.desk.calc(account, [r[0] for r in requests])
        if unknown:
            self._refuse("CALC_UNKNOWN", names=", ".join(name[:40] for name in unknown[:10]))

    def close(self) -> None:
        """The connection is gone: leave every channel; with ``dms: 4``, cancel the account's orders."""
        if self.closed:
            return
        self.closed = True
        for chan_id, spec in self.channels.items():
            self._venue.unsubscribe(spec, self, chan_id)
        self.channels.clear()
        account = self.account
        if account is not None:
            self._venue.detach(account, self)
            if self._dead_man_switch:
                self._venue.desk.cancel_all(account)
            self._venue.flush()
