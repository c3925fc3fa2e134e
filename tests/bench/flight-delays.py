#!/usr/bin/env python3
# Per-connection delays inside the proxy host from packet-times.py output of the harness's lat test (one
# connection at a time): client hello in -> SYN to the backend out, backend SYN-ACK in -> first data out, and
# each relayed flight (data in on one side -> data out on the other). Usage: flight-delays.py TIMES.txt
import sys, statistics as st
rows=[l.split() for l in open(sys.argv[1])]
rows=[(float(r[0]),r[1],r[2],r[3],int(r[4]),r[5],int(r[6]),int(r[7]),int(r[8])) for r in rows]
rows.sort()
# client-side iface has IPv4 addresses; backend-side IPv6
d_hello=[]; d_conn=[]; d_down=[]; d_up=[]
pending_hello=None; pending_synack=None; last_in={'c':None,'b':None}
for ts,ifn,dr,src,sp,dst,dp,fl,ln in rows:
    side = 'c' if ':' not in src else 'b'
    syn = fl & 2; ack = fl & 16
    if side=='c' and dr=='in' and ln>0 and pending_hello is None and last_in['c'] is None:
        pending_hello=ts
    if side=='b' and dr=='out' and syn and not ack and pending_hello is not None:
        d_hello.append(ts-pending_hello); pending_hello=None
    if side=='b' and dr=='in' and syn and ack: pending_synack=ts
    if side=='b' and dr=='out' and ln>0 and pending_synack is not None:
        d_conn.append(ts-pending_synack); pending_synack=None; last_in['c']='x'; continue
    if side=='c' and dr=='in' and syn and not ack: last_in={'c':None,'b':None}; pending_hello=None
    # relay flights after routing
    if dr=='in' and ln>0 and last_in['c']=='x':
        last_in[side+'t']=ts
    if dr=='out' and ln>0 and last_in['c']=='x':
        other = 'b' if side=='c' else 'c'
        t=last_in.get(other+'t')
        if t is not None:
            (d_down if side=='c' else d_up).append(ts-t); last_in[other+'t']=None
def q(v): 
    v=sorted(v); return f"n={len(v)} p50={1e6*v[len(v)//2]:.0f}us p90={1e6*v[int(len(v)*.9)]:.0f}us" if v else "none"
print("hello in -> backend SYN out:", q(d_hello))
print("backend SYN-ACK in -> first data out:", q(d_conn))
print("relay backend->client flight:", q(d_down))
print("relay client->backend flight:", q(d_up))
