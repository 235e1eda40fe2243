"""Every code example of the documentation runs, against the local exchange, so the docs cannot rot.

The examples are found where Sphinx renders them from: the ``.rst`` pages under ``docs/`` and the
docstrings their ``auto*`` directives pull in (``test_the_extractor_finds_what_sphinx_renders``
checks that nothing is missed). Each kind of block runs its own way:

- ``::`` literal blocks (the API reference's examples, in docstrings and pages) are fragments in
  the style of the original reference: they run in this process with ``key``, ``secret``,
  ``WssClient`` and ``datetime`` defined (and ``my_client``, authenticated and started, for a
  fragment that uses the shared client without making it), ``BITFINEX_WS_URL`` pointing at the
  local exchange and a recording ``session.jsonl`` in the working directory; once
  every client they made is authenticated and subscribed as asked, the clients are stopped, and
  none may have reported a refused subscription or auth, an unsent order or a failing callback;
- ``.. code-block:: python`` blocks are complete programs: each runs in a process of its own (a
  first line ``# test_NAME.py`` makes it a pytest file, run by pytest), with ``BITFINEX_WS_URL``,
  ``BITFINEX_KEY`` and ``BITFINEX_SECRET`` set for an account of its own, and must exit with 0;
- ``.. code-block:: console`` lines are commands: each ``bitfinex-wss``/``python -m bitfinex``
  command is parsed by the real command line, and those that stop by themselves (``--count`` or
  ``--seconds``, no ``--url``) run against the local exchange; other commands (``pip``, ...) are
  not run;
- ``.. code-block:: json`` blocks must parse, line by line; ``text`` blocks are output samples.

The original API reference's examples are run once, verbatim and with their frames checked on the
wire, by ``test_seed_examples.py``: this module checks the docs carry them and skips those
fragments.

Tiers: running the programs and commands (Python processes, run side by side) and building the
docs with Sphinx are ``slow`` (marked on those three tests); the rest is fast.
"""

from __future__ import annotations

import ast
import datetime
import importlib
import inspect
import io
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Optional

import pytest
from test_seed_examples import EXAMPLES as SEED_EXAMPLES

import bitfinex
from bitfinex import WssClient
from bitfinex.__main__ import _parser as cli_parser
from bitfinex.protocol import book, bookfeed
from bitfinex.testing import LocalExchange
from bitfinex.testing.__main__ import _parser as serve_parser

from helpers import KEY, SECRET, Inbox, wait_until

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PROGRAM_TIMEOUT = 90.0
"""Seconds a program or command may take (they run side by side, so under load)."""
SETTLE_TIMEOUT = 10.0
FAILURE_KINDS = {"auth_failed", "subscription_failed", "order_not_sent", "callback_error"}
"""Status events a working example never causes. (Not ``server_error``: the reference's own
``calc`` example asks for ``wallet_exachange_USD``, which the exchange refuses.)"""

AUTO_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. (?P<kind>auto\w+):: (?P<name>\S+)\s*$")
MANUAL_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. (?:py:)?(?P<kind>attribute|function|data|method|class):: (?P<name>[\w.]+)")
CURRENT_MODULE = re.compile(r"^\.\. (?:py:)?(?:currentmodule|module):: (?P<name>\S+)\s*$")
CODE_BLOCK = re.compile(r"^(?P<indent>\s*)\.\. code-block:: (?P<language>\S+)\s*$")
OPTION = re.compile(r"^\s*:(?P<name>[\w-]+):(?P<value>.*)$")


# -- finding the examples -------------------------------------------------------------------


@dataclass
class Block:
    """One literal block of the documentation."""

    where: str
    """``docs/page.rst:LINE`` or ``docstring of NAME``."""
    language: Optional[str]
    """The ``code-block`` language; ``None`` for a ``::`` literal block."""
    text: str
    owner: Optional[str] = None
    """The documented object the block belongs to (its docstring, or its directive's body)."""


