#!/usr/bin/env python3
"""Idle-connection flood against `sevwatch serve` (the "connection exhaustion" finding).

For each scenario: start a server, open N idle TCP connections in one burst, and print the
server's RSS and open descriptors before, during and after the burst (after the server has cut
the idle connections, and after the client has closed what was left), how long GET /healthz
took on a fresh connection right after the burst and 300 ms later, and how the N connections were treated (held,
answered with the written 503, closed). Each burst is repeated to show whether memory freed
after one burst is reused by the next or keeps growing.

Scenarios:
  cap      the default cap (max_connections = 2048), silent connections: the flood as reported
  cap-partial  the same, each connection having sent half a request line
  silent   cap above N: every connection held, none has sent a byte (hyper not started yet)
  partial  cap above N: every connection has sent half a request line, so hyper holds its
           buffers for each until the header timeout (what every idle connection cost before)

Loopback only, Python standard library only, about a minute. Usage:
  cargo build --release -p sevwatch
  bench/idle_flood.py [--conns 10000] [--rounds 2] [--bin target/release/sevwatch] [scenario ...]
"""

import argparse
import os
import re
import resource
import selectors
import shutil
import socket
import subprocess
import tempfile
import time

HEADER_TIMEOUT_S = 5  # short, so that a run takes a minute; the default is 10 s


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def mib(kib):
    return f"{kib / 1024:7.1f} MiB"


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def start(binary, work, max_connections):
    data = os.path.join(work, "data")
    config = os.path.join(work, "sevwatch.toml")
    with open(config, "w") as f:
        f.write(f'[server]\nmax_connections = {max_connections}\nheader_timeout = "{HEADER_TIMEOUT_S}s"\n')
    log = open(os.path.join(work, "server.log"), "w+")
    env = dict(os.environ, SEVWATCH_LOG="warn")
    proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--config", config],
        stderr=log,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    for _ in range(200):
        log.seek(0)
        m = re.search(r"listening on http://([\d.]+):(\d+)", log.read())
        if m:
            return proc, (m.group(1), int(m.group(2)))
        time.sleep(0.05)
    log.seek(0)
    raise SystemExit("the server did not start:\n" + log.read())


def healthz(addr):
    """Milliseconds for GET /healthz on a fresh connection, and the status line (or the error)."""
    began = time.monotonic()
    try:
        with socket.create_connection(addr, timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            line = data.split(b"\r\n", 1)[0].decode(errors="replace") or "closed without an answer"
    except OSError as e:
        line = f"error: {e}"
    return (time.monotonic() - began) * 1000, line


def burst(addr, n, send):
    """Open n connections at once (non-blocking connects, 512 in flight), send `send` on each."""
    socks, failed, pending = [], 0, {}
    sel = selectors.DefaultSelector()
    todo = n
    while todo or pending:
        while todo and len(pending) < 512:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(addr)
            pending[s.fileno()] = s
            sel.register(s, selectors.EVENT_WRITE)
            todo -= 1
        for key, _ in sel.select(timeout=5):
            s = pending.pop(key.fd)
            sel.unregister(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                failed += 1
                s.close()
                continue
            if send:
                try:
                    s.send(send)
                except OSError:
                    pass
            socks.append(s)
    sel.close()
    return socks, failed


def classify(socks, seen):
    """Read what each socket has; `seen` keeps what was read before. Returns how many are still
    open without an answer, how many got the 503, how many were closed without an answer."""
    for s in socks:
        while seen.get(s) != "closed":
            try:
                data = s.recv(65536)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                seen[s] = "closed" if seen.get(s) != "answered" else "answered+closed"
                break
            if data.startswith(b"HTTP/1.1 503"):
                seen[s] = "answered"
        if seen.get(s) == "answered+closed":
            seen[s] = "closed-after-503"
    states = [seen.get(s, "open") for s in socks]
    answered = sum(1 for st in states if st in ("answered", "closed-after-503"))
    return states.count("open"), answered, states.count("closed")


def scenario(name, binary, conns, rounds, cap, send):
    work = tempfile.mkdtemp(prefix="sevwatch-flood-")
    proc, addr = start(binary, work, cap)
    pid = proc.pid
    try:
        for _ in range(50):
            healthz(addr)
        print(f"\n== {name}: {conns} idle connections, max_connections = {cap}, header_timeout = {HEADER_TIMEOUT_S}s ==")
        print(f"  before           RSS {mib(status(pid, 'VmRSS'))}   fds {fds(pid):6}")
        for r in range(1, rounds + 1):
            began = time.monotonic()
            socks, failed = burst(addr, conns, send)
            opened = time.monotonic() - began
            probes = [healthz(addr) for _ in range(3)]
            time.sleep(0.3)  # past the 250 ms a refusal slot waits for a request
            probes += [healthz(addr) for _ in range(3)]
            seen = {}
            held, written, closed = classify(socks, seen)
            print(
                f"  round {r} during   RSS {mib(status(pid, 'VmRSS'))}   fds {fds(pid):6}   "
                f"opened in {opened:.1f}s: open {held}, answered 503 {written}, closed unanswered {closed}, connect failed {failed}"
            )
            for i, (ms, line) in enumerate(probes):
                when = "at once  " if i < 3 else "+300 ms  "
                print(f"      /healthz on a fresh connection, {when}{ms:7.1f} ms  {line}")
            time.sleep(HEADER_TIMEOUT_S + 1.5)
            held, written, closed = classify(socks, seen)
            print(
                f"  round {r} cut      RSS {mib(status(pid, 'VmRSS'))}   fds {fds(pid):6}   "
                f"after the header timeout: still open {held}, closed unanswered {closed}"
            )
            for s in socks:
                s.close()
            time.sleep(1.5)
            print(f"  round {r} after    RSS {mib(status(pid, 'VmRSS'))}   fds {fds(pid):6}")
        print(f"  peak             RSS {mib(status(pid, 'VmHWM'))}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conns", type=int, default=10000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--bin", default=os.path.join(here, "..", "target", "release", "sevwatch"))
    p.add_argument("scenarios", nargs="*", default=["cap", "cap-partial", "silent", "partial"])
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    conns = min(args.conns, hard - 256)
    if conns < args.conns:
        print(f"(open-file limit {hard}: {conns} connections instead of {args.conns})")
    big = conns + 64
    for name in args.scenarios:
        if name == "cap":
            scenario(name, args.bin, conns, args.rounds, 2048, b"")
        elif name == "silent":
            scenario(name, args.bin, conns, args.rounds, big, b"")
        elif name == "cap-partial":
            scenario(name, args.bin, conns, args.rounds, 2048, b"GET /healthz HTTP/1.1\r\n")
        elif name == "partial":
            scenario(name, args.bin, conns, args.rounds, big, b"GET /healthz HTTP/1.1\r\n")
        else:
            raise SystemExit(f"unknown scenario {name}")


if __name__ == "__main__":
    main()
