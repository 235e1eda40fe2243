"""Every error the local exchange sends, in one table: code, text, echoed fields, when, and why.

Each row of :data:`ERRORS` is one way the exchange says no (an ``error`` event, a FAILED ``auth``,
``conf`` or ``unauth`` answer) or one ``info`` code. Every place in the exchange that refuses
something builds its frame from a row (:meth:`ErrorRow.frame`), so the table is the whole list of
what a bot may get, and ``docs/guides/fidelity.rst`` and the tests read the same rows.

Where the answer comes from, per row (:attr:`ErrorRow.source`):

- **live**: a frame the live server sent, quoted in a public issue thread of a Bitfinex client
  (or recorded in ``shared/data``). Live frames win over the documentation whenever they
  disagree, and the row says so in :attr:`ErrorRow.note`.
- **docs**: docs.bitfinex.com (``ws-general``, ``ws-public-books``, the abbreviations glossary
  that lists ``ERR_*`` codes), when no live frame is known. The glossary gives codes and their
  meaning but no ``msg`` texts; for those rows the text follows the live server's style
  (``"FIELD: invalid"``, as in ``"symbol: invalid"``, ``"apikey: invalid"``,
  ``"unsubscribe: invalid"``) and the row says the text is unverified.
- **local**: answers only this exchange gives (it refuses what it does not emulate, or what
  is not JSON), with the code Bitfinex uses for that family.

A row the exchange never sends names the reason in :attr:`ErrorRow.never_sent`
(``tests/test_exchange_fidelity.py`` triggers every other row).

Refusals of a *request on channel 0* that Bitfinex answers with an ``ERROR`` notification
(``[0, "n", [MTS, "fon-req", null, null, ECHO, null, "ERROR", TEXT]]``) rather than an event are
the rows of :data:`NOTIFICATIONS` (the funding inputs ``fon`` and ``foc``; the order inputs'
texts are :data:`bitfinex.testing.orderinput.REJECTION_TEXTS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Optional

__all__ = ["ERRORS", "INFO_MESSAGES", "NOTIFICATIONS", "ErrorRow", "NotificationRow", "notification", "row"]

_ISSUE = "https://github.com/{}/issues/{}"
_PULL = "https://github.com/{}/pull/{}"
NODE = "bitfinexcom/bitfinex-api-node"
GLOSSARY = "docs.bitfinex.com/docs/abbreviations-glossary (ERR_* codes)"
WS_GENERAL = "docs.bitfinex.com/docs/ws-general (Error Codes)"
BOOKS = "docs.bitfinex.com/reference/ws-public-books (error codes)"


def _issue(repository: str, number: int) -> str:
    return _ISSUE.format(repository, number)


def _pull(repository: str, number: int) -> str:
    return _PULL.format(repository, number)


@dataclass(frozen=True)
class ErrorRow:
    """One answer the exchange gives to something it refuses (or one ``info`` code).

    :param name: the row's key in :data:`ERRORS`.
    :param code: the Bitfinex code.
    :param msg: the ``msg`` text (``{field}`` placeholders are filled by :meth:`frame`).
    :param event: the event that carries it: ``error``, ``auth``, ``conf``, ``unauth``, ``info``.
    :param echo: which request fields come back: ``none``, ``request`` (every field of the
        request but ``event``, after ``code``), ``subscribe`` (the request's fields first, then
        ``event``/``msg``/``code``, then ``pair``: the symbol with its first character cut, as
        the live server computes it), ``chanId`` (``event``, ``msg``, ``chanId``, ``code``) or
        ``flags`` (the ``conf`` answer's requested flags).
    :param when: what makes the exchange send it.
    :param source: where code and text come from: a public issue thread quoting the live
        frame, a docs page, a file of ``shared/data``, or ``local``.
    :param live: whether a live frame confirms the code and the text.
    :param note: where docs and live frames disagree (live wins), or what is unverified.
    :param never_sent: why the exchange never sends this row (empty: it does).
    """

    name: str
    code: int
    msg: str
    event: str
    echo: str
    when: str
    source: str
    live: bool = False
    note: str = ""
    never_sent: str = ""

    def frame(self, request: Optional[Mapping[str, Any]] = None, **fields: Any) -> dict[str, Any]:
        """Build the event this row describes.

        :param request: the decoded request, for the echoed fields; every value must already
            be made safe to send back (:func:`~bitfinex.testing.requests.echoable`).
        :param fields: values for the ``msg`` placeholders, and for the ``flags`` of a ``conf``
            answer, the ``chanId`` of an ``unsubscribe`` error, the ``symbol`` of a subscribe
            error (its ``pair`` is derived from it).
        """
        msg = self.msg.format(**fields) if "{" in self.msg else self.msg
        if self.event == "auth":
            return {"event": "auth", "status": "FAILED", "chanId": 0, "code": self.code, "msg": msg}
        if self.event == "unauth":
            return {"event": "unauth", "status": "FAILED", "chanId": 0, "code": self.code, "msg": msg}
        if self.event == "conf":
            return {"event": "conf", "status": "FAILED", "flags": fields.get("flags"), "code": self.code, "msg": msg}
        if self.event == "info":
            return {"event": "info", "code": self.code, "msg": msg}
        echoed = {k: v for k, v in (request or {}).items() if k not in ("event", "msg", "code")}
        if self.echo == "subscribe":
            event: dict[str, Any] = dict(echoed)
            symbol = fields.get("symbol", echoed.get("symbol"))
            if "symbol" not in event and isinstance(symbol, str):
                event["symbol"] = symbol
            event.update(event="error", msg=msg, code=self.code)
            if isinstance(symbol, str):
                event["pair"] = symbol[1:]
            return event
        if self.echo == "chanId":
            return {"event": "error", "msg": msg, "chanId": fields.get("chanId", echoed.get("chanId")), "code": self.code}
        event = {"event": "error", "msg": msg, "code": self.code}
        if self.echo == "request":
            event.update(echoed)
        return event


_ROWS: tuple[ErrorRow, ...] = (
    # -- frames that are no request -----------------------------------------------------------
    ErrorRow(
        "UNKNOWN_EVENT", 10000, "Unknown event", "error", "request",
        "an object whose `event` is missing, not a string, or no event the API has",
        WS_GENERAL,
        note="The glossary names 10000 ERR_UNK 'Unknown error'; ws-general's 'Unknown event' is used. "
        "No live frame of it is known.",
    ),
    ErrorRow(
        "INVALID_JSON", 10020, "invalid JSON", "error", "none",
        "a text frame that is not one JSON document (NaN, Infinity, 1e400, a BOM, nesting past "
        "512 levels, invalid UTF-8...)",
        "local; code from " + GLOSSARY + " (ERR_PARAMS 'Request parameters error')",
        note="What the live server answers to text that is not JSON is not known. Bitfinex parses with "
        "JavaScript's JSON.parse, which also refuses NaN and BOMs but reads 1e400 as Infinity; the local "
        "exchange refuses 1e400 (see the fidelity page).",
    ),
    ErrorRow(
        "BINARY_FRAME", 10020, "binary frames are not supported", "error", "none",
        "a binary WebSocket message (Bitfinex speaks text frames)",
        "local; code from " + GLOSSARY,
    ),
    ErrorRow(
        "NOT_A_REQUEST", 10020, "invalid request", "error", "none",
        "a JSON value that is neither an object (event) nor an array (input): a number, string, null",
        "local; code from " + GLOSSARY,
    ),
    ErrorRow(
        "REQUEST_FAILED", 10020, "request failed", "error", "none",
        "a handler of the exchange raised (a bug of the exchange, logged with its traceback)",
        "local; code from " + GLOSSARY,
    ),
    # -- conf -------------------------------------------------------------------------------------
    ErrorRow(
        "CONF_INVALID", 10050, "flags: invalid", "conf", "flags",
        "`flags` is missing or not an integer from 0 to 2**31 - 1",
        GLOSSARY + " (ERR_CONF_FAIL 'Configuration setup failed'); the answer's shape from the OK answer "
        "in shared/data/cryptofeed-BITFINEX.ws.11.0.txt and " + NODE + " lib/ws2.js _handleConfigEvent "
        "(status other than OK is a failure)",
        note="No live frame of a failed conf is known: the text is unverified.",
    ),
    ErrorRow(
        "CONF_UNSUPPORTED", 10050, "flags: {names} not supported", "conf", "flags",
        "`flags` holds TIME_S (32), which the exchange refuses, or a bit no documented flag has "
        "(the flags are not applied: the previous ones stay)",
        "local; code from " + GLOSSARY,
        note="Bitfinex documents TIME_S ('timestamps as date strings') but no source shows the format; "
        "rather than invent one, the exchange refuses it. Unknown bits are refused rather than ignored.",
    ),
    # -- authentication -------------------------------------------------------------------------
    ErrorRow(
        "AUTH_DUP", 10100, "auth: dup", "error", "none",
        "an `auth` on a socket that is already authenticated",
        _issue(NODE, 329) + ", " + _issue(NODE, 465) + ", " + _issue("bitrich-info/xchange-stream", 392)
        + " (live: {\"event\":\"error\",\"msg\":\"auth: dup\",\"code\":10100})",
        live=True,
        note="protocol.md guessed an `auth` FAILED answer; the live server sends an `error` event.",
    ),
    ErrorRow(
        "AUTH_REQUIRED", 10100, "auth: invalid", "error", "none",
        "an input (`[0, OP, null, PAYLOAD]`) on a socket that is not authenticated",
        _issue(NODE, 77) + ", " + _issue("Marfusios/bitfinex-client-websocket", 37) + ", "
        + _issue("Crypto-toolbox/btfxwss", 49)
        + " (live: {\"event\":\"error\",\"msg\":\"auth: invalid\",\"code\":10100} for an order sent before auth)",
        live=True,
        note="The glossary's 10200 ERR_UNAUTH_FAIL is about `unauth`; live frames show 10100 'auth: invalid' "
        "for inputs before auth.",
    ),
    ErrorRow(
        "AUTH_APIKEY", 10100, "apikey: invalid", "auth", "none",
        "an `auth` whose apiKey is no account's",
        _issue(NODE, 89) + ", " + _issue("bitfinexcom/bitfinex-api-rb", 45)
        + " (live: {\"event\":\"auth\",\"status\":\"FAILED\",\"chanId\":0,\"code\":10100,\"msg\":\"apikey: invalid\"})",
        live=True,
    ),
    ErrorRow(
        "AUTH_PAYLOAD", 10111, "authPayload: invalid", "auth", "none",
        "`authPayload` is not 'AUTH' followed by `authNonce`",
        GLOSSARY + " (ERR_AUTH_PAYLOAD)",
        note="Text unverified.",
    ),
    ErrorRow(
        "AUTH_SIGNATURE", 10112, "authSig: invalid", "auth", "none",
        "`authSig` is not 96 hex digits (a SHA-384 HMAC)",
        GLOSSARY + " (ERR_AUTH_SIG)",
        note="Text unverified.",
    ),
    ErrorRow(
        "AUTH_DIGEST", 10113, "apikey: digest invalid", "auth", "none",
        "`authSig` is not the HMAC-SHA384 of `authPayload` with the key's secret",
        _issue(NODE, 347) + " (live text 'apikey: digest invalid'); code from " + GLOSSARY + " (ERR_AUTH_HMAC)",
        note="The text is live; no live frame shows its code.",
    ),
    ErrorRow(
        "AUTH_NONCE_SMALL", 10114, "nonce: small", "auth", "none",
        "the nonce is not larger than every nonce the key authenticated with before",
        _issue(NODE, 406) + ", " + _issue(NODE, 347) + " (live text 'nonce: small'); code from "
        + GLOSSARY + " (ERR_AUTH_NONCE)",
        note="The text is live; no live frame shows its code.",
    ),
    ErrorRow(
        "AUTH_NONCE_INVALID", 10114, "nonce: invalid", "auth", "none",
        "the nonce is not an integer (a digit string, or a JSON integer) from 1 to 2**53 - 1: "
        "'1.5', '1e5', 1.5, -1, '' are refused",
        GLOSSARY + " (ERR_AUTH_NONCE); docs.bitfinex.com/docs/ws-auth (the nonce is an ever "
        "increasing integer, at most 9007199254740991)",
        note="Text unverified (only 'nonce: small' is seen live).",
    ),
    ErrorRow(
        "UNAUTH_FAILED", 10200, "auth: not authenticated", "unauth", "none",
        "an `unauth` on a socket that is not authenticated",
        GLOSSARY + " (ERR_UNAUTH_FAIL 'Error in un-authentication request')",
        note="Text unverified.",
    ),
    # -- subscribe --------------------------------------------------------------------------------
    ErrorRow(
        "SYMBOL_INVALID", 10300, "symbol: invalid", "error", "subscribe",
        "ticker, trades or book: the symbol (or legacy `pair`) is missing, not a string, or not listed",
        _issue(NODE, 481) + " ({\"channel\":\"ticker\",\"symbol\":\"btceth\",\"event\":\"error\",\"msg\":\"symbol: "
        "invalid\",\"code\":10300,\"pair\":\"tceth\"}), " + _issue("bitrich-info/xchange-stream", 254),
        live=True,
        note="ws-general lists 10001 'Unknown pair'; the live server answers 10300 'symbol: invalid' and "
        "echoes `pair` as the symbol with its first character cut, whatever that character is.",
    ),
    ErrorRow(
        "UNKNOWN_PAIR", 10001, "Unknown pair", "error", "request",
        "never",
        WS_GENERAL,
        never_sent="The live server answers an unknown symbol with 10300 'symbol: invalid' (SYMBOL_INVALID).",
    ),
    ErrorRow(
        "KEY_INVALID", 10300, "key: invalid", "error", "subscribe",
        "candles: `key` is not 'trade:TIMEFRAME:SYMBOL' with a known timeframe and a listed symbol "
        "(funding symbols need ':pN', N from 2 to 120); status: `key` is neither 'liq:global' nor "
        "'deriv:SYMBOL' with a listed perpetual ('deriv:tNOPE:USTF0', 'deriv:tBTCUSD', 'liq:local')",
        "code from " + WS_GENERAL + " (10300 'Subscription failed (generic)'); status keys: "
        "docs.bitfinex.com/reference/ws-public-status",
        note="Text unverified (the live server's 'FIELD: invalid' style); no live answer to an unknown "
        "status key is known.",
    ),
    ErrorRow(
        "FREQ_INVALID", 10300, "freq: invalid", "error", "subscribe",
        "book: `freq` is not F0 or F1",
        "code from " + WS_GENERAL,
        note="Text unverified.",
    ),
    ErrorRow(
        "PREC_INVALID", 10011, "prec: invalid", "error", "subscribe",
        "book: `prec` is not P0, P1, P2, P3, P4 or R0",
        BOOKS + "; " + WS_GENERAL,
        note="Text unverified.",
    ),
    ErrorRow(
        "LEN_INVALID", 10012, "len: invalid", "error", "subscribe",
        "book: `len` is not 1, 25, 100 or 250 (string or integer)",
        BOOKS,
        note="Text unverified.",
    ),
    ErrorRow(
        "SUBSCRIBE_DUP", 10301, "subscribe: dup", "error", "subscribe",
        "a subscription the socket already holds (same channel, symbol and book parameters)",
        _issue("bitfinexcom/bitfinex-api-go", 127) + ", " + _pull("JKorf/Bitfinex.Net", 164)
        + " (live 'subscribe: dup' code 10301)",
        live=True,
    ),
    ErrorRow(
        "UNKNOWN_CHANNEL", 10302, "channel: unknown", "error", "subscribe",
        "`channel` is not ticker, trades, book, candles or status",
        WS_GENERAL + " (10302 'Unknown channel')",
        note="Text unverified.",
    ),
    ErrorRow(
        "SUBSCRIBE_LIMIT", 10305, "subscribe: limit", "error", "subscribe",
        "the socket already holds `max_subscriptions` channels (25 on Bitfinex)",
        _pull("thrasher-corp/gocryptotrader", 1353) + " (live 'subscribe: limit (code: 10305)'); "
        "docs.bitfinex.com/docs/ws-public (25 channels per connection)",
        live=True,
    ),
    # -- unsubscribe ------------------------------------------------------------------------------
    ErrorRow(
        "UNSUBSCRIBE_INVALID", 10400, "unsubscribe: invalid", "error", "chanId",
        "`chanId` is not an integer, or no channel of this socket",
        _issue(NODE, 349) + " (live: {event: \"error\", msg: \"unsubscribe: invalid\", chanId: 3316, code: 10400} "
        "for a chanId the socket did not hold)",
        live=True,
        note="ws-general lists 10401 'Not subscribed' for this; the live server answers 10400.",
    ),
    ErrorRow(
        "NOT_SUBSCRIBED", 10401, "Not subscribed", "error", "chanId",
        "never",
        WS_GENERAL,
        never_sent="The live server answers an unknown chanId with 10400 'unsubscribe: invalid' (UNSUBSCRIBE_INVALID).",
    ),
    # -- inputs (channel 0) -----------------------------------------------------------------------
    ErrorRow(
        "INPUT_INVALID", 10020, "input: invalid", "error", "none",
        "an array that is not `[0, OP, null, PAYLOAD]` with a string OP, or nested deeper than "
        "16 levels (no input nests more than 4)",
        "local; code from " + GLOSSARY + "; protocol.md §8 (malformed inputs get 10000/10020)",
    ),
    ErrorRow(
        "INPUT_UNKNOWN", 10020, "{op}: unknown input", "error", "none",
        "an input whose OP is not on, oc, oc_multi, ou, ox_multi, calc, fon or foc",
        "local; code from " + GLOSSARY,
    ),
    ErrorRow(
        "INPUT_PAYLOAD", 10020, "{op}: payload must be an object", "error", "none",
        "on, oc, oc_multi, ou, fon or foc whose PAYLOAD is not an object",
        "local; code from " + GLOSSARY,
    ),
    ErrorRow(
        "CALC_INVALID", 10020, "calc: invalid (1 to {limit} one-element requests)", "error", "none",
        "calc whose PAYLOAD is not a list of 1 to 30 one-string lists",
        "docs.bitfinex.com/reference/ws-input-calc (30 per batch); code from " + GLOSSARY,
        note="Text local.",
    ),
    ErrorRow(
        "CALC_RATELIMIT", 10020, "calc: ratelimit", "error", "none",
        "more than `calcs_per_second` calc messages in a second (8 on Bitfinex)",
        "docs.bitfinex.com/reference/ws-input-calc (8 per second; 'spamming gives an error or a "
        "disconnect'); code from " + GLOSSARY,
        note="Text local.",
    ),
    ErrorRow(
        "CALC_UNKNOWN", 10020, "calc: unknown requests {names}", "error", "none",
        "calc naming a request that is none of margin_base, margin_sym_*, funding_sym_*, "
        "position_*, wallet_*, balance",
        "local; code from " + GLOSSARY,
    ),
    # -- what the local exchange never sends --------------------------------------------------
    ErrorRow(
        "CONCURRENCY", 10008, "Concurrency error", "error", "none",
        "never",
        GLOSSARY + " (ERR_CONCURRENCY)",
        never_sent="One reactor thread handles every request in order: nothing can race.",
    ),
    ErrorRow(
        "NOT_READY", 11000, "Not ready, try again later", "error", "none",
        "never",
        GLOSSARY + " (ERR_READY)",
        never_sent="The exchange is ready as soon as it listens; simulate maintenance with "
        "faults.send_info(20060) / (20061).",
    ),
    # -- replay (LocalExchange(replay=...)) --------------------------------------------------
    ErrorRow(
        "REPLAY_NO_CHANNEL", 10300, "subscribe: channel not in the recording", "error", "request",
        "a replay: subscribing to a channel the recording does not hold",
        "local; code from " + WS_GENERAL,
    ),
    ErrorRow(
        "REPLAY_NO_AUTH", 10100, "no authenticated channel in the recording", "auth", "none",
        "a replay: an `auth` when the recording holds no authenticated channel",
        "local; code from " + GLOSSARY,
    ),
    ErrorRow(
        "REPLAY_CONF", 10050, "flags: {names} not in the recording", "conf", "flags",
        "a replay: `conf` flags other than the ones the recorded client had (its frames carry "
        "those, whatever a new client asks)",
        "local; code from " + GLOSSARY,
    ),
    # -- info events (sent on demand by faults.send_info) ----------------------------------------
    ErrorRow(
        "INFO_RECONNECT", 20051, "Stopping. Please try to reconnect", "info", "none",
        "faults.send_info(20051): the server asks clients to reconnect",
        _issue("Marfusios/bitfinex-client-websocket", 9) + " (live text); " + GLOSSARY + " (EVT_STOP)",
        live=True,
    ),
    ErrorRow(
        "INFO_MAINTENANCE_START", 20060,
        "Entering in Maintenance mode. Please pause any activity and resume after receiving the info "
        "message 20061 (it should take 120 seconds at most).",
        "info", "none",
        "faults.send_info(20060): maintenance starts",
        WS_GENERAL + " (info messages)",
    ),
    ErrorRow(
        "INFO_MAINTENANCE_END", 20061,
        "Maintenance ended. You can resume normal activity. It is advised to unsubscribe/subscribe again "
        "all channels.",
        "info", "none",
        "faults.send_info(20061): maintenance ends",
        WS_GENERAL + " (info messages)",
    ),
    ErrorRow(
        "INFO_GENERIC", 5000, "Info", "info", "none",
        "faults.send_info(5000)",
        GLOSSARY + " (EVT_INFO)",
        note="Text local.",
    ),
)

ERRORS: Mapping[str, ErrorRow] = MappingProxyType({r.name: r for r in _ROWS})
"""Every row, by name, in the order above."""

INFO_MESSAGES: Mapping[int, str] = MappingProxyType({r.code: r.msg for r in _ROWS if r.event == "info"})
"""The ``msg`` of each info code (what ``faults.send_info(code)`` sends by default)."""


def row(name: str) -> ErrorRow:
    """The row called ``name`` (``"SYMBOL_INVALID"``...).

    :raises KeyError: for a name that has no row.
    """
    return ERRORS[name]


# -- ERROR notifications of channel-0 requests ----------------------------------------------------

LENDING_BOTS = "live REST answers (code 10001) quoted by public lending bots"


@dataclass(frozen=True)
class NotificationRow:
    """One ``ERROR`` notification text the exchange answers a channel-0 request with.

    :param name: the row's key in :data:`NOTIFICATIONS`.
    :param request: the notification TYPE (``fon-req``, ``foc-req``).
    :param text: the TEXT (index 7); ``{field}`` placeholders are filled by :meth:`text_for`.
    :param when: what makes the exchange send it.
    :param source: where the text comes from.
    :param live: whether a live answer shows the text.
    :param note: what is unverified, or where docs and live answers disagree.
    """

    name: str
    request: str
    text: str
    when: str
    source: str
    live: bool = False
    note: str = ""

    def text_for(self, **fields: Any) -> str:
        """The TEXT with its placeholders filled."""
        return self.text.format(**fields) if "{" in self.text else self.text


_FIELD_STYLE = (
    "chosen in the live server's 'FIELD: invalid' style (live 'price_oco_stop: invalid', "
    + _issue(NODE, 186) + "); what Bitfinex answers this input with is not known"
)

_NOTIFICATION_ROWS: tuple[NotificationRow, ...] = (
    NotificationRow(
        "OFFER_TYPE", "fon-req", "type: invalid",
        "`type` is missing or not LIMIT, FRRDELTAVAR or FRRDELTAFIX (docs ws-auth-input-offer-new)",
        _FIELD_STYLE,
    ),
    NotificationRow(
        "OFFER_SYMBOL", "fon-req", "symbol: invalid",
        "`symbol` is missing, not a string, a trading pair, or a funding currency not listed",
        _FIELD_STYLE,
    ),
    NotificationRow(
        "OFFER_AMOUNT", "fon-req", "amount: invalid",
        "`amount` is missing, zero (after rounding to 8 decimals), not finite, beyond 1e15, or "
        "not a decimal number or text",
        _FIELD_STYLE,
    ),
    NotificationRow(
        "OFFER_MINIMUM", "fon-req", "Invalid offer: incorrect amount, minimum is 150.0 dollar or equivalent in {currency}",
        "the amount is worth less than 150 USD (at the last price of the currency's USD pair)",
        LENDING_BOTS + " ('Invalid offer: incorrect amount, minimum is 150.0 dollar or equivalent in UST'; "
        "an older minimum read '50 dollar')",
        live=True,
        note="Live over REST; that the WebSocket input answers with the same text in a fon-req ERROR "
        "is assumed, as for orders.",
    ),
    NotificationRow(
        "OFFER_BALANCE", "fon-req", "Invalid offer: not enough {currency} balance available in deposit wallet",
        "a lend offer larger than the funding wallet's balance minus open lend offers and credits",
        LENDING_BOTS + " ('Invalid offer: not enough USD balance available in deposit wallet')",
        live=True,
        note="Live over REST; the same text in a fon-req ERROR is assumed. 'deposit wallet' is "
        "Bitfinex's own name for the funding wallet.",
    ),
    NotificationRow(
        "OFFER_LIMIT", "fon-req", "Limit: too many active offers",
        "the account already has `MAX_OPEN_OFFERS` (1000) open funding offers",
        "a public Rust Bitfinex client's error handling matches this text (ExceedMaxOfferCount)",
        note="The text is what a client checks for in Bitfinex's answers; the count Bitfinex allows is not "
        "documented: 1000 is chosen (it also bounds the memory a client can make the exchange hold).",
    ),
    NotificationRow(
        "OFFER_RATE", "fon-req", "rate: invalid",
        "`rate` is missing or not a number; for LIMIT not above 0; for FRRDELTAVAR below 0 "
        "(docs rest-auth-submit-funding-offer: the FRRDELTAVAR offset 'can only be positive')",
        _FIELD_STYLE,
    ),
    NotificationRow(
        "OFFER_FRR_OFFSET", "fon-req", "FRR offset larger than 30% of FRR, aborting.",
        "an FRRDELTAVAR or FRRDELTAFIX offset whose size exceeds 30 % of the current FRR",
        LENDING_BOTS + " (a Rust Bitfinex client's comment quotes "
        "'\"error\",10001,\"FRR offset larger than 30% of FRR, aborting.\"')",
        live=True,
        note="Live over REST; the same text in a fon-req ERROR is assumed.",
    ),
    NotificationRow(
        "OFFER_PERIOD", "fon-req", "period: invalid",
        "`period` is missing or not an integer from 2 to 120 (docs rest-auth-submit-funding-offer)",
        _FIELD_STYLE,
    ),
    NotificationRow(
        "OFFER_FLAGS", "fon-req", "flags: invalid",
        "`flags` is not an integer, or holds a bit other than HIDDEN (64), the only offer flag "
        "(docs flag-values)",
        _FIELD_STYLE,
    ),
    NotificationRow(
        "CANCEL_ID", "foc-req", "id: invalid",
        "`id` is missing or not an integer from 1 to 2**53 - 1",
        _FIELD_STYLE,
    ),
    NotificationRow(
        "CANCEL_NOT_FOUND", "foc-req", "Offer not found.",
        "`id` names no open offer of the account (never placed, cancelled, or fully taken)",
        "chosen, in the style of the order desk's 'Order not found.'",
        note="No live answer to cancelling an unknown funding offer is known.",
    ),
    NotificationRow(
        "FUNDING_FAILED", "fon-req", "request failed",
        "the funding desk raised (a bug of the exchange, logged with its traceback); also foc-req",
        "local",
    ),
)

NOTIFICATIONS: Mapping[str, NotificationRow] = MappingProxyType({r.name: r for r in _NOTIFICATION_ROWS})
"""Every ERROR notification text of the funding inputs, by name."""


def notification(name: str) -> NotificationRow:
    """The notification row called ``name`` (``"OFFER_PERIOD"``...).

    :raises KeyError: for a name that has no row.
    """
    return NOTIFICATIONS[name]