@dataclass
class Directive:
    """An ``auto*`` (or hand-written object) directive of a page."""

    kind: str
    name: str
    indent: int
    options: dict[str, str] = field(default_factory=dict)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _body(lines: list[str], start: int, marker_indent: int) -> tuple[str, int]:
    """The indented block after line ``start`` (options skipped), dedented; and where it ends."""
    index = start + 1
    while index < len(lines) and lines[index].strip() and OPTION.match(lines[index]):
        index += 1
    body: list[str] = []
    while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > marker_indent):
        body.append(lines[index])
        index += 1
    return textwrap.dedent("\n".join(body)).strip("\n"), index


def literal_blocks(
    text: str, where: str, owner: Optional[str] = None, owners: Optional[list[tuple[int, str]]] = None
) -> list[Block]:
    """The ``::`` and ``code-block`` blocks of reST ``text``.

    :param owners: ``(indent, object)`` of the directives enclosing each line, from
        :func:`directives`, to attribute blocks in directive bodies to their object.
    """
    lines = text.splitlines()
    blocks = []
    for number, line in enumerate(lines):
        code = CODE_BLOCK.match(line)
        literal = line.rstrip().endswith("::") and not line.lstrip().startswith("..")
        if not (code or literal):
            continue
        content, _ = _body(lines, number, _indent(line))
        block_owner = owners[number][1] if owners else owner
        blocks.append(Block(f"{where}:{number + 1}", code.group("language") if code else None, content, block_owner))
    return blocks


def directives(text: str) -> tuple[list[Directive], list[tuple[int, str]]]:
    """The object directives of a page, with names made absolute, and per line the object whose
    directive body encloses it (``(-1, "")`` for none).

    Names resolve as Sphinx resolves them: inside a class's body, relative to the class; at the
    top, as given when that names an object, else relative to the current module (set by
    ``currentmodule`` and ``automodule``)."""
    found: list[Directive] = []
    stack: list[Directive] = []
    owners: list[tuple[int, str]] = []
    module = ""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.strip():
            while stack and _indent(line) <= stack[-1].indent:
                stack.pop()
        current = CURRENT_MODULE.match(line)
        if current:
            module = current.group("name")
        match = AUTO_DIRECTIVE.match(line) or MANUAL_DIRECTIVE.match(line)
        if match:
            kind = match.group("kind")
            name = match.group("name")
            options = _options(lines, number)
            if kind == "automodule":
                module = name
            if "module" in options:
                name = f"{options['module']}.{name}"
            elif "." not in name and stack:
                name = f"{stack[-1].name}.{name}"
            elif module and not stack and not _resolves(name):
                name = f"{module}.{name}"
            directive = Directive(kind, name, len(match.group("indent")), options)
            found.append(directive)
            stack.append(directive)
        owners.append((stack[-1].indent, stack[-1].name) if stack else (-1, ""))
    return found, owners


def _options(lines: list[str], number: int) -> dict[str, str]:
    options: dict[str, str] = {}
    index = number + 1
    name = None
    while index < len(lines) and lines[index].strip():
        option = OPTION.match(lines[index])
        if option:
            name = option.group("name")
            options[name] = option.group("value").strip()
        elif name is not None:
            options[name] += " " + lines[index].strip()
        else:
            break
        index += 1
    return options


def _resolves(name: str) -> bool:
    """Whether a dotted name designates an object as it stands (a module path included)."""
    try:
        resolve(name)
    except (ImportError, AttributeError):
        return False
    return True


