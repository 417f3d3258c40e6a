#!/usr/bin/python3
"""Hostile peers of the demonstration job, for tests/cli/demo_job.sh.

Speaks the frame format of examples/job/job.h (type byte, 4-byte big-endian
size, payload) on 127.0.0.1 only.

  job_peer.py server --port-file FILE --reject TEXT
      Accepts one worker, sends an 'R' frame with TEXT (escapes such as \\n
      and \\x1b are decoded) and closes.
  job_peer.py server --port-file FILE --token FILE --result-count N
      Accepts one worker and plays a server that sends its genuine token,
      accepts the worker's token without checking it, and replies to the
      worker's vector with a result of N numbers.
  job_peer.py server --port-file FILE --capture FILE [--token FILE]
      Accepts one worker, sends it the token of --token if given, and
      writes every byte that the worker sends until it closes to --capture.
  job_peer.py worker --port PORT --reject TEXT
      Connects to a job server, reads its first frame, replies with an 'R'
      frame with TEXT, and reads until the server closes.

Exits with 0 when the exchange ran as scripted, 1 otherwise.
"""

import argparse
import os
import socket
import struct
import sys

HEADER_SIZE = 5
TIMEOUT_SECONDS = 20


def frame_write(connection, frame_type, payload):
    connection.sendall(frame_type + struct.pack(">I", len(payload)) + payload)


def receive_exactly(connection, size):
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def frame_read(connection):
    header = receive_exactly(connection, HEADER_SIZE)
    size = struct.unpack(">I", header[1:])[0]
    return header[:1], receive_exactly(connection, size)


def text_decode(text):
    """Decodes backslash escapes of the command line into bytes."""
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


def drain(connection):
    """Reads until the peer closes, so that it is not reset mid-message."""
    try:
        while connection.recv(4096):
            pass
    except OSError:
        pass


def server_run(arguments):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(TIMEOUT_SECONDS)
    # Written whole under another name first, so a reader never sees half a port.
    with open(arguments.port_file + ".tmp", "w", encoding="ascii") as port_file:
        port_file.write(f"{listener.getsockname()[1]}\n")
    os.replace(arguments.port_file + ".tmp", arguments.port_file)
    connection, _ = listener.accept()
    connection.settimeout(TIMEOUT_SECONDS)
    with connection:
        if arguments.reject is not None:
            frame_write(connection, b"R", text_decode(arguments.reject))
            connection.shutdown(socket.SHUT_WR)
            drain(connection)
            return 0

        if arguments.token is not None:
            with open(arguments.token, "rb") as token_file:
                frame_write(connection, b"T", token_file.read().strip())
        if arguments.capture is not None:
            captured = b""
            try:
                while chunk := connection.recv(4096):
                    captured += chunk
            except OSError:
                pass
            with open(arguments.capture, "wb") as capture_file:
                capture_file.write(captured)
            return 0

        frame_type, _ = frame_read(connection)
        if frame_type != b"T":
            print(f"job_peer: expected the worker's token, got {frame_type!r}", file=sys.stderr)
            return 1
        frame_write(connection, b"A", b"accepted-without-checking")
        frame_type, _ = frame_read(connection)
        if frame_type != b"D":
            print(f"job_peer: expected the worker's data, got {frame_type!r}", file=sys.stderr)
            return 1
        frame_write(connection, b"S", struct.pack(">q", 7) * arguments.result_count)
        connection.shutdown(socket.SHUT_WR)
        drain(connection)
    return 0


def worker_run(arguments):
    with socket.create_connection(("127.0.0.1", arguments.port), TIMEOUT_SECONDS) as connection:
        frame_type, _ = frame_read(connection)
        if frame_type != b"T":
            print(f"job_peer: expected the server's token, got {frame_type!r}", file=sys.stderr)
            return 1
        frame_write(connection, b"R", text_decode(arguments.reject))
        connection.shutdown(socket.SHUT_WR)
        drain(connection)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    roles = parser.add_subparsers(dest="role", required=True)
    server = roles.add_parser("server")
    server.add_argument("--port-file", required=True)
    server.add_argument("--reject")
    server.add_argument("--token")
    server.add_argument("--result-count", type=int, default=1)
    server.add_argument("--capture")
    worker = roles.add_parser("worker")
    worker.add_argument("--port", type=int, required=True)
    worker.add_argument("--reject", required=True)
    arguments = parser.parse_args()
    try:
        return server_run(arguments) if arguments.role == "server" else worker_run(arguments)
    except (OSError, ConnectionError) as error:
        print(f"job_peer: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
