#!/usr/bin/env python3
"""RouterOS v7 REST emulator for sixgate's tests (Python 3 stdlib only). See README.md next to this file.

  python3 emulator.py --port P --cert C --key K --user U --password W --control-port Q [--state seed.json]

REST on https://127.0.0.1:P/rest/... (Basic auth, one request at a time like RouterOS); a plain-HTTP control API
on http://127.0.0.1:Q/_emu/... for tests. Prints "ready rest=P control=Q" on stdout once both listen (port 0
means any free port).
"""

import argparse
import base64
import hmac
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ros_model import RosError, Store, WRITE_VERBS, parse_duration  # noqa: E402

MAX_BODY = 1 << 20

FAULT_KINDS = ("status401", "status500", "session_closed", "slow", "drop", "drop_after_apply", "invalid_json",
               "control_char")


class Emulator:
    """Shared state of both servers. `lock` serialises REST request processing and control calls."""

    def __init__(self, user, password):
        self.user = user
        self.password = password
        self.store = Store()
        self.lock = threading.Lock()       # the state; control calls take only this one
        self.rest_lock = threading.Lock()  # one REST request at a time, slow replies included
        self.faults = []  # [{"kind", "count", "delay_ms", "methods", "path"}] applied in order
        self.quirks = {"singleton_as_array": False, "put_status": 201, "delete_status": 204}
        self.reset_counters()

    def reset_counters(self):
        self.counters = {"requests": {}, "total": 0, "writes": 0, "faults_applied": 0, "auth_failures": 0,
                         "by_path": {}}

    def take_fault(self, method, path):
        for f in self.faults:
            if f["methods"] and method not in f["methods"]:
                continue
            if f["path"] and f["path"] not in path:
                continue
            f["count"] -= 1
            if f["count"] <= 0:
                self.faults.remove(f)
            self.counters["faults_applied"] += 1
            return dict(f)
        return None


def rest_path(raw_path):
    """('/rest/ipv6/route/*1' → ('ipv6/route', '*1'), query dict) with menu matched longest-first."""
    parsed = urllib.parse.urlsplit(raw_path)
    parts = [urllib.parse.unquote(p) for p in parsed.path.split("/") if p]
    query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
    return parts, {k: v[-1] for k, v in query.items()}


def split_menu(parts):
    """Longest known menu prefix of the path segments; the rest is an id/name or a command."""
    from ros_model import MENUS
    for n in range(len(parts), 0, -1):
        candidate = "/".join(parts[:n])
        if candidate in MENUS:
            return candidate, parts[n:]
    raise RosError(400, "no such command or directory (%s)" % (parts[-1] if parts else "rest"))


class RestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mikrotik-emulator"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are closed after this
    emu = None  # set on the class by serve()

    def log_message(self, fmt, *args):
        if os.environ.get("ROS_EMU_VERBOSE"):
            sys.stderr.write("rest: " + (fmt % args) + "\n")

    def _send(self, status, body, raw=None, extra_headers=()):
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _error(self, e):
        headers = [("WWW-Authenticate", 'Basic realm="RouterOS"')] if e.status == 401 else []
        self._send(e.status, e.body(), extra_headers=headers)

    def _authorized(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.emu.user) and hmac.compare_digest(password, self.emu.password)

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True  # the unread body would spoil the next request on this connection
            raise RosError(400, "request too large")
        data = self.rfile.read(length) if length else b""
        if not data:
            return None
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise RosError(400, "expected Content-Type: application/json")  # UNCONFIRMED: the strict choice
        try:
            return json.loads(data)
        except ValueError:
            raise RosError(400, "invalid JSON")  # UNCONFIRMED wording

    def setup(self):
        super().setup()  # applies `timeout` to the socket
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()

    def _handle(self, method):
        with self.emu.rest_lock:
            self._handle_locked(method)

    def _handle_locked(self, method):
        emu = self.emu
        try:
            body = self._read_body()
            body_error = None
        except RosError as e:
            body, body_error = None, e
        with emu.lock:
            c = emu.counters
            c["total"] += 1
            c["requests"][method] = c["requests"].get(method, 0) + 1
            parts, query = rest_path(self.path)
            try:
                key = split_menu(parts[1:])[0]
            except RosError:
                key = "/".join(parts[1:])
            c["by_path"][method + " " + key] = c["by_path"].get(method + " " + key, 0) + 1
            fault = emu.take_fault(method, urllib.parse.urlsplit(self.path).path)
        if fault and fault["delay_ms"] > 0:
            time.sleep(fault["delay_ms"] / 1000.0)  # "slow", or any other fault coming late (Session closed: 60 s)
        with emu.lock:
            if fault and fault["kind"] == "drop":
                self._drop()
                return
            if fault and fault["kind"] == "status401":
                return self._error(RosError(401))
            if not self._authorized():
                emu.counters["auth_failures"] += 1
                return self._error(RosError(401))
            if fault and fault["kind"] == "status500":
                return self._error(RosError(500))
            if fault and fault["kind"] == "session_closed":
                return self._error(RosError(400, "Session closed"))
            try:
                if body_error:
                    raise body_error
                status, result = self._dispatch(method, parts, query, body)
            except RosError as e:
                return self._error(e)
            if method in WRITE_VERBS and not (method == "POST" and parts[-1] == "print"):
                emu.counters["writes"] += 1
            if fault and fault["kind"] == "drop_after_apply":
                self._drop()
                return
            raw = None
            if fault and fault["kind"] in ("invalid_json", "control_char"):
                raw = corrupt(result, fault["kind"])
            self._send(status, result, raw=raw)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _dispatch(self, method, parts, query, body):
        store = self.emu.store
        if not parts or parts[0] != "rest":
            raise RosError(404)
        menu, rest = split_menu(parts[1:])
        m = store.menu(menu)
        if method == "GET":
            proplist = query.pop(".proplist", None)
            proplist = proplist.split(",") if proplist is not None else None
            if rest:
                if len(rest) != 1:
                    raise RosError(400, "no such command or directory (%s)" % rest[-1])
                return 200, store.get(menu, rest[0], proplist)
            items = store.list(menu, filters=query, proplist=proplist)
            if m.singleton:
                if self.emu.quirks["singleton_as_array"]:
                    return 200, items
                return 200, items[0] if items else {}
            return 200, items
        if method == "PUT":
            if rest:
                raise RosError(400, "no such command or directory (%s)" % rest[0])
            if body is None:
                raise RosError(400, "missing body")
            return self.emu.quirks["put_status"], store.add(menu, body)
        if method == "PATCH":
            if len(rest) != 1:
                raise RosError(400, "no such command or directory (set)")
            return 200, store.set(menu, rest[0], body if body is not None else {})
        if method == "DELETE":
            if len(rest) != 1:
                raise RosError(400, "no such command or directory (remove)")
            store.remove(menu, rest[0])
            return self.emu.quirks["delete_status"], None
        if method == "POST":
            if len(rest) != 1:
                raise RosError(400, "no such command or directory (%s)" % menu.rsplit("/", 1)[-1])
            command = rest[0]
            if command == "print":
                return 200, store.print(menu, body)
            if command == "move":
                store.move(menu, body)
                return 200, []
            if command == "remove":
                unknown = set(body) - {"numbers"} if isinstance(body, dict) else set()
                if unknown:
                    raise RosError(400, "unknown parameter " + sorted(unknown)[0])
                store.remove_numbers(menu, body)
                return 200, []
            raise RosError(400, "no such command or directory (%s)" % command)
        raise RosError(400, "unsupported method")

    def do_GET(self):
        self._handle("GET")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_POST(self):
        self._handle("POST")