def resolve(name: str) -> Any:
    """The object a dotted name designates (module, class, function, member)."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            target = inspect.getattr_static(target, attribute) if inspect.isclass(target) else getattr(target, attribute)
        return target
    raise ImportError(name)


def documented_members(directive: Directive) -> list[str]:
    """The dotted names of what an ``auto*`` directive documents: its object, and its members
    when ``:members:`` is given (the listed ones, or autodoc's choice: ``__all__`` for modules,
    the public names with a docstring defined on the class itself for classes)."""
    names = [directive.name]
    if "members" not in directive.options:
        return names
    listed = [m.strip() for m in directive.options["members"].split(",") if m.strip()]
    target = resolve(directive.name)
    if listed:
        members = listed
    elif inspect.ismodule(target):
        members = list(getattr(target, "__all__", []))
    else:
        members = [
            member for member, value in vars(target).items()
            if not member.startswith("_") and inspect.getdoc(value) and _own_doc(value)
        ]
    return names + [f"{directive.name}.{member}" for member in members]


def _own_doc(value: Any) -> bool:
    """Whether a class member is something autodoc documents with its own docstring."""
    return isinstance(value, (property, staticmethod, classmethod)) or inspect.isfunction(value)


def docstring_of(name: str) -> Optional[str]:
    """The docstring autodoc renders for ``name``: a module's, a class's (not its
    ``__init__``'s), a function's or a property's; ``None`` for data, whose documentation is a
    comment string this module does not read (it holds no examples)."""
    target = resolve(name)
    if isinstance(target, (staticmethod, classmethod)):
        target = target.__func__
    if isinstance(target, property):
        target = target.fget
    if not (inspect.ismodule(target) or inspect.isclass(target) or inspect.isroutine(target)):
        return None
    return inspect.cleandoc(target.__doc__) if target.__doc__ else None


@dataclass
class Documentation:
    """What the documentation holds."""

    blocks: list[Block]
    documented: set[str]


def read_documentation() -> Documentation:
    """Collect every literal block of the pages and of the docstrings their directives pull in."""
    blocks: list[Block] = []
    documented: set[str] = set()
    seen_docstrings: set[str] = set()
    for page in sorted(DOCS.rglob("*.rst")):
        if "_build" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        where = str(page.relative_to(ROOT))
        found, owners = directives(text)
        blocks.extend(literal_blocks(text, where, owners=owners))
        for directive in found:
            if not directive.kind.startswith("auto"):
                documented.add(directive.name)
                continue
            for name in documented_members(directive):
                documented.add(name)
                doc = docstring_of(name) if name not in seen_docstrings else None
                if doc is not None:
                    seen_docstrings.add(name)
                    blocks.extend(literal_blocks(doc, f"docstring of {name}", owner=name))
    return Documentation(blocks, documented)


DOCUMENTATION = read_documentation()
FRAGMENTS = [b for b in DOCUMENTATION.blocks if b.language is None]
REFERENCE_EXAMPLES = {name: code for name, (code, _) in SEED_EXAMPLES.items()}
"""The original reference's examples (``test_seed_examples.py`` runs them)."""
PROGRAMS = [b for b in DOCUMENTATION.blocks if b.language == "python"]
COMMANDS = [
    (block.where, line[2:].strip())
    for block in DOCUMENTATION.blocks if block.language == "console"
    for line in block.text.splitlines() if line.startswith("$ ")
]


def _normalized(code: str) -> str:
    return "\n".join(line.strip() for line in code.strip().splitlines() if line.strip())


def is_reference_example(block: Block) -> bool:
    """Whether a fragment is one of the original reference's examples, run elsewhere."""
    return any(_normalized(block.text) == _normalized(code) for code in REFERENCE_EXAMPLES.values())


# -- the documentation is complete ----------------------------------------------------------


def public_names() -> list[str]:
    """Every public name the API reference must document."""
    from bitfinex import recording, utils
    from bitfinex.testing import Faults, replay

    names = [f"bitfinex.WssClient.{n}" for n, v in vars(WssClient).items() if not n.startswith("_")]
    names += [f"bitfinex.utils.{n}" for n in utils.__all__]
    names += [f"bitfinex.protocol.book.{n}" for n in book.__all__]
    names += [f"bitfinex.protocol.bookfeed.{n}" for n in bookfeed.__all__]
    names += [f"bitfinex.testing.{n}" for n in importlib.import_module("bitfinex.testing").__all__]
    names += [f"bitfinex.testing.LocalExchange.{n}" for n in vars(LocalExchange) if not n.startswith("_")]
    names += [f"bitfinex.testing.Faults.{n}" for n in vars(Faults) if not n.startswith("_")]
    names += [f"bitfinex.recording.{n}" for n in recording.__all__]
    names += [f"bitfinex.testing.replay.{n}" for n in replay.__all__]
    return [*names, "bitfinex.StatusEvent", "bitfinex.testing.pytest_plugin.bitfinex_exchange"]


def test_the_api_reference_documents_every_public_name() -> None:
    missing = [name for name in public_names() if name not in DOCUMENTATION.documented]
    assert not missing


def test_every_method_of_the_client_has_a_complete_example() -> None:
    with_examples = {b.owner for b in DOCUMENTATION.blocks if b.language is None}
    methods = [f"bitfinex.WssClient.{n}" for n, v in vars(WssClient).items() if not n.startswith("_")]
    assert [m for m in methods if m not in with_examples] == []


SUPERSEDED_EXAMPLES = {
    "cancel_order_cid": "datetime.utcfromtimestamp",  # deprecated since Python 3.12: two warnings per run
}
"""Reference examples the docs replace, with what in them a user should no longer copy
(test_seed_examples.py still runs each verbatim)."""


@pytest.mark.parametrize("name", sorted(set(REFERENCE_EXAMPLES) - {"quickstart", *SUPERSEDED_EXAMPLES}))
def test_the_docs_carry_the_original_reference_example(name: str) -> None:
    code = _normalized(REFERENCE_EXAMPLES[name])
    assert any(code == _normalized(block.text) for block in FRAGMENTS), f"the reference's {name} example is not in the docs"


@pytest.mark.parametrize(("name", "outdated"), sorted(SUPERSEDED_EXAMPLES.items()))
def test_superseded_reference_examples_are_nowhere_in_the_docs(name: str, outdated: str) -> None:
    assert outdated in REFERENCE_EXAMPLES[name]
    assert [block.where for block in DOCUMENTATION.blocks if outdated in block.text] == []


def test_every_block_has_a_known_kind() -> None:
    kinds = {block.language for block in DOCUMENTATION.blocks}
    assert kinds <= {None, "python", "console", "json", "text"}


@pytest.mark.parametrize("block", [b for b in DOCUMENTATION.blocks if b.language == "json"], ids=lambda b: b.where)
def test_json_examples_parse(block: Block) -> None:
    for line in block.text.splitlines():
        json.loads(line)


@pytest.mark.slow
def test_the_extractor_finds_what_sphinx_renders(tmp_path: Path) -> None:
    """This module finds its examples without Sphinx; this test proves it finds what Sphinx
    renders, no more, no less."""
    pytest.importorskip("sphinx")
    from docutils import nodes
    from sphinx.application import Sphinx

    warnings = io.StringIO()
    app = Sphinx(str(DOCS), str(DOCS), str(tmp_path / "out"), str(tmp_path / "doctrees"), "dummy",
                 status=None, warning=warnings, freshenv=True)
    app.build()
    assert warnings.getvalue() == ""
    rendered = Counter(
        (node.get("language"), _normalized(node.astext()))
        for docname in app.env.found_docs
        for node in app.env.get_doctree(docname).findall(nodes.literal_block)
    )
    found = Counter((block.language, _normalized(block.text)) for block in DOCUMENTATION.blocks)
    assert rendered == found


# -- running them ---------------------------------------------------------------------------


class Accounts:
    """Hands each example an account of its own on the docs' exchange."""

    def __init__(self, exchange: LocalExchange) -> None:
        self.exchange = exchange
        self._count = 0
        self._lock = threading.Lock()

    def new(self) -> tuple[str, str]:
        with self._lock:
            self._count += 1
            key, secret = f"docs-key-{self._count}", f"docs-secret-{self._count}"
        self.exchange.add_account(key, secret)
        return key, secret

    def environment(self) -> dict[str, str]:
        key, secret = self.new()
        return {**os.environ, "BITFINEX_WS_URL": self.exchange.url, "BITFINEX_KEY": key, "BITFINEX_SECRET": secret}


@pytest.fixture(scope="module")
def accounts() -> Iterator[Accounts]:
    """The exchange every example of this module runs against (one for the module: the programs
    run side by side on it), each with an account of its own."""
    with LocalExchange(KEY, SECRET, heartbeat_interval=0.5, tick_interval=0.05) as exchange:
        yield Accounts(exchange)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, accounts: Accounts) -> Path:
    """The directory examples run in, holding the ``session.jsonl`` recording they may replay."""
    directory = tmp_path_factory.mktemp("docs-examples")
    key, secret = accounts.new()
    client = WssClient(key, secret, url=accounts.exchange.url, record=directory / "session.jsonl")
    messages = Inbox("recording")
    client.subscribe_to_ticker("BTCUSD", messages)
    client.start()
    messages.wait_for(lambda m: isinstance(m, list), count=3)
    client.stop()
    return directory


