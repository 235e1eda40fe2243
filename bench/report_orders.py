"""The order workload's targets and table: ``new_order`` → ``on-req`` against the stand-in."""

from __future__ import annotations

from typing import Any, Optional

from bench import report
from bench.clients import OFFICIAL, ROUND_TRIP_BASELINE, ROUND_TRIP_WSSCLIENT, ROUND_TRIP_WSSCLIENT_JSON
from bench.harness import ORDERS_RUN

ON_REQ_P99 = "orders/on_req_us/p99"


def targets(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The order targets: WssClient's ``on-req`` p99 against the bare client's and the official
    client's (paired ratios per repetition; lower is better)."""

    def ratio(client: str, reference: str) -> Optional[float]:
        return report.median_ratio(document, client, reference, ON_REQ_P99, ORDERS_RUN)

    found = []
    for client in (ROUND_TRIP_WSSCLIENT, ROUND_TRIP_WSSCLIENT_JSON):
        found.append(report.at_most(f"{client}: new_order → on-req p99 ≤ 1.2× the bare client's",
                             ratio(client, ROUND_TRIP_BASELINE), 1.2, "×"))
    found.append(report.at_most(f"{ROUND_TRIP_WSSCLIENT}: new_order → on-req p99 ≤ 0.5× bitfinex-api-py's",
                         ratio(ROUND_TRIP_WSSCLIENT, OFFICIAL), 0.5, "×"))
    return found


def render(document: dict[str, Any]) -> str:
    """The order workload's report."""
    settings = document["settings"]

    def orders(entry: dict[str, Any]) -> dict[str, Any]:
        return entry["measurements"].get(ORDERS_RUN, {})  # type: ignore[no-any-return]

    columns: list[report.Column] = [
        ("on-req p50/p99/p99.9 ms", lambda _name, entry: report.latency_cell(orders(entry), "orders/on_req_us")),
        ("p99 ×base", lambda name, _entry: _ratio_text(report.median_ratio(document, name, document["baseline"],
                                                                    ON_REQ_P99, ORDERS_RUN))),
        ("on p50/p99/p99.9 ms", lambda _name, entry: report.latency_cell(orders(entry), "orders/on_us")),
        ("worst on-req ms", lambda _name, entry: _worst(orders(entry))),
    ]
    title = (f"bitfinex-wss bench, orders workload, {document['started']}: {settings['round_trips']:,} orders per "
             f"run, one at a time, against the stand-in exchange ({document.get('standin') or 'the stand-in'} answers each at "
             f"once); new_order → on-req and → on at the client's callback; {_where(document.get('cpu'))}; "
             f"{settings['repetitions']} repetition(s) per client, "
             f"interleaved; medians of each run's percentiles; p99 ×base: median of per-repetition ratios to "
             f"'{document['baseline']}' (lower is better); took {document['duration_seconds']:.0f} s")
    return report.page(document, title, columns, (ON_REQ_P99, ORDERS_RUN, "on-req p99"))


def _where(cpu: Optional[int]) -> str:
    if cpu is None:
        return "the stand-in and the client on any CPU"
    return f"the stand-in and the client both on CPU {cpu}"


def _ratio_text(ratio: Optional[float]) -> str:
    return f"{ratio:.2f}×" if ratio else "-"


def _worst(measurement: dict[str, Any]) -> str:
    worst = measurement.get("orders/on_req_us/max")
    return report.number_cell({"median": worst["max"] / 1000} if worst else None)
