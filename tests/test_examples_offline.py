"""An example that gets no answer says why in one line (the client's last connection problem)
and exits with 1, instead of a bare ``TimeoutError`` traceback."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def examples_common(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """``examples/_common.py``, imported as the examples import it, with the example's argv."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setattr(sys, "argv", ["subscribe_to_ticker.py"])
    import _common

    _common._problems.clear()
    yield _common
    sys.modules.pop("_common", None)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_answer_is_one_line_naming_the_connection_problem(
    examples_common: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BITFINEX_WS_URL", f"ws://127.0.0.1:{closed_port()}")
    messages = examples_common.Messages()  # type: ignore[attr-defined]
    with pytest.raises(SystemExit) as exited, examples_common.connect("an example") as client:  # type: ignore[attr-defined]
        client.subscribe_to_ticker("BTCUSD", messages)
        client.start()
        messages.wait_for(lambda message: True, timeout=2.0)
    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith("subscribe_to_ticker.py: no answer within 2.0 s from Bitfinex (--local: the local exchange")
    assert "the last connection problem: disconnected on public-1 (could not connect: ConnectionRefusedError" in error
    assert error.count("\n") == 1 and "Traceback" not in error
