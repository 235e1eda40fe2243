"""Packaging for bitfinex-wss: a Twisted/autobahn client for the Bitfinex WebSocket API v2."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent

DOCS = [
    "sphinx>=7.2,<9",
    "sphinx-autodoc-typehints>=2.0,<3.6",  # 3.6 needs Sphinx 9, and warns of its deprecations there
    "furo>=2024.1",
    "sphinx-copybutton>=0.5",
]
"""What the docs build with: Sphinx, furo, copy buttons, type hints as users write them."""

setup(
    name="bitfinex-wss",
    version="1.0.0",
    description=(
        "Callback-style Twisted/autobahn client for the Bitfinex WebSocket API v2, "
        "with a local Bitfinex-compatible exchange for tests"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license_expression="MIT",
    license_files=["LICENSE"],
    project_urls={
        "Bitfinex WebSocket API v2": "https://docs.bitfinex.com/docs/ws-general",
    },
    python_requires=">=3.9",
    packages=find_packages(include=["bitfinex", "bitfinex.*"]),
    package_data={"bitfinex": ["py.typed"]},
    install_requires=[
        "twisted>=23.10",
        "autobahn>=23.6,<27",
        "pyopenssl>=23.2",
        "service_identity>=23.1",
    ],
    extras_require={
        "fast": ["orjson>=3.9"],
        "bench": ["orjson>=3.9", "bitfinex-api-py==4.0.0"],
        "test": [
            "pytest>=7.4",
            "pytest-timeout>=2.2",
            "pytest-xdist>=3.5",  # the suite runs on every core: under half the time on two
            # autobahn before 26 (all Python 3.9 gets) unmasks client frames in pure Python unless
            # wsaccel is there: the local exchange's hostile suite (900 KB frames) took 143 s, 32 s with it
            'wsaccel>=0.6; python_version < "3.10"',
            "hypothesis>=6.90",
            "psutil>=5.9",
            "orjson>=3.9",  # the fast decoder most users run; bench smoke runs json rows without it
            "bitfinex-api-py==4.0.0",  # the official client, driven against the local exchange
            *DOCS,  # the docs' examples are checked against what Sphinx renders
        ],
        "docs": DOCS,
        "dev": [*DOCS, "ruff>=0.5", "mypy>=1.10", "pytest>=7.4"],
    },
    entry_points={
        "console_scripts": ["bitfinex-wss = bitfinex.__main__:main"],
        "pytest11": ["bitfinex_exchange = bitfinex.testing.pytest_plugin"],
    },
    classifiers=[
        "Development Status :: 5 - Production/Stable",
        "Framework :: Pytest",
        "Framework :: Twisted",
        "Intended Audience :: Developers",
        "Intended Audience :: Financial and Insurance Industry",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Office/Business :: Financial :: Investment",
        "Topic :: Software Development :: Libraries",
        "Typing :: Typed",
    ],
)
