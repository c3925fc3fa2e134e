"""RouterOS v7 REST semantics for the emulator: menus as data, a store with ordered tables, validation and the
error bodies RouterOS returns. Pure (no sockets); emulator.py puts HTTP around it.

Semantics follow /work/shared/routeros/README.md; where that file says UNCONFIRMED, the strictest plausible
behaviour is chosen (documented in README.md next to this file).
"""

import copy
import ipaddress
import re
import time


class RosError(Exception):
    """A RouterOS error reply: HTTP status plus the documented JSON body."""

    REASONS = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 406: "Not Acceptable",
               500: "Internal Server Error"}

    def __init__(self, status, detail=None):
        super().__init__(detail or self.REASONS.get(status, "Error"))
        self.status = status
        self.detail = detail

    def body(self):
        b = {"error": self.status, "message": self.REASONS.get(self.status, "Error")}
        if self.detail is not None:
            b["detail"] = self.detail
        return b


def bad(detail):
    return RosError(400, detail)


# ---------------------------------------------------------------------------------------------------------------
# Value kinds. Each validator takes (store, property, text) and returns the stored text or raises RosError.

def no_match(prop):
    return bad("input does not match any value of " + prop)


def v_text(store, prop, text):
    return text


def v_bool(store, prop, text):
    if text in ("yes", "true"):
        return "true"
    if text in ("no", "false"):
        return "false"
    raise no_match(prop)


def v_flag(store, prop, text):
    return ""  # flag properties are set by presence; any value sets them (see /ipv6/route blackhole)


def v_uint(store, prop, text):
    if not re.fullmatch(r"[0-9]{1,10}", text):
        raise no_match(prop)
    return str(int(text))


def _negatable(text):
    if text.startswith("!"):
        return "!", text[1:]
    return "", text


def v_fw_address(store, prop, text):
    """Firewall src/dst-address: IPv6 address or prefix, optional '!'; x/128 reads back as x."""
    neg, rest = _negatable(text)
    try:
        net = ipaddress.IPv6Network(rest, strict=True)
    except ValueError:
        raise no_match(prop)
    if net.prefixlen == 128:
        return neg + str(net.network_address)
    return neg + str(net)


def v_list_address(store, prop, text):
    """Address-list entry: IPv6 address or prefix; without a mask it reads back as /128."""
    try:
        net = ipaddress.IPv6Network(text, strict=True)
    except ValueError:
        raise no_match(prop)
    return str(net)  # IPv6Network keeps "/128" for a bare address


def v_route_dst(store, prop, text):
    try:
        return str(ipaddress.IPv6Network(text, strict=True))
    except ValueError:
        raise no_match(prop)


def v_prefix_or_empty(store, prop, text):
    if text in ("", "::/0"):
        return text
    return v_route_dst(store, prop, text)


def v_list_name(store, prop, text):
    neg, rest = _negatable(text)
    if not rest:
        raise no_match(prop)
    return neg + rest


def v_routing_table(store, prop, text):
    """A name that must exist in /routing/table (v7: new-routing-mark and routing-table)."""
    if not any(t.get("name") == text for t in store.tables["routing/table"]):
        raise no_match(prop)
    return text


def v_duration(store, prop, text):
    if parse_duration(text) is None:
        raise no_match(prop)
    return text


def v_choice(*choices):
    def check(store, prop, text):
        if text not in choices:
            raise no_match(prop)
        return text
    return check


def v_request(store, prop, text):
    parts = text.split(",")
    if not parts or any(p not in ("info", "address", "prefix") for p in parts):
        raise no_match(prop)
    return text


def v_gateway(store, prop, text):
    if not text or text.strip() != text:
        raise no_match(prop)
    return text


def parse_numbers(body):
    """The ids of a move/remove command: "numbers" as "*A,*B" or a list of strings."""
    if not isinstance(body, dict) or "numbers" not in body:
        raise bad("missing value for numbers")
    numbers = body["numbers"]
    ids = numbers.split(",") if isinstance(numbers, str) else numbers
    if not isinstance(ids, list) or not ids or not all(isinstance(x, str) and x for x in ids):
        raise no_match("numbers")
    return ids


# ---------------------------------------------------------------------------------------------------------------
# Menus as data.

