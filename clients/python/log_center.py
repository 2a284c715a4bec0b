"""Report Python errors to Log Center.

Standard library only (Python 3.8+). Copy this file into your project, then:

    import log_center
    log_center.init(project_id="rtc_backend", environment="production")

    try:
        import_settings(path)
    except Exception:
        log_center.capture_exception(context={"path": path})

`init` installs `sys.excepthook` and `threading.excepthook`, so exceptions nobody caught are
reported before Python prints them and exits as it always does. A report gives up after
3 seconds and never raises: an outage of Log Center must not become an outage of the
program reporting to it.

Settings not passed to `init` come from the environment: `LOG_CENTER_URL` (default
http://127.0.0.1:8002), `ENVIRONMENT` (default production) and `LOG_CENTER_KEY` (the
ingest key, only for projects that set one).
"""

import json
import os
import platform
import socket
import sys
import threading
import traceback
import urllib.request
from datetime import datetime, timezone

__all__ = ["LogCenter", "init", "capture_exception", "report", "report_error", "install_excepthook"]

DEFAULT_URL = "http://127.0.0.1:8002"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LIBRARY_DIRS = ("site-packages", "dist-packages")


class LogCenter:
    """One reporter: where to send, as which project, and what to add to every report."""

    def __init__(
        self,
        project_id,
        url=None,
        environment=None,
        ingest_key=None,
        release=None,
        commit_hash=None,
        root=None,
        context=None,
        timeout=3.0,
    ):
        self.project_id = project_id
        self.url = (url or os.getenv("LOG_CENTER_URL") or DEFAULT_URL).rstrip("/")
        self.environment = environment or os.getenv("ENVIRONMENT") or "production"
        self.ingest_key = ingest_key if ingest_key is not None else os.getenv("LOG_CENTER_KEY")
        self.release = release
        self.commit_hash = commit_hash
        # File paths are sent relative to this folder, so the repair agent can open them.
        self.root = os.path.abspath(root or os.getcwd())
        # A dict, or a function returning one, merged into every report.
        self.context = context
        self.timeout = timeout
        self._previous_hooks = None

    # -- reporting -----------------------------------------------------------------------

    def capture_exception(self, exc=None, context=None, level="ERROR"):
        """Reports `exc`, or the exception being handled when called in an `except` block.

        Returns Log Center's answer (a dict such as {"message": "Log reported", "id": 7}),
        or None when there was nothing to report or the report could not be delivered.
        """
        try:
            if exc is None:
                exc = sys.exc_info()[1]
            if exc is None:
                return None
            frame = self._culprit(traceback.extract_tb(exc.__traceback__))
            lines = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            return self._send(
                level,
                {
                    "type": type(exc).__name__,
                    "message": str(exc),
                    "file_path": self._display_path(frame.filename) if frame else "unknown",
                    "line_number": frame.lineno if frame else 0,
                    "stack_trace": lines.splitlines(),
                },
                context,
            )
        except Exception:
            return None

    def report(self, error_type, message, level="ERROR", context=None):
        """Reports something that is not an exception, e.g. a WARNING about bad data.

        The file, line and stack are those of the caller.
        """
        try:
            return self._report_from(sys._getframe(1), error_type, message, level, context)
        except Exception:
            return None

    # -- uncaught exceptions ---------------------------------------------------------------

    def install_excepthook(self):
        """Reports exceptions nobody caught (main thread and other threads), then lets
        the previous hooks print them, so the program fails exactly as before."""
        if self._previous_hooks is not None:
            return
        previous_sys = sys.excepthook
        previous_threading = threading.excepthook

        def sys_hook(exc_type, exc, tb):
            # Ctrl-C is a person stopping the program, not a bug.
            if not issubclass(exc_type, KeyboardInterrupt):
                self.capture_exception(exc, {"mechanism": "excepthook"})
            previous_sys(exc_type, exc, tb)

        def threading_hook(args):
            if args.exc_value is not None and not issubclass(args.exc_type, SystemExit):
                thread = args.thread.name if args.thread is not None else None
                self.capture_exception(args.exc_value, {"mechanism": "threading", "thread": thread})
            previous_threading(args)

        sys.excepthook = sys_hook
        threading.excepthook = threading_hook
        self._previous_hooks = (previous_sys, previous_threading, sys_hook, threading_hook)

    def uninstall_excepthook(self):
        """Puts back the hooks found by `install_excepthook`, unless someone replaced ours."""
        if self._previous_hooks is None:
            return
        previous_sys, previous_threading, sys_hook, threading_hook = self._previous_hooks
        if sys.excepthook is sys_hook:
            sys.excepthook = previous_sys
        if threading.excepthook is threading_hook:
            threading.excepthook = previous_threading
        self._previous_hooks = None

    # -- internals -------------------------------------------------------------------------

    def _is_own(self, filename):
        # "<string>", "<frozen importlib._bootstrap>", "<stdin>": no file anyone can open.
        if filename.startswith("<"):
            return False
        path = os.path.abspath(filename)
        return path.startswith(self.root + os.sep) and not any(part in path for part in _LIBRARY_DIRS)

    def _culprit(self, frames):
        """The innermost frame in our own code, not in a library the error passed through."""
        own = [f for f in frames if self._is_own(f.filename)]
        chosen = own or frames
        return chosen[-1] if chosen else None

    def _display_path(self, filename):
        """Relative to the root when the file is under it, so the repair agent can open it."""
        if filename.startswith("<"):
            return filename
        path = os.path.abspath(filename)
        if path.startswith(self.root + os.sep):
            return os.path.relpath(path, self.root).replace(os.sep, "/")
        return filename

    def _report_from(self, caller, error_type, message, level, context):
        frames = traceback.extract_stack(caller)
        frame = self._culprit(frames)
        lines = "".join(traceback.format_list(frames))
        return self._send(
            level,
            {
                "type": str(error_type),
                "message": str(message),
                "file_path": self._display_path(frame.filename) if frame else "unknown",
                "line_number": frame.lineno if frame else 0,
                "stack_trace": ["Stack (most recent call last):", *lines.splitlines()],
            },
            context,
        )

    def _base_context(self):
        base = {"hostname": socket.gethostname(), "pid": os.getpid(), "python": platform.python_version()}
        extra = self.context() if callable(self.context) else self.context
        if isinstance(extra, dict):
            base.update(extra)
        return base

    def _send(self, level, error, context):
        level = str(level).upper()
        payload = {
            "project_id": self.project_id,
            "environment": self.environment,
            "level": level if level in LEVELS else "ERROR",
            "source": "runtime",
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "error": error,
        }
        if self.release:
            payload["version"] = str(self.release)
        if self.commit_hash:
            payload["commit_hash"] = str(self.commit_hash)
        try:
            merged = self._base_context()
        except Exception:
            merged = {}
        if isinstance(context, dict):
            merged.update(context)
        payload["context"] = merged
        try:
            body = json.dumps(payload, default=str)
        except (TypeError, ValueError):
            # Better a report without its context (a cycle, say) than no report at all.
            payload["context"] = {"context_dropped": "not serialisable"}
            body = json.dumps(payload, default=str)

        headers = {"Content-Type": "application/json"}
        if self.ingest_key:
            headers["X-Log-Center-Key"] = self.ingest_key
        request = urllib.request.Request(
            f"{self.url}/api/v1/logs/report", data=body.encode("utf-8"), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except Exception:
            return None  # reporting must never break the program being served


_current = None


def init(project_id, install_hooks=True, **options):
    """Configures the module-level reporter; by default also installs the exception hooks.

    Options are those of `LogCenter`. Calling `init` again replaces the reporter.
    """
    global _current
    if _current is not None:
        _current.uninstall_excepthook()
    _current = LogCenter(project_id, **options)
    if install_hooks:
        _current.install_excepthook()
    return _current


def capture_exception(exc=None, context=None, level="ERROR"):
    """`LogCenter.capture_exception` on the reporter set up by `init`; None before it."""
    return _current.capture_exception(exc, context, level) if _current is not None else None


def report(error_type, message, level="ERROR", context=None):
    """`LogCenter.report` on the reporter set up by `init`; None before it."""
    if _current is None:
        return None
    try:
        # The caller of this function, not this function, is where it happened.
        return _current._report_from(sys._getframe(1), error_type, message, level, context)
    except Exception:
        return None


def report_error(exc, context=None):
    """Reports an exception object; the name used by earlier copies of this file."""
    return capture_exception(exc, context)


def install_excepthook():
    """Installs the exception hooks of the reporter set up by `init` (done by `init` already)."""
    if _current is not None:
        _current.install_excepthook()
