"""ngrok through pyngrok: started and watched on worker threads, every failure a status."""

from __future__ import annotations

import asyncio
import http.client
import os
import subprocess
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .agent import NgrokBinary, download_ngrok, find_authtoken, find_ngrok, ngrok_config_paths, pyngrok_default_path, read_ngrok_config
from .base import _BaseTunnel
from .messages import DOWNLOAD_PAGE, _api_error_text, _ngrok_text, explain_ngrok_failure, no_authtoken
from .pyngrok_glue import TUNNEL_NAME, _ngrok_proc, _prepare_pyngrok, _run_in_thread, _spawned, upstream_url
from .status import TunnelFailure, TunnelStatus, _Stopped

# ngrok: the tunnel


class NgrokTunnel(_BaseTunnel):
    """ngrok through pyngrok. Every pyngrok call runs on a worker thread; status changes come
    back to the event loop. Failure at start or mid-session becomes a `failed` status."""

    kind = "ngrok"

    def __init__(
        self,
        *,
        ngrok_path: str | None = None,
        env: Mapping[str, str] | None = None,
        config_path: str | None = None,
        authtoken_paths: Iterable[str] | None = None,
        default_path: str | None = None,
        download_url: str | None = None,
        startup_timeout: float = 20.0,
        request_timeout: float = 4.0,
        poll_every: float = 0.2,
        **kw: Any,
    ):
        super().__init__(**kw)
        self._status = TunnelStatus(self.kind, "off", reason="not started")
        self.ngrok_path = ngrok_path
        self.env = dict(os.environ if env is None else env)
        self.config_path = config_path
        self.authtoken_paths = list(authtoken_paths) if authtoken_paths is not None else None
        self.default_path = default_path
        self.download_url = download_url
        self.startup_timeout = startup_timeout
        self.request_timeout = request_timeout
        self.poll_every = poll_every
        self.binary: NgrokBinary | None = None
        self._generation = 0
        self._config: Any = None  # the PyngrokConfig of the running agent
        self._timed_out = False
        self._saw_session = False
        self._last_error: str | None = None
        self._last_line: str | None = None

    # The event-loop side

    async def start(self, local_url: str) -> TunnelStatus:
        self._remember_loop()
        if self._status.state in ("starting", "up"):
            return self._status
        self.local_url = local_url
        self._generation += 1
        generation = self._generation
        self._update(state="starting", public_url=None, reason=None, fix=None, detail=None, selfcheck=None, checking=False)
        try:
            public_url, proc = await _run_in_thread(self._start_blocking, upstream_url(local_url), generation)
        except _Stopped:
            return self._status
        except TunnelFailure as failure:
            if generation == self._generation:
                self._update(state="failed", reason=failure.reason, fix=failure.fix, detail=None)
            return self._status
        except Exception as exc:  # pyngrok or the platform surprised us: still a status, not a crash
            if generation == self._generation:
                self._update(
                    state="failed",
                    reason=f"ngrok could not start: {type(exc).__name__}: {exc}",
                    fix="start with --tunnel none, or pass --public-url for another tunnel",
                    detail=None,
                )
            return self._status
        if generation != self._generation:  # stop() won the race
            return self._status
        self._update(state="up", public_url=public_url, detail=None)
        threading.Thread(target=self._watch, args=(proc, generation), name="ngrok-watch", daemon=True).start()
        return self._status

    async def stop(self) -> TunnelStatus:
        self._remember_loop()
        was = self._status.state
        self._generation += 1  # everything started before this is now stale
        if was in ("off", "stopped"):
            return self._status
        if self.binary is not None:
            proc = _ngrok_proc(self.binary.path)
            if was == "starting" and proc is not None and proc.poll() is None:
                proc.kill()  # unblocks pyngrok's startup read at once
        config, public_url = self._config, self._status.public_url
        self._config = None
        if config is not None:
            try:
                await asyncio.wait_for(asyncio.shield(_run_in_thread(self._stop_blocking, config, public_url)), self.request_timeout + 2)
            except Exception:  # timed out or failed: make sure the agent is gone
                proc = _ngrok_proc(config.ngrok_path)
                if proc is not None and proc.poll() is None:
                    proc.kill()
        self._update(state="stopped", public_url=None, reason="stopped", fix=None, detail=None, selfcheck=None, checking=False)
        return self._status

    # The worker side

    def _progress(self, text: str) -> None:
        if self._status.state == "starting":
            self._update(detail=text)

    def _start_blocking(self, upstream: str, generation: int) -> tuple[str, subprocess.Popen[str] | None]:
        from pyngrok import conf, ngrok
        from pyngrok.exception import PyngrokError

        _prepare_pyngrok()

        def stale() -> bool:
            return generation != self._generation

        # The authtoken before the binary: without one, the agent (perhaps downloaded first)
        # could only fail with ERR_NGROK_4018.
        token_paths = ([self.config_path] if self.config_path else []) + (
            self.authtoken_paths if self.authtoken_paths is not None else ngrok_config_paths(self.env)
        )
        token = find_authtoken(self.env, token_paths)
        if token is None:
            raise no_authtoken(token_paths)
        binary = find_ngrok(self.ngrok_path, self.env, default_path=self.default_path)
        if binary is None:
            dest = self.default_path or pyngrok_default_path(self.env)
            try:
                download_ngrok(dest, self.download_url, progress=self._progress, cancelled=stale)
            except _Stopped:
                raise
            except (OSError, ValueError, http.client.HTTPException, tarfile.TarError, zipfile.BadZipFile) as exc:
                why = getattr(exc, "reason", None) or exc
                raise TunnelFailure(
                    f"ngrok is not installed (looked at --ngrok-path, NGROK_PATH, PATH and {dest}) and could not be downloaded: {why}",
                    f"install ngrok ({DOWNLOAD_PAGE}) and put it on PATH or pass --ngrok-path; or run another tunnel and pass --public-url",
                ) from None
            binary = NgrokBinary(dest, "downloaded")
        self.binary = binary
        if stale():
            raise _Stopped()

        config_path = self.config_path or token.config_path
        version = str(read_ngrok_config(config_path or conf.DEFAULT_NGROK_CONFIG_PATH).get("version", "3"))
        config = conf.PyngrokConfig(
            ngrok_path=binary.path,
            config_path=config_path,
            auth_token=token.token if token.source == "NGROK_AUTHTOKEN" else None,
            # pyngrok declares an int but only adds it to time.time(): a float works.
            startup_timeout=self.startup_timeout,  # type: ignore[arg-type]
            request_timeout=self.request_timeout,
            log_event_callback=self._on_log,
            config_version="2" if version == "2" else "3",
        )
        self._timed_out = self._saw_session = False
        self._last_error = self._last_line = None
        self._progress(f"starting {binary.path}" + (f" (from {binary.source})" if binary.source != "downloaded" else ""))
        # pyngrok waits for startup lines with a blocking read; an agent that goes silent would
        # hold it forever, so a watchdog kills it and pyngrok's read ends.
        watchdog = threading.Timer(self.startup_timeout + 1.0, self._startup_watchdog, args=(binary.path,))
        watchdog.daemon = True
        watchdog.start()
        began = time.monotonic()
        try:
            tunnel = ngrok.connect(upstream, "http", name=TUNNEL_NAME, pyngrok_config=config)
        except PyngrokError as exc:
            if stale():
                raise _Stopped() from None
            raise self._failure(
                exc, config, binary, upstream, timed_out=self._timed_out or time.monotonic() - began >= self.startup_timeout
            ) from None
        finally:
            watchdog.cancel()
        if stale():
            self._stop_blocking(config, tunnel.public_url)
            raise _Stopped()
        self._config = config
        return str(tunnel.public_url), _ngrok_proc(binary.path)

    def _failure(self, exc: Exception, config: Any, binary: NgrokBinary, upstream: str, *, timed_out: bool) -> TunnelFailure:
        """What a PyngrokError from connect() means. `timed_out`: pyngrok has its own deadline,
        checked between lines, and ours is the watchdog; either one may have run out."""
        from pyngrok import conf, ngrok
        from pyngrok.exception import PyngrokNgrokError, PyngrokNgrokHTTPError

        port = urlsplit(upstream).port or 80
        see = f"run `{binary.path} http {port}` in a terminal to see what ngrok says"
        if isinstance(exc, PyngrokNgrokHTTPError):
            # The agent is up but refused the tunnel; pyngrok leaves it running.
            try:
                ngrok.kill(pyngrok_config=config)
            except Exception:
                pass
            said = _api_error_text(exc.body) or str(exc)
            reason, fix = explain_ngrok_failure(said, None, binary=binary.path, local_url=upstream)
            return TunnelFailure(reason.replace("ngrok failed to start:", "ngrok refused the tunnel:"), fix)
        if not isinstance(exc, PyngrokNgrokError):  # pyngrok's own checks, before or after ngrok ran
            where = config.config_path or conf.DEFAULT_NGROK_CONFIG_PATH
            if any(key in str(exc) for key in ('"web_addr"', '"log_format"', '"log_level"')):
                return TunnelFailure(
                    f"pyngrok cannot use the ngrok config {where}: {exc}",
                    f"edit {where}: pyngrok needs the web interface on, log_format: term and log_level: info",
                )
            return TunnelFailure(f"ngrok failed to start: {exc}", see)
        proc = _spawned.get(binary.path)
        exit_code = proc.poll() if proc is not None else None
        self._drain(proc)
        reason, fix = explain_ngrok_failure(
            exc.ngrok_error or self._last_error,
            exc.ngrok_error_code,
            binary=binary.path,
            local_url=upstream,
            timed_out=timed_out,
            timeout=self.startup_timeout,
            saw_session=self._saw_session,
            exit_code=exit_code,
            last_line=self._last_line,
            api_path="/api/endpoints" if config.config_version == "3" else "/api/tunnels",
        )
        return TunnelFailure(reason, fix)

    def _drain(self, proc: subprocess.Popen[str] | None) -> None:
        """pyngrok stops reading once the agent has exited, so its last lines — often the very
        error that explains the exit — may still sit in the pipe. Read them."""
        if proc is None or proc.poll() is None or proc.stdout is None:
            return  # still running: a read would block
        try:
            rest = proc.stdout.read()
        except (OSError, ValueError):
            return
        from pyngrok.log import NgrokLog

        for line in (rest or "").splitlines():
            log = NgrokLog(line)
            if log.line:
                self._on_log(log)

    def _startup_watchdog(self, path: str) -> None:
        proc = _ngrok_proc(path)
        if proc is not None and proc.poll() is None:
            self._timed_out = True
            proc.kill()

    def _stop_blocking(self, config: Any, public_url: str | None) -> None:
        from pyngrok import ngrok
        from pyngrok.exception import PyngrokError

        try:
            if public_url:
                ngrok.disconnect(public_url, pyngrok_config=config)
        except PyngrokError:
            pass  # the agent is going away anyway
        finally:
            ngrok.kill(pyngrok_config=config)

    def _on_log(self, log: Any) -> None:
        """pyngrok's per-line callback (its reader thread)."""
        self._last_line = log.line[:300] if log.line else self._last_line
        msg = log.msg or ""
        if "client session established" in msg or "tunnel session started" in msg:
            self._saw_session = True
            if self._status.state == "up" and self._status.detail:
                self._update(detail=None)  # reconnected
        if log.lvl in ("ERROR", "CRITICAL"):
            self._last_error = log.err or msg
            if self._status.state in ("starting", "up"):  # while starting: why it is taking long
                self._update(detail=f"ngrok reports: {_ngrok_text(log.err) or msg}")

    def _watch(self, proc: subprocess.Popen[str] | None, generation: int) -> None:
        """Notice ngrok exiting mid-session. Polls rather than wait(): pyngrok's own reader
        polls the same process and must never find its wait lock held."""
        if proc is None:
            return
        code = proc.poll()
        while code is None:
            if generation != self._generation:
                return  # stopped or restarted on purpose
            time.sleep(self.poll_every)
            code = proc.poll()
        if generation != self._generation:
            return
        config, self._config = self._config, None
        if config is not None:
            try:
                self._stop_blocking(config, None)  # forget the dead process in pyngrok's tables
            except Exception:
                pass
        said = _ngrok_text(self._last_error)
        path = self.binary.path if self.binary else "ngrok"
        port = urlsplit(self.local_url or "").port or 80
        self._update(
            state="failed",
            public_url=None,
            checking=False,
            detail=None,
            reason=f"ngrok exited mid-session (exit code {code})" + (f": {said}" if said else ""),
            fix=f"start the tunnel again; if it keeps exiting, run `{path} http {port}` in a terminal to see why",
        )
