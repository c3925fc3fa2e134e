#!/usr/bin/env python3
"""The demo's home service ("nextcloud"): an IPv6-only TLS server that answers every request with the peer
address it saw. Usage: backend.py ADDRESS PORT CERT KEY; prints "ready" once listening."""
import socket
import ssl
import sys
import threading

address, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)


def answer(conn, peer):
    try:
        conn.settimeout(5)
        tls = ctx.wrap_socket(conn, server_side=True)
        tls.recv(4096)
        body = "hello from nextcloud.home.test; you are %s\n" % peer[0]
        tls.sendall(("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                     % (len(body), body)).encode())
        tls.close()
    except (OSError, ssl.SSLError) as e:
        print("backend: %s: %s" % (peer[0], e), file=sys.stderr, flush=True)


server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((address, port))
server.listen(16)
print("ready", flush=True)
while True:
    c, p = server.accept()
    threading.Thread(target=answer, args=(c, p), daemon=True).start()