@dataclass
class Outcome:
    status: int
    output: str


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=PROGRAM_TIMEOUT)
    except subprocess.TimeoutExpired as expired:
        return Outcome(-1, f"timed out after {PROGRAM_TIMEOUT} s: {expired.stdout!r} {expired.stderr!r}")
    return Outcome(done.returncode, done.stdout[-3000:] + done.stderr[-3000:])


def _program_command(block: Block, directory: Path) -> list[str]:
    first_line = block.text.splitlines()[0]
    test_file = re.fullmatch(r"#\s*(test_\w+\.py)\s*", first_line)
    if test_file:
        (directory / test_file.group(1)).write_text(block.text, encoding="utf-8")
        return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file.group(1)]
    return [sys.executable, "-c", block.text]


def _runs_by_itself(command: str) -> bool:
    words = shlex.split(command, comments=True)
    return ("--count" in words or "--seconds" in words) and "--url" not in words


def _cli_arguments(command: str) -> Optional[list[str]]:
    """The arguments of a ``bitfinex-wss`` / ``python -m bitfinex`` command (``None`` for others)."""
    words = shlex.split(command, comments=True)
    if words[:1] == ["bitfinex-wss"]:
        return words[1:]
    if words[:3] == ["python", "-m", "bitfinex"]:
        return words[3:]
    if words[:3] == ["python", "-m", "bitfinex.testing"]:
        return ["serve", *words[3:]]
    return None


