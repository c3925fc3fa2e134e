#!/usr/bin/env python3
# Segments per proxied connection on the proxy host, by interface side, direction and kind, from a capture
# written by packet-times.py during flight-delays.sh (the harness's lat test, in which each proxied connection
# is followed by one over the paired direct path, forwarded through the same host).
# Usage: packets-per-connection.py CAPTURE.txt
# Sides: C = the client's interface (px0), B = the backend's; kinds: ack (no payload, ACK flag only), data
# (payload), control (SYN, FIN or RST without payload). The direct path's segments are left out: they cross
# the host over IPv4 on both sides (a proxied connection reaches its backend over IPv6), so a client port
# whose SYN also leaves on the backend's side is a direct connection's.
import collections, sys

rows = [line.split() for line in open(sys.argv[1])]  # time iface in|out src sport dst dport flags payload
SYN = '2'
direct_ports = {r[4] for r in rows if r[1] != 'px0' and r[2] == 'out' and r[7] == SYN and ':' not in r[3]}


def proxied(r):
    if r[1] != 'px0':
        return ':' in r[3]
    client_port = r[4] if r[6] == '443' else r[6]
    return client_port not in direct_ports


block = [r for r in rows if proxied(r)]
connections = sum(1 for r in block if r[1] == 'px0' and r[2] == 'in' and r[7] == SYN)
if connections < 20:
    sys.exit('too few proxied connections in the capture')
counts = collections.Counter()
for r in block:
    side = 'C' if r[1] == 'px0' else 'B'
    kind = 'data' if r[8] != '0' else ('ack' if r[7] == '16' else 'control')
    counts[(side, r[2], kind)] += 1
print(f'proxied connections {connections} (direct ones left out: {len(direct_ports)})')
for key in sorted(counts):
    print(' '.join(key), f'{counts[key] / connections:.2f}')
for direction in ('out', 'in'):
    total = sum(v for k, v in counts.items() if k[1] == direction)
    print(f'all {direction} {total / connections:.2f}')
