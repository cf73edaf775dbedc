"""A uvicorn protocol that lets the app drop its TCP connection, for reset and cut faults."""

from __future__ import annotations

import asyncio
import socket
import struct

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from adapters.simulator.asgi import Scope

TRANSPORT_KEY = "tiergate.sim.transport"


class TransportExposingProtocol(HttpToolsProtocol):
    """httptools protocol that puts the connection's transport into each request's scope."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope[TRANSPORT_KEY] = self.transport  # type: ignore[literal-required]


def close_connection(scope: Scope, *, reset: bool) -> None:
    """Close the connection without finishing the response: RST when `reset`, else FIN.

    The caller should then wait for `http.disconnect`, so the server does not add a 500.
    """
    transport: asyncio.Transport | None = scope.get(TRANSPORT_KEY)
    if transport is None:
        # Under another server an exception is the nearest thing: it drops the connection.
        raise ConnectionAbortedError("simulated connection drop")
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
