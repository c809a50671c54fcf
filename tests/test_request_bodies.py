"""Request bodies are refused by size while they arrive (a real web process): a chunked
body has no Content-Length, and db7da57 counted it as 0 bytes and spooled all of it."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from tests.servers import daphne_server


@pytest.fixture(scope="module")
def web(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), daphne_server(
            log_path=tmp_path_factory.mktemp("bodies") / "daphne.log",
            API_MAX_BODY_BYTES="2000", API_MAX_UPLOAD_BYTES="100000") as port:
        yield port


def chunked_post(port: int, path: str, chunks: list[bytes], content_type: str
                 ) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     f"{content_type}\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        try:
            for chunk in chunks:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the body ended: what we want
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()


def test_a_chunked_json_body_over_the_limit_is_413(web):
    body = json.dumps({"location": {"type": "Point", "coordinates": [12.36, 55.73]},
                       "category": "pothole", "description": "x" * 50_000}).encode()
    status, content = chunked_post(web, "/api/v1/reports/", [
        body[i:i + 4096] for i in range(0, len(body), 4096)], "application/json")
    assert status == 413, content[:300]
    assert "2000 bytes" in json.loads(content)["message"]


def test_a_chunked_upload_over_the_largest_limit_is_cut_off_while_it_arrives(web):
    """Over API_MAX_UPLOAD_BYTES the web server stops reading: the client learns it is
    413 while it is still sending."""
    status, content = chunked_post(web, "/api/v1/reports/", [b"x" * 16384] * 40,
                                   "multipart/form-data; boundary=abc")
    assert status == 413 and "100000 bytes" in json.loads(content)["message"]


def test_a_declared_length_over_the_limit_is_refused_before_reading(web):
    with socket.create_connection(("127.0.0.1", web), timeout=20) as sock:
        sock.sendall(b"POST /open311/v2/requests.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 999999\r\n\r\n")
        answer = b""
        while b"</errors>" not in answer and (part := sock.recv(65536)):
            answer += part  # the head and the body may come in separate segments
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"<errors><error><code>413</code>" in answer
