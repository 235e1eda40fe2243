"""Order input builders: exact payloads and every validation error, before anything is sent."""

import datetime
from decimal import Decimal

import pytest

from bitfinex.protocol import funding, orders
from bitfinex.protocol.constants import ORDER_TYPES, OrderFlag
from bitfinex.protocol.echoes import echo_info


def test_limit_order_payload_is_exactly_what_the_protocol_wants():
    payload = orders.new_order_payload("LIMIT", "BTCUSD", 0.004, 1000.0, cid=1700000000000)
    assert payload == {"cid": 1700000000000, "type": "LIMIT", "symbol": "tBTCUSD", "amount": "0.004", "price": "1000.0"}


def test_hidden_becomes_the_hidden_flag_and_no_hidden_field():
    payload = orders.new_order_payload("LIMIT", "BTCUSD", "1", "500", hidden=True)
    assert "hidden" not in payload
    assert payload["flags"] == OrderFlag.HIDDEN


def test_flags_are_combined_bitwise_so_repeats_do_not_change_meaning():
    payload = orders.new_order_payload("LIMIT", "BTCUSD", "1", "500", hidden=1, flags=[64, 4096, 4096])
    assert payload["flags"] == 64 | 4096


def test_no_flags_no_flags_field():
    assert "flags" not in orders.new_order_payload("LIMIT", "BTCUSD", "1", "500")


@pytest.mark.parametrize("value, text", [
    (0.004, "0.004"), (1e-8, "0.00000001"), (Decimal("1E+3"), "1000"), ("1000.0", "1000.0"),
    (3, "3"), (-0.1, "-0.1"), ("2e-8", "0.00000002"), (0.1 + 0.2, "0.30000000000000004"),
])
def test_amounts_are_decimal_strings_without_float_artefacts(value, text):
    assert orders.new_order_payload("EXCHANGE MARKET", "BTCUSD", value, None)["amount"] == text


@pytest.mark.parametrize("order_type", sorted(ORDER_TYPES))
def test_every_order_type_is_accepted_with_what_it_needs(order_type):
    extra = {}
    if order_type.endswith("TRAILING STOP"):
        extra["price_trailing"] = "10"
    if order_type.endswith("STOP LIMIT"):
        extra["price_aux_limit"] = "99"
    payload = orders.new_order_payload(order_type.lower(), "tETHUSD", "-1", "100", **extra)
    assert payload["type"] == order_type


def test_market_order_may_omit_price():
    assert "price" not in orders.new_order_payload("MARKET", "BTCUSD", "1", None)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(order_type_="LIMITED"), ValueError, "order_type"),
    (dict(order_type_=5), TypeError, "order_type"),
    (dict(amount=0), ValueError, "amount"),
    (dict(amount="0.000"), ValueError, "amount"),
    (dict(amount=True), TypeError, "amount"),
    (dict(amount="1,5"), ValueError, "amount"),
    (dict(amount=float("nan")), ValueError, "amount"),
    (dict(price=None), ValueError, "price"),
    (dict(price=-5), ValueError, "price"),
    (dict(symbol="fUSD"), ValueError, "symbol"),
    (dict(symbol=7), TypeError, "symbol"),
    (dict(symbol="BTC/USD"), ValueError, "symbol"),
    (dict(flags="64"), TypeError, "flags"),
    (dict(flags=[-1]), ValueError, "flags"),
    (dict(tif="tomorrow"), ValueError, "tif"),
    (dict(order_type_="TRAILING STOP"), ValueError, "price_trailing"),
    (dict(order_type_="STOP LIMIT"), ValueError, "price_aux_limit"),
    (dict(flags=[OrderFlag.OCO]), ValueError, "price_oco_stop"),
    (dict(cid=2**45), ValueError, "cid"),
    (dict(gid=-1), ValueError, "gid"),
    (dict(gid=2**31), ValueError, "gid"),
    (dict(gid="seven"), TypeError, "gid"),
    (dict(lev=5), ValueError, "lev"),
    (dict(symbol="tBTCF0:USTF0", lev=0), ValueError, "lev"),
    (dict(symbol="tBTCF0:USTF0", lev=101), ValueError, "lev"),
    (dict(symbol="tBTCF0:USTF0", lev=2.5), TypeError, "lev"),
    (dict(symbol="tBTCF0:USTF0", order_type_="EXCHANGE LIMIT", lev=10), ValueError, "lev"),
    (dict(meta=["aff_code"]), TypeError, "meta"),
    (dict(meta={1: "x"}), TypeError, "meta"),
    (dict(meta={"x": float("nan")}), ValueError, "meta"),
    (dict(meta={"x": object()}), ValueError, "meta"),
])
def test_bad_input_raises_naming_the_argument(kwargs, error, words):
    arguments = dict(order_type_="LIMIT", symbol="BTCUSD", amount="1", price="100")
    arguments.update(kwargs)
    with pytest.raises(error, match=words):
        orders.new_order_payload(**arguments)