def corrupt(result, kind):
    """The reply with a raw control character inside a string value ("control_char": what RouterOS really sends,
    a client must cope) or cut short ("invalid_json": garbage no client can parse)."""
    text = json.dumps(result if result is not None else {})
    if kind == "invalid_json":
        return text[: max(1, len(text) // 2)].encode()
    marker = '"comment": "'
    if marker in text:
        text = text.replace(marker, marker + "host\x01name\x1f-", 1)
    else:
        obj_start = text.find("{")
        if obj_start < 0:
            return ('{"host-name": "pc\x01x"}').encode()
        text = text[: obj_start + 1] + '"host-name": "pc\x01x\x1f", ' + text[obj_start + 1:]
    return text.encode()


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emu = None

    def log_message(self, fmt, *args):
        if os.environ.get("ROS_EMU_VERBOSE"):
            sys.stderr.write("control: " + (fmt % args) + "\n")

    def _reply(self, status, obj):
        data = json.dumps(obj, indent=1).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        return json.loads(data) if data else {}

    def do_GET(self):
        emu = self.emu
        with emu.lock:
            if self.path == "/_emu/state":
                return self._reply(200, emu.store.dump())
            if self.path == "/_emu/counters":
                return self._reply(200, emu.counters)
            if self.path == "/_emu/faults":
                return self._reply(200, emu.faults)
            if self.path == "/_emu/health":
                return self._reply(200, {"ok": True})
        self._reply(404, {"error": "unknown control path " + self.path})

    def do_POST(self):
        emu = self.emu
        try:
            body = self._body()
        except ValueError:
            return self._reply(400, {"error": "control body is not JSON"})
        try:
            with emu.lock:
                result = self._post(emu, body)
        except RosError as e:
            return self._reply(400, {"error": str(e)})
        except (ValueError, KeyError, TypeError) as e:
            return self._reply(400, {"error": "%s: %s" % (type(e).__name__, e)})
        if result is None:
            return self._reply(404, {"error": "unknown control path " + self.path})
        self._reply(200, result)

    def _post(self, emu, body):
        store = emu.store
        if self.path == "/_emu/reboot":
            store.reboot()
            return {"ok": True}
        if self.path == "/_emu/dhcp-prefix":
            valid = body.get("valid", "1d")
            seconds = parse_duration(valid) if isinstance(valid, str) else float(valid)
            if seconds is None:
                raise ValueError("bad valid lifetime %r" % valid)
            return store.set_dhcp_prefix(body.get("interface"), body.get("prefix"), seconds,
                                         body.get("status", "bound"))
        if self.path == "/_emu/fault":
            kind = body["kind"]
            if kind not in FAULT_KINDS:
                raise ValueError("unknown fault kind %r (one of %s)" % (kind, ", ".join(FAULT_KINDS)))
            f = {"kind": kind, "count": int(body.get("count", 1)), "delay_ms": int(body.get("delay_ms", 0)),
                 "methods": [m.upper() for m in body.get("methods", [])], "path": body.get("path", "")}
            if f["count"] < 1:
                raise ValueError("count must be >= 1")
            emu.faults.append(f)
            return {"ok": True, "faults": emu.faults}
        if self.path == "/_emu/faults/clear":
            emu.faults.clear()
            return {"ok": True}
        if self.path == "/_emu/counters/reset":
            emu.reset_counters()
            return {"ok": True}
        if self.path == "/_emu/foreign":
            menu = body["menu"].strip("/")
            obj = dict(body["object"])
            if "place_before" in body:
                obj["place-before"] = body["place_before"]
            return store.add(menu, obj, foreign=True)
        if self.path == "/_emu/quirks":
            for k, v in body.items():
                if k not in emu.quirks:
                    raise ValueError("unknown quirk %r (one of %s)" % (k, ", ".join(emu.quirks)))
                emu.quirks[k] = type(emu.quirks[k])(v)
            return emu.quirks
        return None


class QuietServerMixin:
    def handle_error(self, request, client_address):
        # A client that rejects our certificate or hangs up is normal in tests: one short line, no traceback.
        exc = sys.exc_info()[1]
        if os.environ.get("ROS_EMU_VERBOSE"):
            sys.stderr.write("emulator: connection from %s ended: %s\n" % (client_address[0], exc))


class TlsRestServer(QuietServerMixin, ThreadingHTTPServer):
    """One thread per connection (so an idle keep-alive connection blocks nobody); requests themselves are
    processed one at a time under Emulator.lock, as RouterOS does."""
    daemon_threads = True

    def __init__(self, address, handler, context):
        self.context = context
        super().__init__(address, handler)

    def get_request(self):
        sock, addr = super().get_request()
        # The handshake runs in the connection's thread, on first read.
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


class PlainRestServer(QuietServerMixin, ThreadingHTTPServer):
    daemon_threads = True


class ControlServer(QuietServerMixin, ThreadingHTTPServer):
    daemon_threads = True


def serve(args):
    emu = Emulator(args.user, args.password)
    if args.state:
        with open(args.state) as f:
            emu.store.load_seed(json.load(f))
    RestHandler.emu = emu
    ControlHandler.emu = emu
    if args.plain:
        rest = PlainRestServer((args.host, args.port), RestHandler)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        rest = TlsRestServer((args.host, args.port), RestHandler, ctx)
    control = ControlServer((args.host, args.control_port), ControlHandler)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (rest, control)]
    for t in threads:
        t.start()
    # Port 0 means "pick one": the line tells the caller which ones it got.
    print("ready rest=%d control=%d" % (rest.server_address[1], control.server_address[1]), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    rest.shutdown()
    control.shutdown()


def main(argv=None):
    p = argparse.ArgumentParser(description="RouterOS v7 REST emulator for tests")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True, help="REST port (HTTPS unless --plain)")
    p.add_argument("--cert", help="PEM certificate for HTTPS")
    p.add_argument("--key", help="PEM private key for HTTPS")
    p.add_argument("--plain", action="store_true", help="serve REST over plain HTTP (RouterOS 'www' service)")
    p.add_argument("--user", required=True)
    p.add_argument("--password", default=os.environ.get("ROS_EMU_PASSWORD"),
                   help="or env ROS_EMU_PASSWORD")
    p.add_argument("--control-port", type=int, required=True, help="plain-HTTP control API port")
    p.add_argument("--state", help="seed JSON: {menu: [objects]}")
    args = p.parse_args(argv)
    if not args.plain and not (args.cert and args.key):
        p.error("--cert and --key are required unless --plain")
    if args.password is None:
        p.error("--password (or ROS_EMU_PASSWORD) is required")
    serve(args)


if __name__ == "__main__":
    main()
