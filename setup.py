"""Packaging for bitfinex-wss: a Twisted/autobahn client for the Bitfinex WebSocket API v2."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent

setup(
    name="bitfinex-wss",
    version="1.0.0",
    description=(
        "Callback-style Twisted/autobahn client for the Bitfinex WebSocket API v2, "
        "with a local Bitfinex-compatible exchange for tests"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
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
            "hypothesis>=6.90",
            "psutil>=5.9",
            "orjson>=3.9",  # the fast decoder most users run; bench smoke runs json rows without it
            "bitfinex-api-py==4.0.0",  # the official client, driven against the local exchange
            "sphinx>=7.2",  # the docs' examples are checked against what Sphinx renders
        ],
        "dev": ["sphinx>=7.2", "ruff>=0.5", "mypy>=1.10", "pytest>=7.4"],
    },
    entry_points={
        "console_scripts": ["bitfinex-wss = bitfinex.__main__:main"],
        "pytest11": ["bitfinex_exchange = bitfinex.testing.pytest_plugin"],
    },
    classifiers=[
        "Framework :: Twisted",
        "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 3",
        "Topic :: Office/Business :: Financial :: Investment",
        "Typing :: Typed",
    ],
)
