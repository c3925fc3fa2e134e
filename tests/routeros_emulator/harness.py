"""Start the RouterOS emulator from a Python test: a throw-away certificate, free ports, a bounded wait for
"ready", and clean shutdown (also when the test fails).

    import sys; sys.path.insert(0, "<repo>/tests/routeros_emulator")
    from harness import RunningEmulator
    with RunningEmulator() as emu:
        emu.rest_get("/rest/routing/table")           # HTTPS, verified against emu.cert_file
        emu.control("POST", "/_emu/dhcp-prefix", {"prefix": "2001:db8:1200::/56", "valid": "1d"})
        emu.fingerprint                                # SHA-256 of the certificate, hex
"""

import base64
import hashlib
import json
import os
import select
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def make_certificate(directory, common_name="router.test"):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + common_name,
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return cert, key, hashlib.sha256(der).hexdigest()


class RunningEmulator:
    def __init__(self, user="sixgate", password="s3cret pass", seed=None, ready_timeout=15.0, plain=False):
        self.user, self.password, self.seed, self.ready_timeout, self.plain = user, password, seed, ready_timeout, plain
        self.dir = None
        self.proc = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="sgag-ros-")
        try:
            self.cert_file, self.key_file, self.fingerprint = make_certificate(self.dir)
            cmd = [sys.executable, os.path.join(HERE, "emulator.py"), "--port", "0", "--control-port", "0",
                   "--user", self.user, "--password", self.password]
            cmd += ["--plain"] if self.plain else ["--cert", self.cert_file, "--key", self.key_file]
            if self.seed is not None:
                seed_file = os.path.join(self.dir, "seed.json")
                with open(seed_file, "w") as f:
                    json.dump(self.seed, f)
                cmd += ["--state", seed_file]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith("ready"):
                    fields = dict(x.split("=") for x in line.split()[1:])
                    self.rest_port, self.control_port = int(fields["rest"]), int(fields["control"])
                    scheme = "http" if self.plain else "https"
                    self.base_url = "%s://127.0.0.1:%d" % (scheme, self.rest_port)
                    return
                if not line:
                    break
            if self.proc.poll() is not None:
                break
        raise RuntimeError("RouterOS emulator did not become ready (exit code %s)" % self.proc.poll())

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    # -- talking to it -------------------------------------------------------------------------------------------
    def control(self, method, path, body=None, timeout=10):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.control_port, path), data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError("control %s %s: %s %s" % (method, path, e.code, e.read().decode(errors="replace")))

    def rest(self, method, path, body=None, user=None, password=None, timeout=10):
        """(status, parsed body or None). Never raises on HTTP errors."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        token = base64.b64encode(("%s:%s" % (user or self.user, password or self.password)).encode()).decode()
        req.add_header("Authorization", "Basic " + token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        ctx = None if self.plain else ssl.create_default_context(cafile=self.cert_file)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
                raw, status = r.read(), r.status
        except urllib.error.HTTPError as e:
            raw, status = e.read(), e.code
        return status, (json.loads(raw) if raw else None)

    def rest_get(self, path):
        status, body = self.rest("GET", path)
        if status != 200:
            raise RuntimeError("GET %s: %s %s" % (path, status, body))
        return body
