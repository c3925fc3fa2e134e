#!/usr/bin/env python3
# Segments per connection on the proxy host, by interface side, direction and kind, from a capture written by
# packet-times.py during flight-delays.sh (the harness's lat test: the paired direct block, then the peer's,
# one connection at a time). Counts the second half of the capture's client SYNs onwards, i.e. the peer's block.
# Usage: packets-per-connection.py CAPTURE.txt
# Sides: C = the client's interface (px0), B = the backend's; kinds: ack (no payload, ACK flag only), data
# (payload), control (SYN, FIN or RST without payload).
import collections, sys

rows = [line.split() for line in open(sys.argv[1])]  # time iface in|out src sport dst dport flags payload
client_syns = [i for i, r in enumerate(rows) if r[1] == 'px0' and r[2] == 'in' and r[7] == '2']
if len(client_syns) < 20:
    sys.exit('too few connections in the capture')
block = rows[client_syns[len(client_syns) // 2]:]
connections = sum(1 for r in block if r[1] == 'px0' and r[2] == 'in' and r[7] == '2')
counts = collections.Counter()
for r in block:
    side = 'C' if r[1] == 'px0' else 'B'
    kind = 'data' if r[8] != '0' else ('ack' if r[7] == '16' else 'control')
    counts[(side, r[2], kind)] += 1
print(f'connections {connections}')
for key in sorted(counts):
    print(' '.join(key), f'{counts[key] / connections:.2f}')
for direction in ('out', 'in'):
    total = sum(v for k, v in counts.items() if k[1] == direction)
    print(f'all {direction} {total / connections:.2f}')
