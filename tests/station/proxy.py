"""A fault-injecting TCP proxy in front of a real ``kuma serve``: what a rural station's link does.

Each client connection carries one HTTP request (urllib closes after each). The proxy reads the
request line, looks for a fault planned for a matching path, then relays bytes both ways and
does to the server's answer what the fault says:

- ``Drop(after)``: after ``after`` bytes of the answer, reset the connection (RST);
- ``Truncate(after)``: after ``after`` bytes, close cleanly (FIN), as a proxy that gives up does;
- ``Stall(after, seconds)``: after ``after`` bytes, send nothing for ``seconds``, then close;
- ``Flip(offset)``: invert one byte of the answer at ``offset`` (counted from its first byte).

A link-wide ``rate`` (bytes per second, shared by all connections) and ``loss`` (the probability
that a connection is reset somewhere in each 64 KiB of answer) make a throttled, lossy link. The
proxy counts every byte it relays, so a benchmark reads what the link really carried.
"""
from __future__ import annotations

import random
import socket
import socketserver
import struct
import threading
import time
from dataclasses import dataclass


@dataclass
class Drop:
    after: int


@dataclass
class Truncate:
    after: int


@dataclass
class Stall:
    after: int
    seconds: float


@dataclass
class Flip:
    offset: int


@dataclass
class Planned:
    match: str
    fault: object
    times: int = 1


class Bucket:
    """Token bucket shared by the link's connections."""

    def __init__(self, rate: float):
        self.rate, self.lock = rate, threading.Lock()
        self.allowance, self.stamp = 0.0, time.monotonic()

    def take(self, amount: int) -> None:
        if not self.rate:
            return
        with self.lock:
            now = time.monotonic()
            self.allowance = min(self.rate * 0.25, self.allowance + (now - self.stamp) * self.rate)
            self.stamp = now
            self.allowance -= amount
            wait = -self.allowance / self.rate if self.allowance < 0 else 0.0
        if wait:
            time.sleep(wait)


class FaultProxy:
    def __init__(self, upstream_port: int, *, rate: float = 0, loss: float = 0.0, seed: int = 0):
        self.upstream = ("127.0.0.1", upstream_port)
        self.plan: list[Planned] = []
        self.bucket = Bucket(rate)
        self.loss, self.rng = loss, random.Random(seed)
        self.lock = threading.Lock()
        self.to_client = self.to_server = 0
        self.requests: list[tuple[str, dict[str, str]]] = []  # (request line, headers)
        self.faults_done: list[str] = []
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy._relay(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FaultProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def inject(self, match: str, fault, times: int = 1) -> None:
        with self.lock:
            self.plan.append(Planned(match, fault, times))

    def ranges(self, match: str) -> list[str | None]:
        """The Range header of each request whose line contains ``match`` (None: no Range)."""
        return [headers.get("range") for line, headers in self.requests if match in line]

    # --- relaying ----------------------------------------------------------------------------

    def _relay(self, client: socket.socket) -> None:
        head = _read_head(client)
        if not head:
            client.close()
            return
        line, headers = _parse_head(head)
        with self.lock:
            self.requests.append((line, headers))
            fault = self._take_fault(line)
        try:
            upstream = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            client.close()
            return
        with self.lock:
            self.to_server += len(head)
        upstream.sendall(head)
        forward = threading.Thread(target=self._pipe_up, args=(client, upstream), daemon=True)
        forward.start()
        try:
            self._pipe_down(upstream, client, fault, line)
        finally:
            for sock in (upstream, client):
                try:
                    sock.close()
                except OSError:
                    pass

    def _take_fault(self, line: str):
        for planned in self.plan:
            if planned.match in line and planned.times > 0:
                planned.times -= 1
                self.faults_done.append(f"{type(planned.fault).__name__} {line}")
                return planned.fault
        return None

    def _pipe_up(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while data := client.recv(65536):
                with self.lock:
                    self.to_server += len(data)
                upstream.sendall(data)
        except OSError:
            pass

    def _pipe_down(self, upstream: socket.socket, client: socket.socket, fault, line: str) -> None:
        sent = 0
        lossy_limit = self._next_loss(0)
        while True:
            try:
                data = upstream.recv(16384)
            except OSError:
                return
            if not data:
                try:
                    client.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            if isinstance(fault, Flip) and sent <= fault.offset < sent + len(data):
                index = fault.offset - sent
                data = data[:index] + bytes([data[index] ^ 0xFF]) + data[index + 1:]
            limit = fault.after if isinstance(fault, (Drop, Truncate, Stall)) else None
            if lossy_limit is not None:
                limit = lossy_limit if limit is None else min(limit, lossy_limit)
            if limit is not None and sent + len(data) >= limit:
                self._send(client, data[: max(0, limit - sent)])
                self._break(client, fault if limit != lossy_limit else Drop(limit))
                return
            self._send(client, data)
            sent += len(data)

    def _next_loss(self, start: int) -> int | None:
        if not self.loss:
            return None
        with self.lock:
            # each 64 KiB block of the answer is cut with probability `loss`: draw where the first cut falls
            blocks = 0
            while self.rng.random() >= self.loss:
                blocks += 1
                if blocks > 100_000:
                    return None
            return start + blocks * 65536 + self.rng.randrange(65536)

    def _send(self, client: socket.socket, data: bytes) -> None:
        for start in range(0, len(data), 4096):
            block = data[start:start + 4096]
            self.bucket.take(len(block))
            client.sendall(block)
            with self.lock:
                self.to_client += len(block)

    def _break(self, client: socket.socket, fault) -> None:
        if isinstance(fault, Stall):
            time.sleep(fault.seconds)
        if isinstance(fault, Drop):
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
        else:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _read_head(client: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            block = client.recv(65536)
        except OSError:
            return b""
        if not block:
            return data
        data += block
    return data


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    text = head.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    line, *rest = text.split("\r\n")
    headers = {}
    for header in rest:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    return line, headers