def test_oco_price_sets_the_oco_flag_and_tif_datetime_is_utc_text():
    tif = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    payload = orders.new_order_payload("LIMIT", "BTCUSD", "1", "100", price_oco_stop="90", tif=tif)
    assert payload["flags"] == OrderFlag.OCO and payload["price_oco_stop"] == "90"
    assert payload["tif"] == "2030-01-02 01:04:05"


def test_cancel_payloads():
    assert orders.cancel_payload(1234) == {"id": 1234}
    assert orders.cancel_payload(cid=153925861909296, cid_date="2018-10-11") == {"cid": 153925861909296, "cid_date": "2018-10-11"}
    with pytest.raises(ValueError, match="order_id"):
        orders.cancel_payload()
    with pytest.raises(ValueError, match="not both"):
        orders.cancel_payload(1, cid=2, cid_date="2020-01-01")
    with pytest.raises(ValueError, match="order_date"):
        orders.cancel_payload(cid=2, cid_date="2020-02-30")
    with pytest.raises(ValueError, match="order_id"):
        orders.cancel_payload(0)


def test_update_payload_takes_only_protocol_fields_as_decimal_strings():
    assert orders.update_payload({"id": 5, "price": 510.5, "amount": "0.5", "delta": -0.1}) == {
        "id": 5, "price": "510.5", "amount": "0.5", "delta": "-0.1"}
    with pytest.raises(TypeError, match="hidden"):
        orders.update_payload({"id": 5, "hidden": 1})
    with pytest.raises(ValueError, match="id"):
        orders.update_payload({"price": 1})


def test_multi_order_classifies_every_accepted_shape():
    new = orders.new_order_payload("LIMIT", "BTCUSD", "1", "100", cid=42)
    items = [new, {"id": 1}, {"cid": 7, "cid_date": "2024-05-01"}, {"id": 3, "price": "101"},
             {"id": [1, 2]}, {"cid": [[7, "2024-05-01"]]}, {"gid": [11]}, {"all": 1},
             ("oc", {"id": 9}), ["ou", {"id": 4, "amount": 2}]]
    names = [orders.classify_operation(item)[0] for item in items]
    assert names == ["on", "oc", "oc", "ou", "oc_multi", "oc_multi", "oc_multi", "oc_multi", "oc", "ou"]
    assert orders.classify_operation(["ou", {"id": 4, "amount": 2}])[1] == {"id": 4, "amount": "2"}


@pytest.mark.parametrize("item", [{"foo": 1}, ("cancel", {"id": 1}), 5, {"type": "LIMIT", "symbol": "BTCUSD"}, {"all": 2}])
def test_multi_order_refuses_what_it_cannot_send(item):
    with pytest.raises((ValueError, TypeError)):
        orders.classify_operation(item)


def test_multi_messages_split_at_75_ops_in_order():
    ops = [("oc", {"id": n}) for n in range(1, 152)]
    messages = orders.multi_messages(ops)
    assert [len(m[3]) for m in messages] == [75, 75, 1]
    assert messages[0][:3] == [0, "ox_multi", None]
    assert [op[1]["id"] for m in messages for op in m[3]] == list(range(1, 152))


def test_calc_sends_one_row_per_calculation_and_takes_the_seeds_list_form():
    names = orders.calc_requests((["margin_sym_tBTCUSD", "funding_sym_fUSD"],))
    assert orders.calc_message(names) == [0, "calc", None, [["margin_sym_tBTCUSD"], ["funding_sym_fUSD"]]]
    assert orders.calc_requests(("position_tBTCUSD", "balance", "margin_base")) == ["position_tBTCUSD", "balance", "margin_base"]


@pytest.mark.parametrize("calculations, error", [
    ((), ValueError), ((["x"],), ValueError), ((["margin_sym_"],), ValueError),
    ((["wallet_margin_USD"] * 31,), ValueError), ((5,), TypeError), (([5],), TypeError),
])
def test_calc_validation(calculations, error):
    with pytest.raises(error):
        orders.calc_requests(calculations)


def test_lev_gid_and_meta_go_on_the_wire_as_given():
    payload = orders.new_order_payload("LIMIT", "tBTCF0:USTF0", "0.01", "30000", gid=7, lev=25,
                                       meta={"aff_code": "abc"})
    assert payload == {"gid": 7, "type": "LIMIT", "symbol": "tBTCF0:USTF0", "amount": "0.01", "price": "30000",
                       "lev": 25, "meta": {"aff_code": "abc"}}


