"""The socket `kotaku serve --workers N` binds (api/server.py): a TCP socket (proto IPPROTO_TCP, so asyncio sets
TCP_NODELAY on what it accepts) with TCP_NODELAY set, which accepted connections inherit on Linux. Checked on the
sockets themselves, not by timing responses (bench/nodelay.py measures the ~40 ms a response this saves)."""

from __future__ import annotations

import socket

from api.server import listening_socket


def test_the_listening_socket_is_tcp_with_nodelay():
    with listening_socket("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP  # uvicorn's own --workers socket has proto 0 (Kludex/uvicorn#3149)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert sock.get_inheritable()  # handed to the worker processes


def test_accepted_connections_have_nodelay():
    with listening_socket("127.0.0.1", 0) as sock:
        sock.listen()
        with socket.create_connection(sock.getsockname(), timeout=5) as client:
            accepted, _ = sock.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                client.sendall(b"ping")
                assert accepted.recv(4) == b"ping"
