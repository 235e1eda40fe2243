"""Authenticate and print the account snapshots Bitfinex sends (orders, positions, wallets)."""

from _common import Messages, account_message, connect

with connect(__doc__) as my_client:
    handle_account_messages = Messages()
    my_client.authenticate(callback=handle_account_messages)
    my_client.start()
    handle_account_messages.wait_for(account_message("ws"))