class Menu:
    def __init__(self, path, writable, read_only=(), write_only=(), defaults=None, required=(), ordered=False,
                 singleton=False, named=None, unique=None, movable=False, flags=()):
        self.path = path
        self.writable = dict(writable)          # property -> validator
        self.read_only = set(read_only)
        self.write_only = set(write_only)       # accepted on PUT only, never stored (place-before)
        self.defaults = dict(defaults or {})    # filled on add (readable defaults RouterOS shows)
        self.required = tuple(required)
        self.ordered = ordered
        self.singleton = singleton
        self.named = named                      # property usable instead of the id in URLs
        self.unique = unique                    # function(obj) -> key; duplicates are refused
        self.movable = movable
        self.flags = set(flags)                 # read back as "" when set, absent otherwise


MANGLE_ACTIONS = ("accept", "add-dst-to-address-list", "add-src-to-address-list", "change-dscp", "change-hop-limit",
                  "change-mss", "clear-df", "fasttrack-connection", "jump", "log", "mark-connection",
                  "mark-packet", "mark-routing", "passthrough", "return", "set-priority", "sniff-pc", "sniff-tzsp",
                  "strip-dscp")

MENUS = {m.path: m for m in [
    Menu("ipv6/firewall/mangle",
         writable={"chain": v_text, "action": v_choice(*MANGLE_ACTIONS), "new-routing-mark": v_routing_table,
                   "passthrough": v_bool, "src-address": v_fw_address, "dst-address": v_fw_address,
                   "src-address-list": v_list_name, "dst-address-list": v_list_name, "in-interface": v_text,
                   "out-interface": v_text, "in-interface-list": v_text, "out-interface-list": v_text,
                   "routing-mark": v_routing_table, "connection-mark": v_text, "protocol": v_text,
                   "dst-port": v_text, "src-port": v_text, "log": v_bool, "log-prefix": v_text, "comment": v_text,
                   "disabled": v_bool, "new-connection-mark": v_text, "new-packet-mark": v_text,
                   "connection-state": v_text, "jump-target": v_text},
         read_only=("bytes", "packets", "dynamic", "invalid"),
         write_only=("place-before",),
         defaults={"action": "accept", "passthrough": "true", "log": "false", "log-prefix": "", "disabled": "false",
                   "bytes": "0", "packets": "0", "dynamic": "false", "invalid": "false"},
         required=("chain",), ordered=True, movable=True),
    Menu("ipv6/firewall/address-list",
         writable={"list": v_text, "address": v_list_address, "comment": v_text, "disabled": v_bool,
                   "timeout": v_duration, "dynamic": v_bool},
         read_only=("creation-time",),
         defaults={"disabled": "false", "dynamic": "false"},
         required=("list", "address"), ordered=True,
         unique=lambda o: (o.get("list"), o.get("address"))),
    Menu("ipv6/route",
         writable={"dst-address": v_route_dst, "gateway": v_gateway, "routing-table": v_routing_table,
                   "distance": v_uint, "scope": v_uint, "target-scope": v_uint, "comment": v_text,
                   "disabled": v_bool, "check-gateway": v_choice("arp", "bfd", "bfd-multihop", "none", "ping"),
                   "blackhole": v_flag, "vrf-interface": v_text, "suppress-hw-offload": v_bool},
         read_only=("active", "inactive", "dynamic", "static", "ecmp", "immediate-gw", "hw-offloaded"),
         defaults={"routing-table": "main", "distance": "1", "scope": "30", "target-scope": "10",
                   "disabled": "false", "dynamic": "false", "static": "true", "active": "true",
                   "inactive": "false", "ecmp": "false", "suppress-hw-offload": "false"},
         required=("gateway",), ordered=True, flags=("blackhole",)),
    Menu("routing/table",
         writable={"name": v_text, "fib": v_flag, "comment": v_text, "disabled": v_bool},
         read_only=("dynamic", "invalid"),
         defaults={"disabled": "false", "dynamic": "false", "invalid": "false"},
         required=("name",), named="name", unique=lambda o: o.get("name"), flags=("fib",)),
    Menu("ipv6/dhcp-client",
         writable={"interface": v_text, "request": v_request, "pool-name": v_text, "pool-prefix-length": v_uint,
                   "prefix-hint": v_prefix_or_empty, "script": v_text, "prefix-address-lists": v_text,
                   "comment": v_text, "disabled": v_bool, "add-default-route": v_bool, "use-peer-dns": v_bool,
                   "rapid-commit": v_bool},
         read_only=("status", "prefix", "expires-after", "dynamic", "invalid", "address", "duid"),
         defaults={"request": "prefix", "pool-prefix-length": "64", "prefix-hint": "::/0", "disabled": "false",
                   "add-default-route": "false", "use-peer-dns": "true", "rapid-commit": "true",
                   "status": "searching", "dynamic": "false", "invalid": "false"},
         required=("interface",), named="interface", unique=lambda o: o.get("interface")),
    Menu("ipv6/pool",
         writable={"name": v_text, "prefix": v_route_dst, "prefix-length": v_uint, "comment": v_text},
         read_only=("dynamic", "expires-after"),
         defaults={"dynamic": "false"},
         required=("name", "prefix", "prefix-length"), named="name", unique=lambda o: o.get("name")),
    Menu("system/resource", writable={}, singleton=True,
         read_only=("uptime", "version", "build-time", "free-memory", "total-memory", "cpu", "cpu-count",
                    "cpu-frequency", "cpu-load", "free-hdd-space", "total-hdd-space", "architecture-name",
                    "board-name", "platform")),
]}

