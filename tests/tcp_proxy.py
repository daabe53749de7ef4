"""A switchable TCP proxy on loopback, standing in for a PostgreSQL server that goes away.

Refusing, it resets every connection as soon as it is accepted (the client sees what it
sees of a server that is down or restarting); forwarding, it pipes each connection to the
real server. Switching to refusing also cuts every connection it is forwarding, as a
server restart would. The real server is never touched: other tests keep using it.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    # SO_LINGER with a zero timeout: close() sends RST, not FIN ("connection reset").
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # A close() leaves a recv() blocked in another thread (a pipe) waiting; shutdown()
    # wakes it, and the connection ends now, not when data next arrives.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class SwitchProxy:
    """Listens on 127.0.0.1:`port`; `forward()` to the target, `refuse()` to be down."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._forwarding = False
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()

    def forward(self) -> None:
        """From now on, pipe connections to the target."""
        with self._lock:
            self._forwarding = True

    def refuse(self) -> None:
        """From now on, reset connections at once; cut those being forwarded."""
        with self._lock:
            self._forwarding = False
            cut, self._open = self._open, set()
        for sock in cut:
            _reset(sock)

    def close(self) -> None:
        """Stop listening and cut everything."""
        self._closed = True
        self.refuse()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                forwarding = self._forwarding
            if not forwarding:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                # Switched to refusing while connecting upstream: this one must not survive.
                forwarding = self._forwarding
                if forwarding:
                    self._open.update((client, upstream))
            if not forwarding:
                _reset(client)
                _reset(upstream)
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(_CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()


@contextmanager
def switch_proxy(target: tuple[str, int] = ("127.0.0.1", 5432)) -> Iterator[SwitchProxy]:
    """A proxy that starts refusing; closed at the end of the block."""
    proxy = SwitchProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()