@pytest.fixture(scope="module")
def outcomes(accounts: Accounts, workdir: Path) -> dict[str, Outcome]:
    """Every program and self-stopping command, run side by side."""
    jobs: dict[str, tuple[list[str], Path]] = {}
    for number, block in enumerate(PROGRAMS):
        directory = workdir / f"program-{number}"
        directory.mkdir()
        for recording in workdir.glob("*.jsonl"):
            (directory / recording.name).write_bytes(recording.read_bytes())
        jobs[block.where] = (_program_command(block, directory), directory)
    for where, command in COMMANDS:
        arguments = _cli_arguments(command)
        if arguments is not None and _runs_by_itself(command):
            jobs[f"{where}: {command}"] = ([sys.executable, "-m", "bitfinex", *arguments], workdir)
    with ThreadPoolExecutor(max_workers=len(jobs) or 1) as pool:
        futures = {name: pool.submit(_run, command, cwd, accounts.environment()) for name, (command, cwd) in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("block", PROGRAMS, ids=lambda b: b.where)
def test_program_examples_run(block: Block, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[block.where]
    assert outcome.status == 0, outcome.output


@pytest.mark.slow
@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=[f"{w}: {c}" for w, c in COMMANDS])
def test_command_examples_are_valid_and_run(where: str, command: str, outcomes: dict[str, Outcome]) -> None:
    arguments = _cli_arguments(command)
    if arguments is None:
        return  # pip, pytest, sphinx...: not this project's commands
    parsed, rest = cli_parser().parse_known_args(arguments)
    if parsed.command == "serve":
        serve_parser().parse_args(rest)
    else:
        assert rest == []
    if _runs_by_itself(command):
        outcome = outcomes[f"{where}: {command}"]
        assert outcome.status == 0, outcome.output


def _used_before_made(code: str) -> set[str]:
    """Names a fragment reads but never assigns."""
    names = [node for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)]
    return {n.id for n in names if isinstance(n.ctx, ast.Load)} - {n.id for n in names if isinstance(n.ctx, ast.Store)}


