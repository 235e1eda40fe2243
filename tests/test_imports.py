"""What importing the package costs: the sans-I/O core and the pytest plugin load neither Twisted
nor autobahn, and the public names still import from the package roots.

Each check runs in a fresh interpreter (``sys.executable``), since this test process has long
imported everything. No timings are asserted; only which modules get loaded.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import bitfinex.protocol

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("twisted", "autobahn")

PROTOCOL_MODULES = sorted(f"bitfinex.protocol.{m.name}" for m in pkgutil.iter_modules(bitfinex.protocol.__path__))


def run_fresh(code: str) -> str:
    """Run ``code`` in a fresh interpreter from the project root; return its stdout."""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def heavy_modules_after(statement: str) -> list[str]:
    """The heavy top-level packages loaded by running ``statement`` in a fresh interpreter."""
    output = run_fresh(f"import json, sys\n{statement}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))")
    return [name for name in json.loads(output) if name in HEAVY]


def test_the_protocol_modules_are_found() -> None:
    assert "bitfinex.protocol.codec" in PROTOCOL_MODULES and len(PROTOCOL_MODULES) > 5


def test_importing_bitfinex_protocol_loads_no_twisted() -> None:
    assert heavy_modules_after("import bitfinex.protocol") == []


@pytest.mark.parametrize("module", PROTOCOL_MODULES)
def test_each_protocol_module_loads_no_twisted(module: str) -> None:
    assert heavy_modules_after(f"import {module}") == [], f"{module} imports Twisted or autobahn"


def test_the_pytest_plugin_loads_no_twisted() -> None:
    assert heavy_modules_after("import pytest\nimport bitfinex.testing.pytest_plugin") == []


def test_importing_the_packages_loads_no_twisted() -> None:
    assert heavy_modules_after("import bitfinex, bitfinex.testing") == []


def test_the_public_names_still_import() -> None:
    output = run_fresh(
        "import bitfinex, bitfinex.testing\n"
        "from bitfinex import WssClient, StatusEvent, utils, __version__\n"
        "from bitfinex.testing import LocalExchange\n"
        "import bitfinex.client, bitfinex.testing.exchange, bitfinex.protocol.status\n"
        "assert WssClient is bitfinex.WssClient is bitfinex.client.WssClient\n"
        "assert StatusEvent is bitfinex.protocol.status.StatusEvent\n"
        "assert LocalExchange is bitfinex.testing.LocalExchange is bitfinex.testing.exchange.LocalExchange\n"
        "assert utils.create_cid() > 0 and __version__\n"
        "print('ok')\n"
    )
    assert output.strip() == "ok"


def test_every_exported_name_imports_and_is_listed() -> None:
    output = run_fresh(
        "import bitfinex, bitfinex.testing\n"
        "for package in (bitfinex, bitfinex.testing):\n"
        "    assert set(package.__all__) <= set(dir(package)), package\n"
        "    for name in package.__all__:\n"
        "        getattr(package, name)\n"
        "exec('from bitfinex.testing import ' + ', '.join(bitfinex.testing.__all__))\n"
        "print('ok')\n"
    )
    assert output.strip() == "ok"


def test_an_unknown_name_is_an_attribute_error() -> None:
    import bitfinex.testing

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        bitfinex.testing.Nope  # noqa: B018
    with pytest.raises(ImportError):
        from bitfinex import Nope  # noqa: F401
