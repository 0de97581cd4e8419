"""Strict settings for every test: implicit rank promotion is an error, and the command
line shows the traceback of any error that no check of its own turned into a message."""

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture(autouse=True)
def _cli_debug(monkeypatch):
    # the CLI's last-resort catch would hide a missing check (or a bug) behind one line
    monkeypatch.setenv("CIMJAX_DEBUG", "1")
