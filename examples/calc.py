"""calc: ask Bitfinex for margin, funding and wallet figures; they come back on the auth channel."""

from _common import Messages, account_message, connect

with connect(__doc__) as my_client:
    account = Messages("account: ")
    my_client.authenticate(account)
    my_client.start()
    my_client.calc(["margin_sym_tBTCUSD", "funding_sym_fUSD"])
    my_client.calc(["position_tBTCUSD"])
    my_client.calc(["wallet_exchange_USD"])
    account.wait_for(account_message("miu"))
    account.wait_for(account_message("fiu"))
    account.wait_for(lambda message: account_message("wu")(message) and message[2][:2] == ["exchange", "USD"])
