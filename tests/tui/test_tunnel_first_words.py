"""The tunnel panel's Start with no ngrok authtoken (issue #18.5): the first words are that no
authtoken is configured and how to set one, and nothing is downloaded or run."""

from __future__ import annotations

from pathlib import Path

from inspector.tui.screens.tunnel_screen import TunnelScreen
from inspector.tunnel import NgrokTunnel

from .conftest import make_app, text_of, wait_for

SIZE = (100, 30)


async def test_start_without_an_authtoken_says_so_first(workdir: Path, tmp_path: Path):
    home = tmp_path / "home"
    default = tmp_path / "pyngrok-default" / "ngrok"

    def ngrok_tunnel() -> NgrokTunnel:
        # No agent anywhere and a download that would be refused: before, that was all it said.
        return NgrokTunnel(
            env={"PATH": str(tmp_path / "empty-bin"), "HOME": str(home)},
            default_path=str(default),
            download_url="http://127.0.0.1:9/nothing-listens-here.tgz",
            startup_timeout=5.0,
        )

    app = make_app(workdir, ngrok_tunnel=ngrok_tunnel)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        assert isinstance(app.screen, TunnelScreen)
        panel = app.screen
        await pilot.press("s")
        await wait_for(lambda: app.tunnel.status.state == "failed", pilot, timeout=10)
        await pilot.pause()
        state = " ".join(text_of(panel.query_one("#tunnel-state")).split())
        assert state.startswith("✗ failed: no ngrok authtoken is configured (looked at NGROK_AUTHTOKEN, "), state
        assert "fix: copy your authtoken from https://dashboard.ngrok.com/get-started/your-authtoken" in state
        assert "`ngrok config add-authtoken TOKEN`" in state and "`export NGROK_AUTHTOKEN=TOKEN`" in state
        assert "download" not in state and "--version" not in state
        assert not default.exists()
        await pilot.press("escape", "ctrl+q")
    assert app.return_code == 0
