#!/usr/bin/env python3
# Per-connection delays inside the proxy host from packet-times.py output of the harness's lat test (one
# connection at a time): client hello in -> SYN to the backend out, backend SYN-ACK in -> first data out, and
# each relayed flight (data in on one side -> data out on the other). The client side speaks IPv4, the
# backend side IPv6. Usage: flight-delays.py TIMES.txt
import sys

SYN, ACK = 2, 16
hello_to_syn, synack_to_data, to_client, to_backend = [], [], [], []


class Connection:
    def __init__(self):
        self.hello_in = None    # the client's first data, until our SYN to the backend goes out
        self.synack_in = None   # the backend's SYN-ACK, until the replayed hello goes out
        self.routed = False     # the hello has been replayed: from here on every flight is relayed
        self.flight_in = {}     # side -> arrival of its latest data segment not yet followed by data out


conn = Connection()
# Sorted by time, then interface: two segments with one timestamp keep the order the capture's interfaces give.
fields = (line.split() for line in open(sys.argv[1]))
packets = sorted((float(f[0]), f[1], f[2], f[3], int(f[7]), int(f[8])) for f in fields)
for time, _, direction, source, flags, payload in packets:
    side = 'client' if ':' not in source else 'backend'
    syn_only, syn_ack = flags & (SYN | ACK) == SYN, flags & (SYN | ACK) == SYN | ACK
    if side == 'client' and direction == 'in' and syn_only:
        conn = Connection()
    elif not conn.routed:
        if side == 'client' and direction == 'in' and payload and conn.hello_in is None:
            conn.hello_in = time
        elif side == 'backend' and direction == 'out' and syn_only and conn.hello_in is not None:
            hello_to_syn.append(time - conn.hello_in)
        elif side == 'backend' and direction == 'in' and syn_ack:
            conn.synack_in = time
        elif side == 'backend' and direction == 'out' and payload and conn.synack_in is not None:
            synack_to_data.append(time - conn.synack_in)
            conn.routed = True
    elif payload and direction == 'in':
        conn.flight_in[side] = time
    elif payload and direction == 'out':
        source_side = 'backend' if side == 'client' else 'client'
        arrived = conn.flight_in.pop(source_side, None)
        if arrived is not None:
            (to_client if side == 'client' else to_backend).append(time - arrived)


def summary(delays):
    if not delays:
        return "none"
    delays = sorted(delays)
    return (f"n={len(delays)} p50={1e6 * delays[len(delays) // 2]:.0f}us "
            f"p90={1e6 * delays[int(len(delays) * .9)]:.0f}us")


print("hello in -> backend SYN out:", summary(hello_to_syn))
print("backend SYN-ACK in -> first data out:", summary(synack_to_data))
print("relay backend->client flight:", summary(to_client))
print("relay client->backend flight:", summary(to_backend))