class TrackedClient(WssClient):
    """The ``WssClient`` fragments get: records what happens to it, so the test can wait until
    it did what the fragment asked and check that nothing failed."""

    made: ClassVar[list[TrackedClient]] = []
    """The clients the fragment being run made."""

    def __init__(self, *args: Any, status_callback: Any = None, **kwargs: Any) -> None:
        self.statuses = Inbox("statuses")
        self.authenticating = False

        def report(event: Any) -> None:
            self.statuses(event)
            if status_callback is not None:
                status_callback(event)

        super().__init__(*args, status_callback=report, **kwargs)
        TrackedClient.made.append(self)

    def authenticate(self, *args: Any, **kwargs: Any) -> None:
        self.authenticating = True
        super().authenticate(*args, **kwargs)

    def settle(self) -> None:
        """Wait until it is authenticated (if asked) and every subscription still wanted is live."""
        if not self._started or self._stopped:
            return
        if self.authenticating:
            self.statuses.wait_kind("authenticated", SETTLE_TIMEOUT)
        for identifier in self.subscriptions:  # polled: a subscription ended before it was asked for reports nothing
            wait_until(
                lambda i=identifier: i not in self.subscriptions
                or any(e.kind == "subscribed" and e.subscription == i for e in self.statuses.items),
                SETTLE_TIMEOUT,
                f"{identifier} subscribed",
            )


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(b, marks=pytest.mark.skip(reason="a reference example: test_seed_examples.py runs it verbatim"))
        if is_reference_example(b) else b
        for b in FRAGMENTS
    ],
    ids=lambda b: b.where,
)
def test_fragment_examples_run(block: Block, accounts: Accounts, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key, secret = accounts.new()
    monkeypatch.setenv("BITFINEX_WS_URL", accounts.exchange.url)
    monkeypatch.setenv("BITFINEX_KEY", key)
    monkeypatch.setenv("BITFINEX_SECRET", secret)
    monkeypatch.setattr(bitfinex, "WssClient", TrackedClient)
    monkeypatch.chdir(workdir)
    TrackedClient.made = []
    namespace: dict[str, Any] = {"key": key, "secret": secret, "WssClient": TrackedClient, "datetime": datetime.datetime}
    try:
        if "my_client" in _used_before_made(block.text):  # "create and authenticate a client once, then reuse it"
            namespace["my_client"] = TrackedClient(key, secret)
            namespace["my_client"].authenticate(print)
            namespace["my_client"].start()
        exec(compile(block.text, block.where, "exec"), namespace)
        for client in TrackedClient.made:
            client.settle()
    finally:
        for client in TrackedClient.made:
            client.stop()
    failures = [e.describe() for c in TrackedClient.made for e in c.statuses.items if e.kind in FAILURE_KINDS]
    assert failures == []


CODE_WIDTH = 88
"""Characters of a code line that show whole at a 1280 px window (docs/_static/wide-code.css);
``text`` blocks (program output, printed as it comes) wrap instead."""


def test_code_fits_the_page() -> None:
    """Code a reader copies is never clipped behind a scrollbar."""
    too_wide = [
        f"{block.where}: {line}"
        for block in DOCUMENTATION.blocks
        if block.language != "text"
        for line in block.text.splitlines()
        if len(line) > CODE_WIDTH
    ]
    assert not too_wide, "\n".join(too_wide)


SEED_JARGON = re.compile(r"\bseed(?:'s| API| library| documents)\b", re.IGNORECASE)
"""The team's old name for the original library ("the seed's nonce scale"); the simulation's
``seed=`` parameter is a real seed and stays."""


def test_the_docs_speak_of_the_original_library_not_the_seed() -> None:
    sources = [*DOCS.rglob("*.rst"), *(ROOT / "bitfinex").rglob("*.py"), ROOT / "README.md"]
    jargon = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        if "_build" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SEED_JARGON.search(line)
    ]
    assert not jargon, "\n".join(jargon)
