"""What Bitfinex echoes about an input in the ``{input}-req`` notification it answers with.

The client makes such a notification up for an input it could not send at all (see
:meth:`~bitfinex.protocol.account.AuthConnection.report_not_sent`), so that code reading
Bitfinex's own refusals reads these too.
"""

from __future__ import annotations

from typing import Any

from bitfinex.protocol.funding import echo_offer
from bitfinex.protocol.orders import echo_array


def echo_info(name: str, payload: Any) -> Any:
    """What a Bitfinex ``{name}-req`` notification carries at NOTIFY_INFO for ``payload``.

    - ``on``, ``oc``, ``ou``: the order array (cid at index 2);
    - ``oc_multi``: an order array per selected order (none for ``all``);
    - ``fon``, ``foc``: the funding offer array;
    - anything else (``calc``, for which Bitfinex sends no notification at all): the payload.
    """
    if name in ("on", "oc", "ou"):
        return echo_array(payload)
    if name in ("fon", "foc"):
        return echo_offer(payload)
    if name == "oc_multi":
        selected = [{"id": i} for i in payload.get("id", ())] + [{"cid": c[0]} for c in payload.get("cid", ())]
        selected += [{"gid": g} for g in payload.get("gid", ())]
        return [echo_array(fields) for fields in selected]
    return payload


def replies(name: str, payload: Any) -> list[tuple[str, Any]]:
    """The ``(request type, NOTIFY_INFO)`` of each notification Bitfinex answers an input with:
    one for most inputs; for an ``ox_multi``, one per operation, as if each were sent alone
    (docs ws-auth-input-order-multi-op; bitfinex-api-node ``ws2.js`` resolves the orders of an
    ``ox_multi`` from their own ``on-req``/``oc-req``)."""
    if name == "ox_multi":
        return [(f"{op}-req", echo_info(op, body)) for op, body in payload]
    return [(f"{name}-req", echo_info(name, payload))]
