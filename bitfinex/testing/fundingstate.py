"""Funding state of an account: offers, credits and loans, and their wire arrays.

Signs follow Bitfinex's: a positive offer amount lends, a negative one borrows (docs
ws-auth-input-offer-new). A lend that matched is a **credit** of the lender (``fcs``/``fcn``/
``fcu``/``fcc``, SIDE 1); a borrow that matched is a **loan** of the borrower (``fls``/``fln``/
``flu``/``flc``, SIDE -1). Rates are daily rates as fractions (``0.0002`` is 0.02 % a day).

The array layouts, with the live frames they follow:

- offer, 21 fields (docs ws-auth-funding-offers; live ``fon``
  ``[41245492,"fUSD",1588164953000,1588164953000,50,50,"LIMIT",null,null,null,"ACTIVE",null,null,null,0.005,2,0,0,null,0,null]``
  from leehillz/bfxqa-ws ``Auth/NewFundingOffer.js``): FLAGS (9) is ``null`` without flags and
  ``64`` for a hidden offer, as live;
- credit, 22 fields, and loan, 21 (docs ws-auth-funding-credits, ws-auth-funding-loans; live
  ``fln`` ``[2996371,"fUSD",-1,1588244240000,1588244240000,50,0,"ACTIVE","VAR",null,null,0,4,...,0,null,0,null,0]``
  and ``fcn`` ``[26229850,"fUSD",-1,...,930.48726,0,"ACTIVE","FIXED",null,null,0.000944,14,...,0,"tBTCUSD"]``,
  bfxqa-ws): index 8 is the rate type, ``FIXED`` or ``VAR`` (the docs print a placeholder there;
  live wins, and bitfinex-api-py 4 reads it as ``rate_type``);
- a funding trade of the account (``fte``/``ftu``), 8 fields: ``[ID, SYMBOL, MTS_CREATE,
  OFFER_ID, AMOUNT, RATE, PERIOD, MAKER]`` (docs ws-auth-funding-trades; live
  ``[643492,"fUSD",1588244240000,41245717,-50,0.00091413,4,null]``, bfxqa-ws). MAKER is always
  ``null``: every live frame shows ``null``, and a Bitfinex maintainer wrote that the field "is
  not working" and is a placeholder, funding fees not depending on it (bitfinex-api-py pull
  request 135);
- NOTIFY (credits and loans, index 15) is ``null`` and MTS_LAST_PAYOUT ``null`` until the first
  payment, as the live ``fcn`` shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Optional

from bitfinex.protocol.constants import OrderFlag
from bitfinex.testing.numbers import ZERO, wire

DAY_MS = 86_400_000

OFFER_LENGTH = 21
CREDIT_LENGTH = 22
LOAN_LENGTH = 21


def percent_text(rate: Decimal) -> str:
    """A daily rate as the notification texts print it: a percentage with four significant
    digits (``0.005`` → ``"0.5000"``, ``0.00001`` → ``"0.001000"``), zero as ``"0.0000"``.

    Live texts (leehillz/bfxqa-ws): "Submitting funding offer of 50.0 USD at 0.5000 for 2 days.",
    "... at FRR 0.0000 for 2 days.", "... at FRR 0.001000 for 2 days."; docs ws-auth-input-offer-new:
    "Submitting funding bid of 1000.0 USD at 0.2000 for 2 days." (rate 0.002).
    """
    percent = rate * 100
    if percent == 0:
        return "0.0000"
    rounded = percent.quantize(Decimal(1).scaleb(percent.adjusted() - 3), ROUND_HALF_UP)
    rounded = rounded.quantize(Decimal(1).scaleb(rounded.adjusted() - 3))  # 9.99995 rounds to 10.00
    return format(rounded, "f")


def status_percent(rate: Decimal) -> str:
    """A daily rate as offer statuses print it: a percentage with four decimals (live
    ``"EXECUTED at 0.0099% (100.0)"``, bfxqa-ws ``Auth/NewFundingOffer.js``)."""
    return f"{(rate * 100).quantize(Decimal('0.0001'))}%"


def amount_text(amount: Decimal) -> str:
    """An amount as the texts print it: unsigned, at least one decimal (``50`` → ``"50.0"``,
    ``1000.5`` → ``"1000.5"``; live ``"Submitting funding offer of 50.0 USD ..."``)."""
    text = format(abs(amount).normalize(), "f")
    return text if "." in text else text + ".0"


@dataclass
class FundingOffer:
    """A client funding offer, live or just finished.

    :param amount: what is left, signed (``> 0`` lends).
    :param rate: as given: the daily rate (LIMIT), or the offset from the FRR (FRRDELTAVAR,
        FRRDELTAFIX).
    :param effective_rate: the rate it rests at in the book (FRR types: FRR + offset).
    """

    offer_id: int
    owner: str
    symbol: str
    offer_type: str
    amount: Decimal
    amount_orig: Decimal
    rate: Decimal
    period: int
    flags: int
    mts_create: int
    mts_update: int
    effective_rate: Decimal = ZERO
    status: str = "ACTIVE"
    closed: bool = False

    @property
    def lends(self) -> bool:
        """Whether the offer lends (positive amount)."""
        return self.amount_orig > 0

    @property
    def hidden(self) -> bool:
        """Whether the HIDDEN flag (64) is set: the offer never shows in public books."""
        return bool(self.flags & OrderFlag.HIDDEN)

    @property
    def follows_frr(self) -> bool:
        """Whether the rate is an offset from the FRR (FRRDELTAVAR, FRRDELTAFIX)."""
        return self.offer_type != "LIMIT"

    def wire(self) -> list[Any]:
        """The 21-field offer array of ``fos``/``fon``/``fou``/``foc``."""
        array: list[Any] = [None] * OFFER_LENGTH
        array[0] = self.offer_id
        array[1] = self.symbol
        array[2] = self.mts_create
        array[3] = self.mts_update
        array[4] = wire(self.amount)
        array[5] = wire(self.amount_orig)
        array[6] = self.offer_type
        array[9] = self.flags or None
        array[10] = self.status
        array[14] = wire(self.rate)
        array[15] = self.period
        array[16] = 0
        array[17] = 1 if self.hidden else 0
        array[19] = 0
        return array

    def request_info(self) -> list[Any]:
        """What a ``fon-req`` SUCCESS notification carries: the id, amount, rate and period,
        every other field ``null`` (live, bfxqa-ws; docs ws-auth-input-offer-new)."""
        array: list[Any] = [None] * OFFER_LENGTH
        array[0] = self.offer_id
        array[4] = wire(self.amount_orig)
        array[14] = wire(self.rate)
        array[15] = self.period
        return array


def offer_echo(
    symbol: Optional[str],
    offer_type: Optional[str],
    amount: Optional[Decimal],
    rate: Optional[Decimal],
    period: Optional[int],
    flags: Optional[int],
    offer_id: Optional[int] = None,
) -> list[Any]:
    """The offer array a ``fon-req``/``foc-req`` ERROR shows: what the client sent that can be
    sent back (bounded numbers, short strings), every other field ``null``."""
    array: list[Any] = [None] * OFFER_LENGTH
    array[0] = offer_id
    array[1] = symbol
    array[4] = wire(amount)
    array[5] = wire(amount)
    array[6] = offer_type
    array[9] = flags
    array[14] = wire(rate)
    array[15] = period
    return array


@dataclass
class FundingContract:
    """Funds lent and taken: a credit (the lender's, SIDE 1) or a loan (the borrower's, SIDE -1).

    :param rate: the contract rate (fixed) or, for a variable (``VAR``) contract, the offset
        from the FRR.
    :param rate_real: the rate interest accrues at now, for FRR contracts (RATE_REAL, index 19;
        docs: "the calculated rate for FRR and FRRDELTAFIX"); ``None`` for LIMIT ones.
    :param position_pair: the pair of the position the funds are used in (credits only).
    :param offer_id: the client offer it came from (``None``: not from an offer).
    :param interest_paid: interest paid (credit, after the fee) or charged (loan) so far.
    """

    contract_id: int
    owner: str
    symbol: str
    side: int
    amount: Decimal
    rate: Decimal
    rate_type: str
    period: int
    mts_opening: int
    mts_update: int
    hidden: bool = False
    rate_real: Optional[Decimal] = None
    position_pair: Optional[str] = None
    offer_id: Optional[int] = None
    mts_last_payout: Optional[int] = None
    status: str = "ACTIVE"
    interest_paid: Decimal = ZERO
    closed: bool = False

    @property
    def is_credit(self) -> bool:
        """Whether this is a credit (funds the account lent)."""
        return self.side == 1

    @property
    def mts_end(self) -> int:
        """When the period ends and the funds return."""
        return self.mts_opening + self.period * DAY_MS

    def current_rate(self) -> Decimal:
        """The daily rate interest accrues at now."""
        return self.rate_real if self.rate_real is not None else self.rate

    def wire(self) -> list[Any]:
        """The credit (22 fields) or loan (21 fields) array."""
        array: list[Any] = [None] * (CREDIT_LENGTH if self.is_credit else LOAN_LENGTH)
        array[0] = self.contract_id
        array[1] = self.symbol
        array[2] = self.side
        array[3] = self.mts_opening
        array[4] = self.mts_update
        array[5] = wire(self.amount)
        array[6] = 0
        array[7] = self.status
        array[8] = self.rate_type
        array[11] = wire(self.rate)
        array[12] = self.period
        array[13] = self.mts_opening
        array[14] = self.mts_last_payout
        array[16] = 1 if self.hidden else 0
        array[18] = 0
        array[19] = wire(self.rate_real) if self.rate_real is not None else None
        array[20] = 0
        if self.is_credit:
            array[21] = self.position_pair
        return array


@dataclass
class FundingBook:
    """An account's funding offers, credits and loans by id (the open ones)."""

    offers: dict[int, FundingOffer] = field(default_factory=dict)
    credits: dict[int, FundingContract] = field(default_factory=dict)
    loans: dict[int, FundingContract] = field(default_factory=dict)

    def lent(self, symbol: str) -> Decimal:
        """What the account's open lend offers and credits in ``symbol`` hold of its funding
        wallet (so it is not available for another offer)."""
        held = sum((o.amount for o in self.offers.values() if o.symbol == symbol and o.lends), ZERO)
        return held + sum((c.amount for c in self.credits.values() if c.symbol == symbol), ZERO)


def funding_trade(trade_id: int, symbol: str, mts: int, offer_id: int, amount: Decimal, rate: Decimal, period: int) -> list[Any]:
    """An account's funding trade: ``[ID, SYMBOL, MTS_CREATE, OFFER_ID, AMOUNT, RATE, PERIOD, MAKER]``
    (MAKER ``null``, see the module docstring)."""
    return [trade_id, symbol, mts, offer_id, wire(amount), wire(rate), period, None]
