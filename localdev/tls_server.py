"""HTTPS on loopback for the local stack's servers (the ARM emulator, the Event Grid topic).

A threading HTTP server whose TLS handshake runs in each connection's own thread (one slow client
never blocks accept()), with the stack's own CA, a thread to serve it from, and `TlsService`, the
start/stop/context-manager life cycle both services share.
"""

from __future__ import annotations

import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

from localdev.arm_emulator.certs import ensure_certs


def server_context(cert_dir: Path) -> tuple[ssl.SSLContext, str]:
    """A TLS 1.2+ server context with the stack's leaf certificate, and the CA's path for clients."""
    paths = ensure_certs(cert_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(paths.server_cert), str(paths.server_key))
    return context, str(paths.ca_cert.resolve())


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext) -> None:
        self.ssl_context = context
        self.open_sockets: set[socket.socket] = set()
        self.sock_lock = threading.Lock()
        super().__init__(addr, handler)

    def close_all(self) -> None:
        with self.sock_lock:
            for sock in list(self.open_sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class TLSRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: TLSServer
    timeout = 60

    def setup(self) -> None:
        raw = self.request
        # Headers and body go out in separate writes; without NODELAY, Nagle + delayed ACK add ~40 ms each.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.sock_lock:
            self.server.open_sockets.add(raw)
        try:  # TLS handshake in the connection's own thread
            self.request = self.server.ssl_context.wrap_socket(raw, server_side=True)
            self._tls_failed = False
        except (ssl.SSLError, OSError):
            self.request = raw
            self._tls_failed = True
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.sock_lock:
                self.server.open_sockets.discard(self.connection)

    def handle(self) -> None:
        if self._tls_failed:
            return
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
            pass


class ServerThread:
    """Serves a TLSServer from a daemon thread until stopped."""

    def __init__(self, server: TLSServer, name: str) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name,
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.close_all()
        self.server.server_close()
        self._thread.join(timeout=5)


class TlsService:
    """A service on a loopback HTTPS server with the stack's certificate: `start()` (port 0 picks a free port,
    `port` then holds it), `stop()`, and `with service:`. A subclass makes its server (`make_server`) and may
    act once the port is known, before the first request (`on_started`)."""

    thread_name = "tls-service"

    def __init__(self, cert_dir: Path, host: str, port: int) -> None:
        self.cert_dir = cert_dir
        self.host = host
        self.port = port
        self._serving: ServerThread | None = None
        self._ca_path: str | None = None

    def make_server(self, address: tuple[str, int], context: ssl.SSLContext) -> TLSServer:
        raise NotImplementedError

    def on_started(self) -> None:
        """Called once the port is known, before the server takes requests."""

    @property
    def running(self) -> bool:
        return self._serving is not None

    def start(self) -> Self:
        if self._serving is not None:
            return self
        context, self._ca_path = server_context(self.cert_dir)
        server = self.make_server((self.host, self.port), context)
        self.port = server.server_address[1]
        self.on_started()
        self._serving = ServerThread(server, f"{self.thread_name}:{self.port}")
        return self

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()
            self._serving = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ = ["ServerThread", "TLSRequestHandler", "TLSServer", "TlsService", "server_context"]
