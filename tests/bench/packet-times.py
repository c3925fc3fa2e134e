#!/usr/bin/env python3
# Packet timestamps for flight-delays.sh: run inside a namespace (ip netns exec px), writes one line per TCP
# segment to or from port 443 on any interface but lo ("time iface in|out src sport dst dport flags payload")
# to the file named by its argument until SIGTERM. Kernel receive timestamps (SO_TIMESTAMPNS) of an AF_PACKET
# socket: what the proxy host saw, not when Python read it.
import signal, socket, struct, sys
ETH_P_ALL = 3
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
out = open(sys.argv[1], 'w')
stop = False
def h(*a):
    global stop; stop = True
signal.signal(signal.SIGTERM, h)
s.settimeout(0.2)
while not stop:
    try:
        data, anc, flags, addr = s.recvmsg(256, 64)
    except socket.timeout:
        continue
    ts = None
    for lvl, typ, d in anc:
        if lvl == socket.SOL_SOCKET and typ == 35:
            sec, ns = struct.unpack('qq', d[:16]); ts = sec + ns / 1e9
    ifname, proto, pkttype = addr[0], addr[1], addr[2]
    if pkttype == 4: direction = 'out'
    else: direction = 'in'
    if ifname == 'lo': continue
    off = 14
    if proto == 0x0800:
        ihl = (data[off] & 15) * 4; tot = struct.unpack('!H', data[off+2:off+4])[0]
        if data[off+9] != 6: continue
        src = socket.inet_ntop(socket.AF_INET, data[off+12:off+16]); dst = socket.inet_ntop(socket.AF_INET, data[off+16:off+20])
        t = off + ihl; plen = tot - ihl
    elif proto == 0x86dd:
        if data[off+6] != 6: continue
        plen = struct.unpack('!H', data[off+4:off+6])[0]
        src = socket.inet_ntop(socket.AF_INET6, data[off+8:off+24]); dst = socket.inet_ntop(socket.AF_INET6, data[off+24:off+40])
        t = off + 40
    else: continue
    sp, dp = struct.unpack('!HH', data[t:t+4]); doff = (data[t+12] >> 4) * 4; fl = data[t+13]
    if sp != 443 and dp != 443: continue
    out.write(f"{ts:.9f} {ifname} {direction} {src} {sp} {dst} {dp} {fl} {plen - doff}\n")
out.close()
