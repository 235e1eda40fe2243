"""funding_offer: offer 150 USD of margin funding for 2 days at twice the best offered rate (so
nobody takes it), print Bitfinex's notification and offer messages, then cancel the offer.

Against Bitfinex it needs 150 USD in the funding wallet."""

from decimal import Decimal

from _common import Messages, connect, data_frame, show


def about_offer(kind, offer_id):
    """Matches ``[0, kind, OFFER]`` for the offer with this id."""
    return lambda message: isinstance(message, list) and message[1] == kind and message[2][0] == offer_id


def notification(request):
    """Matches ``[0, "n", [MTS, request, ...]]``."""
    return lambda message: isinstance(message, list) and message[1] == "n" and message[2][1] == request


with connect(__doc__) as my_client:
    ticker = Messages("ticker: ")
    account = Messages("account: ")
    my_client.subscribe_to_ticker("fUSD", ticker)
    my_client.authenticate(account)
    my_client.start()
    funding_ticker = ticker.wait_for(data_frame)[1]  # [FRR, BID, BID_PERIOD, BID_SIZE, ASK, ...]
    frr, ask = funding_ticker[0], funding_ticker[4]
    rate = (Decimal(repr(ask)) * 2).quantize(Decimal("1e-8"))
    show("FRR:", frr, "best offer:", ask, "our rate:", rate)
    my_client.new_funding_offer(offer_type="LIMIT", symbol="fUSD", amount="150", rate=rate, period=2)
    submitted = account.wait_for(notification("fon-req"))
    show("status:", submitted[2][6], "-", submitted[2][7])
    offer_id = submitted[2][4][0]
    offer = account.wait_for(about_offer("fon", offer_id))
    show("offer:", offer_id, offer[2][10], "at", offer[2][14], "for", offer[2][15], "days")
    my_client.cancel_funding_offer(offer_id=offer_id)
    show("cancel:", account.wait_for(notification("foc-req"))[2][6])
    show("cancelled:", account.wait_for(about_offer("foc", offer_id))[2][10])