@pytest.mark.parametrize("kwargs, payload", [
    (dict(ids=[1, 2]), {"id": [1, 2]}),
    (dict(gids=[7]), {"gid": [7]}),
    (dict(cids=[1_700_000_000_000, (5, "2024-05-01")]), {"cid": [[1_700_000_000_000, "2023-11-14"], [5, "2024-05-01"]]}),
    (dict(ids=[3], gids=[4]), {"id": [3], "gid": [4]}),
    (dict(all=True), {"all": 1}),
])
def test_cancel_multi_payloads(kwargs, payload):
    assert orders.cancel_multi_payload(**kwargs) == payload


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(), ValueError, "needs ids"),
    (dict(ids=[]), ValueError, "ids"),
    (dict(ids="12"), TypeError, "ids"),
    (dict(ids=[0]), ValueError, "ids"),
    (dict(gids=[2**31]), ValueError, "gids"),
    (dict(cids=[(1, 2, 3)]), ValueError, "cids"),
    (dict(cids=[(1, "May 1st")]), ValueError, "cids date"),
    (dict(cids=[12]), ValueError, "timestamp"),
    (dict(all=True, ids=[1]), ValueError, "all=True"),
    (dict(all=1), TypeError, "all"),
])
def test_cancel_multi_refuses_what_it_cannot_send(kwargs, error, words):
    with pytest.raises(error, match=words):
        orders.cancel_multi_payload(**kwargs)


def test_a_not_sent_order_is_echoed_as_bitfinex_echoes_an_order():
    payload = orders.new_order_payload("EXCHANGE LIMIT", "BTCUSD", "-0.5", "30000.5", cid=123, gid=4, flags=[4096])
    array = echo_info("on", payload)
    assert len(array) == 32 and array[0] is None and array[1] == 4 and array[2] == 123 and array[3] == "tBTCUSD"
    assert array[6] == array[7] == -0.5 and array[8] == "EXCHANGE LIMIT" and array[12] == 4096 and array[16] == 30000.5
    assert echo_info("oc", {"cid": 9, "cid_date": "2024-05-01"})[2] == 9
    assert [row[0] for row in echo_info("oc_multi", {"id": [1, 2]})] == [1, 2]


@pytest.mark.parametrize("kwargs, payload", [
    (dict(kind="LIMIT", symbol="fUSD", amount="100", rate="0.0002", period=2),
     {"type": "LIMIT", "symbol": "fUSD", "amount": "100", "rate": "0.0002", "period": 2, "flags": 0}),
    (dict(kind="frrdeltavar", symbol="USD", amount=-50, rate=0, period=120, flags=[64]),
     {"type": "FRRDELTAVAR", "symbol": "fUSD", "amount": "-50", "rate": "0", "period": 120, "flags": 64}),
    (dict(kind="FRRDELTAFIX", symbol="fBTC", amount=0.5, rate=-0.0001, period=30),
     {"type": "FRRDELTAFIX", "symbol": "fBTC", "amount": "0.5", "rate": "-0.0001", "period": 30, "flags": 0}),
])
def test_funding_offer_payloads(kwargs, payload):
    assert funding.funding_offer_payload(**kwargs) == payload


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(amount=0), ValueError, "amount"),
    (dict(amount=float("nan")), ValueError, "amount"),
    (dict(rate=0), ValueError, "rate"),
    (dict(rate=-0.001), ValueError, "rate"),
    (dict(rate="nan"), ValueError, "rate"),
    (dict(kind="FRRDELTAVAR", rate=-0.0001), ValueError, "rate"),
    (dict(period=1), ValueError, "period"),
    (dict(period=121), ValueError, "period"),
    (dict(period=2.5), TypeError, "period"),
    (dict(symbol="tBTCUSD"), ValueError, "symbol"),
    (dict(symbol="BTCUSD"), ValueError, "symbol"),
    (dict(kind="MARKET"), ValueError, "offer_type"),
    (dict(kind=None), TypeError, "offer_type"),
    (dict(flags=[4096]), ValueError, "flags"),
])
def test_funding_offers_refuse_bad_input_naming_the_argument(kwargs, error, words):
    settings = {"kind": "LIMIT", "symbol": "fUSD", "amount": "100", "rate": "0.0002", "period": 2, **kwargs}
    with pytest.raises(error, match=words):
        funding.funding_offer_payload(**settings)


def test_funding_offer_cancel_and_echo():
    assert funding.cancel_offer_payload(41238934) == {"id": 41238934}
    with pytest.raises(ValueError, match="offer_id"):
        funding.cancel_offer_payload(0)
    echo = echo_info("fon", funding.funding_offer_payload("LIMIT", "fUSD", "100", "0.0002", 2))
    assert len(echo) == 21 and echo[1] == "fUSD" and echo[4] == echo[5] == 100.0 and echo[14] == 0.0002 and echo[15] == 2