WRITE_VERBS = ("PUT", "PATCH", "DELETE", "POST")


# ---------------------------------------------------------------------------------------------------------------
# Durations as RouterOS prints and reads them.

_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def parse_duration(text):
    """Seconds (float) or None: "1d2h", "300ms", "00:00:10", "1d 00:00:00", "10" (seconds)."""
    if re.fullmatch(r"[0-9]{1,9}", text):
        return float(text)
    m = re.fullmatch(r"((?:[0-9]{1,9}(?:ms|w|d|h|m|s))*) ?(?:([0-9]{1,9}):([0-5][0-9]):([0-5][0-9]))?", text)
    if not m or not text or (m.group(1) == "" and m.group(2) is None):
        return None
    total = 0.0
    for number, unit in re.findall(r"([0-9]+)(ms|w|d|h|m|s)", m.group(1)):
        total += int(number) * _UNIT_SECONDS[unit]
    if m.group(2) is not None:
        total += int(m.group(2)) * 3600 + int(m.group(3)) * 60 + int(m.group(4))
    return total


def format_duration(seconds):
    seconds = int(max(0, seconds))
    if seconds == 0:
        return "0s"
    out = ""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += "%d%s" % (seconds // size, unit)
            seconds %= size
    return out


# ---------------------------------------------------------------------------------------------------------------
# API query words for POST .../print (".query"): a stack machine as in the RouterOS API.

def _compare(a, b):
    try:
        return (int(a) > int(b)) - (int(a) < int(b))
    except ValueError:
        return (a > b) - (a < b)


def eval_query(obj, words):
    stack = []
    for w in words:
        if not isinstance(w, str):
            raise bad("invalid query word")
        if w.startswith("#"):
            ops = w[1:]
            for op in ops:
                if op == "!":
                    if not stack:
                        raise bad("invalid query: empty stack")
                    stack.append(not stack.pop())
                elif op in "&|":
                    if len(stack) < 2:
                        raise bad("invalid query: empty stack")
                    b2, b1 = stack.pop(), stack.pop()
                    stack.append((b1 and b2) if op == "&" else (b1 or b2))
                elif op == ".":
                    if not stack:
                        raise bad("invalid query: empty stack")
                    stack.append(stack[-1])
                else:
                    raise bad("invalid query operation " + op)
        elif w.startswith("-"):
            stack.append(w[1:] not in obj)
        elif w.startswith("<") or w.startswith(">"):
            name, _, value = w[1:].partition("=")
            if name not in obj:
                stack.append(False)
            else:
                c = _compare(obj[name], value)
                stack.append(c < 0 if w[0] == "<" else c > 0)
        elif "=" in w:
            name, _, value = w.partition("=")
            stack.append(obj.get(name) == value)
        else:
            stack.append(w in obj)
    return all(stack)


# ---------------------------------------------------------------------------------------------------------------

class Store:
    """All tables. Objects are dicts of strings; hidden bookkeeping keys start with '_' and never leave."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.boot_time = clock()
        self.next_id = {}
        self.tables = {path: [] for path in MENUS}
        self.tables["routing/table"].append({".id": "*0", "name": "main", "fib": "", "dynamic": "true",
                                             "disabled": "false", "invalid": "false"})
        self.next_id["routing/table"] = 1
        self.tables["system/resource"].append({"version": "7.16.2 (stable)", "board-name": "CHR",
                                               "architecture-name": "x86_64", "platform": "MikroTik",
                                               "cpu": "QEMU", "cpu-count": "1", "cpu-load": "3",
                                               "free-memory": "201326592", "total-memory": "268435456"})

    # -- helpers ---------------------------------------------------------------------------------------------
    def menu(self, path):
        m = MENUS.get(path)
        if m is None:
            raise bad("no such command or directory (" + path.rsplit("/", 1)[-1] + ")")
        return m

    def new_id(self, path):
        n = self.next_id.get(path, 1)
        self.next_id[path] = n + 1
        return "*%X" % n

    def find(self, path, key):
        m = self.menu(path)
        for i, o in enumerate(self.tables[path]):
            if o.get(".id") == key or (m.named and o.get(m.named) == key):
                return i, o
        raise RosError(404)

    def expire(self):
        now = self.clock()
        lst = self.tables["ipv6/firewall/address-list"]
        lst[:] = [o for o in lst if "_expires" not in o or o["_expires"] > now]

    def view(self, path, obj):
        """The object as GET shows it: computed fields filled, bookkeeping removed."""
        out = {k: v for k, v in obj.items() if not k.startswith("_")}
        now = self.clock()
        if "_expires" in obj:
            out["timeout"] = format_duration(obj["_expires"] - now)
        if path == "ipv6/dhcp-client" and "_prefix" in obj:
            out["prefix"] = "%s, %s" % (obj["_prefix"], format_duration(obj["_prefix_expires"] - now))
            out["expires-after"] = format_duration(obj["_prefix_expires"] - now)
        if path == "system/resource":
            out["uptime"] = format_duration(now - self.boot_time)
        return out

    def _validate(self, m, body, creating):
        if not isinstance(body, dict):
            raise bad("expected a JSON object")
        clean, unset = {}, []
        for prop, value in body.items():
            if prop.startswith("!") and not creating:
                name = prop[1:]
                if name not in m.writable or name in m.required:
                    raise bad("unknown parameter " + name)
                unset.append(name)
                continue
            if prop in m.write_only and creating:
                if not isinstance(value, str):
                    raise bad("invalid value type for " + prop)
                continue
            if prop not in m.writable:
                raise bad("unknown parameter " + prop)
            if not isinstance(value, str):
                raise bad("invalid value type for " + prop + " (RouterOS values are strings)")
            clean[prop] = value
        return clean, unset

    def _apply(self, path, m, obj, clean):
        for prop, value in clean.items():
            stored = m.writable[prop](self, prop, value)
            if prop == "timeout" and path == "ipv6/firewall/address-list":
                seconds = parse_duration(stored)
                if seconds:
                    obj["_expires"] = self.clock() + seconds
                else:
                    obj.pop("_expires", None)
                continue
            obj[prop] = stored

    def _check_unique(self, path, m, obj):
        if m.unique is None:
            return
        key = m.unique(obj)
        for other in self.tables[path]:
            if other is not obj and other.get(".id") != obj.get(".id") and m.unique(other) == key:
                raise bad("failure: already have such entry")

    # -- verbs -----------------------------------------------------------------------------------------------
    def list(self, path, filters=None, proplist=None, query=None):
        self.expire()
        m = self.menu(path)
        items = [self.view(path, o) for o in self.tables[path]]
        if m.singleton:
            items = items[:1]
        if filters:
            items = [o for o in items if all(o.get(k) == v for k, v in filters.items())]
        if query:
            items = [o for o in items if eval_query(o, query)]
        if proplist is not None:
            items = [{k: v for k, v in o.items() if k in proplist} for o in items]
        return items

    def get(self, path, key, proplist=None):
        self.expire()
        m = self.menu(path)
        if m.singleton:
            raise bad("no such command or directory (" + key + ")")
        _, o = self.find(path, key)
        out = self.view(path, o)
        if proplist is not None:
            out = {k: v for k, v in out.items() if k in proplist}
        return out

    def add(self, path, body, foreign=False):
        self.expire()
        m = self.menu(path)
        if m.singleton:
            raise bad("no such command or directory (add)")
        place_before = body.get("place-before") if isinstance(body, dict) else None
        if foreign:
            # Test setup: read-only properties (dynamic, status, ...) may be given too.
            extra = {k: v for k, v in body.items() if k in m.read_only and isinstance(v, str)}
            body = {k: v for k, v in body.items() if k not in m.read_only}
        else:
            extra = {}
        clean, _ = self._validate(m, body, creating=True)
        for r in m.required:
            if r not in clean:
                raise bad("missing value for " + r)  # UNCONFIRMED wording
        obj = {".id": None}
        obj.update({k: v for k, v in m.defaults.items()})
        self._apply(path, m, obj, clean)
        obj.update(extra)
        if path == "ipv6/firewall/address-list":
            obj["creation-time"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.clock()))
            if "_expires" in obj:
                obj["dynamic"] = "true"  # entries with a timeout are dynamic (RAM only)
        self._check_unique(path, m, obj)
        index = len(self.tables[path])
        if place_before is not None:
            if not m.ordered:
                raise bad("unknown parameter place-before")
            try:
                index, _ = self.find(path, place_before)
            except RosError:
                raise bad("no such item")  # UNCONFIRMED wording
        obj[".id"] = self.new_id(path)
        self.tables[path].insert(index, obj)
        return self.view(path, obj)

    def set(self, path, key, body):
        self.expire()
        m = self.menu(path)
        if m.singleton:
            raise bad("no such command or directory (set)")
        _, obj = self.find(path, key)
        if isinstance(body, dict) and ".id" in body:
            if body[".id"] != obj[".id"]:
                raise bad("unknown parameter .id")
            body = {k: v for k, v in body.items() if k != ".id"}
        clean, unset = self._validate(m, body, creating=False)
        if obj.get("dynamic") == "true" and (clean or unset) and path != "ipv6/firewall/address-list":
            raise bad("failure: can not change dynamic")
        candidate = dict(obj)
        self._apply(path, m, candidate, clean)
        for name in unset:
            candidate.pop(name, None)
            if name == "timeout":
                candidate.pop("_expires", None)
        self._check_unique(path, m, candidate)
        obj.clear()
        obj.update(candidate)
        return self.view(path, obj)

    def table_users(self, name):
        """Objects naming routing table `name` in a property that must name an existing table (v_routing_table):
        mangle new-routing-mark / routing-mark, route routing-table. [(menu, .id, property)]"""
        users = []
        for path, m in MENUS.items():
            props = [p for p, check in m.writable.items() if check is v_routing_table]
            for o in self.tables[path]:
                users.extend((path, o.get(".id"), p) for p in props if o.get(p) == name)
        return users

    def _check_removable(self, path, obj):
        if obj.get("dynamic") == "true" and path in ("routing/table", "ipv6/pool"):
            raise bad("failure: can not remove dynamic")
        if path == "routing/table":
            # The notes (§6) make a mark or route name an existing table; RouterOS keeps that true by refusing to
            # remove a table still in use. Wording UNCONFIRMED.
            users = self.table_users(obj.get("name"))
            if users:
                menu, oid, prop = users[0]
                raise bad("failure: table is in use (%s %s %s)" % (menu, oid, prop))

    def remove(self, path, key):
        self.expire()
        m = self.menu(path)
        if m.singleton:
            raise RosError(406, "no such command or directory (remove)")
        i, obj = self.find(path, key)
        self._check_removable(path, obj)
        del self.tables[path][i]

    def remove_numbers(self, path, body):
        """POST <menu>/remove {"numbers": "*A,*B" or ["*A","*B"]}: all or nothing (every id is checked first)."""
        self.expire()
        m = self.menu(path)
        if m.singleton:
            raise RosError(406, "no such command or directory (remove)")
        ids = parse_numbers(body)
        targets = []
        for key in ids:
            try:
                _, o = self.find(path, key)
            except RosError:
                raise bad("no such item")  # UNCONFIRMED wording
            if all(o is not t for t in targets):
                targets.append(o)
        for o in targets:
            self._check_removable(path, o)
        self.tables[path][:] = [o for o in self.tables[path] if all(o is not t for t in targets)]

    def move(self, path, body):
        self.expire()
        m = self.menu(path)
        if not m.movable:
            raise bad("no such command or directory (move)")
        ids = parse_numbers(body)
        unknown = set(body) - {"numbers", "destination"}
        if unknown:
            raise bad("unknown parameter " + sorted(unknown)[0])
        table = self.tables[path]
        moving = []
        for key in ids:
            try:
                _, o = self.find(path, key)
            except RosError:
                raise bad("no such item")
            if o not in moving:
                moving.append(o)
        dest = body.get("destination")
        rest = [o for o in table if all(o is not x for x in moving)]
        if dest:
            try:
                _, d = self.find(path, dest)
            except RosError:
                raise bad("no such item")
            # Before the destination; when it is itself moved, the block lands where it was.
            pos = next(i for i, o in enumerate(table) if o is d)
            index = sum(1 for o in table[:pos] if all(o is not x for x in moving))
        else:
            index = len(rest)
        table[:] = rest[:index] + moving + rest[index:]

    def print(self, path, body):
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise bad("expected a JSON object")
        proplist = body.get(".proplist")
        if isinstance(proplist, str):
            proplist = proplist.split(",")
        query = body.get(".query")
        if query is not None and not isinstance(query, list):
            raise bad("invalid .query")
        unknown = set(body) - {".proplist", ".query"}
        if unknown:
            raise bad("unknown parameter " + sorted(unknown)[0])
        return self.list(path, proplist=proplist, query=query)

    # -- emulator control --------------------------------------------------------------------------------------
    def reboot(self):
        """Entries with a timeout live in RAM only; everything else (and every id) survives."""
        lst = self.tables["ipv6/firewall/address-list"]
        lst[:] = [o for o in lst if "_expires" not in o]
        self.boot_time = self.clock()

    def set_dhcp_prefix(self, interface, prefix, valid_seconds, status="bound"):
        clients = self.tables["ipv6/dhcp-client"]
        target = None
        for c in clients:
            if interface is None or c.get("interface") == interface:
                target = c
                break
        if target is None:
            raise bad("no dhcp-client on interface %r" % interface)
        old = target.get("_prefix")
        if prefix is None:
            for k in ("_prefix", "_prefix_expires", "expires-after"):
                target.pop(k, None)
            target["status"] = status if status != "bound" else "searching"
        else:
            net = ipaddress.IPv6Network(prefix, strict=True)
            target["_prefix"] = str(net)
            target["_prefix_expires"] = self.clock() + float(valid_seconds)
            target["status"] = status
        self._follow_prefix(target, old)
        return self.view("ipv6/dhcp-client", target)

    def _follow_prefix(self, client, old_prefix):
        """What RouterOS does itself: the dynamic pool, and prefix-address-lists (7.17+)."""
        pool_name = client.get("pool-name")
        new = client.get("_prefix")
        pools = self.tables["ipv6/pool"]
        if pool_name:
            pools[:] = [p for p in pools if not (p.get("name") == pool_name and p.get("dynamic") == "true")]
            if new:
                pools.append({".id": self.new_id("ipv6/pool"), "name": pool_name, "prefix": new,
                              "prefix-length": client.get("pool-prefix-length", "64"), "dynamic": "true"})
        lists = [x for x in client.get("prefix-address-lists", "").split(",") if x]
        al = self.tables["ipv6/firewall/address-list"]
        for name in lists:
            al[:] = [e for e in al if not (e.get("list") == name and e.get("_by_dhcp") == client[".id"])]
            if new:
                al.append({".id": self.new_id("ipv6/firewall/address-list"), "list": name, "address": new,
                           "dynamic": "true", "disabled": "false", "_by_dhcp": client[".id"],
                           "creation-time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.clock()))})

    def dump(self):
        return {path: [self.view(path, o) for o in items] for path, items in self.tables.items()}

    def load_seed(self, seed):
        """{menu: [objects]}: each listed menu's user objects are replaced (built-ins such as the main table stay)."""
        for path, items in seed.items():
            m = self.menu(path.strip("/"))
            path = m.path
            if m.singleton:
                self.tables[path][0].update({k: str(v) for k, v in items.items()})
                continue
            self.tables[path] = [o for o in self.tables[path] if o.get(".id") == "*0" and path == "routing/table"]
            for item in items:
                self.add(path, copy.deepcopy(item), foreign=True)
