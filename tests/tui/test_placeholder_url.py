"""The first screen never calls a placeholder public_base_url (what `init` writes, or the
example's your-domain host) the URL senders use: it says it is a placeholder, and how to set
a real one, beside the local URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import make_app, text_of, wait_for


@pytest.mark.parametrize("size", [(80, 24), (120, 34)])
async def test_the_welcome_screen_says_the_public_base_url_is_a_placeholder(workdir: Path, size):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=size) as pilot:
        await wait_for(lambda: "public_base_url" in text_of(app.query_one("#welcome")), pilot)
        welcome = " ".join(text_of(app.query_one("#welcome")).split())
        assert "(https://your-domain.ngrok-free.app) is a placeholder, not a URL senders can reach" in welcome
        assert "senders on other machines use it" not in welcome
