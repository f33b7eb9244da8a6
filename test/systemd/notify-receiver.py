"""A stand-in for systemd's notification socket: prints every datagram as one JSON line.

Node has no unix datagram sockets, so the real-socket test runs this receiver. Each line is
{"t": <ms since start>, "fields": {"READY": "1", ...}}. Descriptors passed with a message
(systemd-notify's BARRIER=1) are closed at once, which is how the service manager acknowledges it.
Usage: python3 notify-receiver.py SOCKET_PATH
"""
import array
import json
import os
import socket
import sys
import time

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
start = time.monotonic()
print(json.dumps({"listening": path}), flush=True)
fd_size = socket.CMSG_SPACE(16 * array.array("i").itemsize)
while True:
    data, ancdata, _flags, _addr = sock.recvmsg(65536, fd_size)
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
            for fd in fds:
                os.close(fd)
    fields = {}
    for line in data.decode("utf-8", "replace").split("\n"):
        if "=" in line:
            key, value = line.split("=", 1)
            fields[key] = value
    print(json.dumps({"t": round((time.monotonic() - start) * 1000), "fields": fields}), flush=True)
