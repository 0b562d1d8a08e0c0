#!/usr/bin/env python3
"""kill -9 cycles under mixed load: the driver behind `bench/crash.sh`.

Sevwatch promises that a 2xx means committed and on disk. This driver holds it to that over
many crashes of one server on one data directory (or database), as a crash-looping server's
data would accumulate:

  start `sevwatch serve` -> mixed load from several clients for a random 0.2-2 s ->
  SIGKILL mid-load -> restart on the same data -> check every write that was answered 2xx

The load, one thread and one keep-alive connection per client:
  alerts      Alertmanager webhooks of 1-5 alerts: a pool of fingerprints per client repeated
              all run long (flipping between firing and resolved now and then), and a few new
              fingerprints per cycle in a group of their own, fired and later resolved, so
              each group opens an incident that resolves by itself (an engine timer)
  commands    declare (P2-P4) -> notes -> ack -> status investigating -> notes -> status
              identified or monitoring -> resolve, plus notes on an incident shared by every
              client of the cycle
  escalations P0/P1 declarations left unacknowledged, so the engine fires each step of a
              1-2 s ladder from its durable timers, across the kills; once every step has
              fired, the incident is resolved in a later cycle
  outbox      every declaration, page and resolution writes messages to a webhook channel and a
              user's webhook contact, both served by this driver on loopback

What is checked after each restart (for the writes answered 2xx since the last check) and again
for every write of the run at the end:
  - every event an answer returned (declared, paged, acknowledged, note_added, resolved, ...) is
    on the incident's timeline at the same position with the same hash; notes by their text;
    title, severity and service as declared; the status the last answer gave, unless a later
    command's outcome is unknown
  - every alert (by fingerprint, through GET /api/v1/alerts): present, its labels as sent, its
    count at least the notifications answered 2xx and at most those sent, its status that of
    the last one answered (or of one still in doubt); incidents an alert opened exist
  - the outbox holds a message for each declaration, page and resolution on those timelines
  - GET /api/v1/verify is ok (hash chains and checkpoints)
  - no timer fired twice: no incident (of any kind) was paged twice for one (round, step)
  - no timer was lost: every escalation step due before the restart (during the load, at the
    kill or while the server was down) is on its timeline within JOB_GRACE_S of the restart
At the end, with the remaining new fingerprints resolved: every escalation ladder completed and
every alert-opened group incident resolved by itself (timers survive kills), and every outbox
message to the two receivers was sent and arrived (at least once), correctly signed.

A request whose answer never came (the kill) is "in doubt": it may or may not have committed,
so it widens what is accepted (a count, a status) but is never required.

The load and its ledger are in `crash_load.py`, the checks in `crash_check.py`. Python standard
library only. Usage: see `bench/crash.sh`, or `bench/crash.py --help`.
"""

import argparse
import hashlib
import hmac
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from crash_check import Checker
from crash_load import (CONTACT_SECRET, HOOK, HOOK_SECRET, JOB_GRACE_S, USER, Gone, Http, Ledger, Load,
                        resolve_bursts)


def config(receiver: str) -> str:
    """The server's sevwatch.toml: short ladders, one webhook channel and one user, both served
    by the receiver in this process, and short retries so the outbox drains within the run."""
    return f'''
[alerts]
auto_resolve_after = "1s"

[[users]]
id = "{USER}"
name = "Crash On-call"
contacts = [{{ webhook = "{receiver}/user/{USER}" }}]

[[schedules]]
id = "crash"
name = "Crash test"
time_zone = "UTC"
[[schedules.layers]]
name = "primary"
users = ["{USER}"]
rotation = "1w"
handoff = "09:00"
start = "2026-01-05"

[[escalation_policies]]
id = "p0"
name = "Critical (crash test)"
[[escalation_policies.steps]]
delay = "0s"
targets = ["schedule:crash/primary"]
[[escalation_policies.steps]]
delay = "1s"
targets = ["channel:{HOOK}"]
[[escalation_policies.steps]]
delay = "2s"
targets = ["schedule:crash/primary"]

[[escalation_policies]]
id = "p1"
name = "High (crash test)"
repeat = 1
repeat_every = "2s"
[[escalation_policies.steps]]
delay = "0s"
targets = ["schedule:crash/primary"]
[[escalation_policies.steps]]
delay = "1s"
targets = ["channel:{HOOK}"]

[[escalation_policies]]
id = "p2"
name = "Medium (crash test)"
[[escalation_policies.steps]]
delay = "0s"
targets = ["schedule:crash/primary"]

[[channels]]
name = "{HOOK}"
kind = "webhook"
url = "{receiver}/hook"
secret = "{HOOK_SECRET.decode()}"
timeout = "2s"

[[channel_routes]]
channel = "{HOOK}"

[outbox]
allow_networks = ["127.0.0.1"]
backoff = "200ms"
max_backoff = "2s"
max_attempts = 30
contact_timeout = "2s"
contact_webhook_secret = "{CONTACT_SECRET.decode()}"
'''


# ---------------------------------------------------------------------------------------------
# The server under test


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


class Server:
    """`sevwatch serve` on one data directory, started and killed again and again."""

    def __init__(self, binary, work, database_url, config_path):
        self.binary, self.work, self.database_url, self.config_path = binary, work, database_url, config_path
        self.data = os.path.join(work, "data")
        self.proc = None
        self.starts = 0
        self.addr = self.token = self.log = None

    def start(self, deadline_s=120.0):
        self.starts += 1
        self.log = os.path.join(self.work, "logs", f"server-{self.starts:03}.log")
        args = [self.binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data,
                "--config", self.config_path]
        if self.database_url:
            args += ["--database-url", self.database_url]
        env = dict(os.environ, SEVWATCH_LOG=os.environ.get("SEVWATCH_LOG", "warn"))
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, env=env)
        with open(os.path.join(self.work, "server.pid"), "w") as f:
            f.write(str(self.proc.pid))
        deadline = time.monotonic() + deadline_s
        while True:
            with open(self.log, errors="replace") as f:
                m = re.search(r"sevwatch listening on http://(\S+)", f.read())
            if m:
                self.addr = m.group(1)
                break
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with {self.proc.returncode} at start:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not start within {deadline_s:.0f} s:\n{self.tail()}")
            time.sleep(0.02)
        token_file = os.path.join(self.data, "admin.token")
        while not read_text(token_file):
            if time.monotonic() > deadline:
                raise SystemExit(f"no {token_file}")
            time.sleep(0.02)
        self.token = read_text(token_file)
        probe = Http(self.addr, self.token, timeout=5)
        while True:
            try:
                if probe.call("GET", "/healthz")[0] == 200:
                    break
            except Gone:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"GET /healthz never answered 200:\n{self.tail()}")
            time.sleep(0.02)
        probe.close()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()

    def tail(self, n=30):
        if not self.log or not os.path.exists(self.log):
            return ""
        with open(self.log, errors="replace") as f:
            return "".join(f.readlines()[-n:])


# ---------------------------------------------------------------------------------------------
# The webhook receiver (channel and user contact)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A killed server's connections are reset mid-request: expected, many times a run.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class Receiver:
    """Records every delivery: (path, incident, template) and whether the signature held."""

    def __init__(self):
        self.lock = threading.Lock()
        self.got = set()
        self.deliveries = 0
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                secret = HOOK_SECRET if self.path == "/hook" else CONTACT_SECRET
                ts = self.headers.get("X-Sevwatch-Timestamp", "")
                want = "sha256=" + hmac.new(secret, f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(want, self.headers.get("X-Sevwatch-Signature", ""))
                try:
                    v = json.loads(body)
                    key = (self.path, v["incident"]["id"], v["event"])
                except (ValueError, KeyError, TypeError):
                    key = (self.path, None, None)
                with receiver.lock:
                    receiver.deliveries += 1
                    receiver.got.add(key)
                    receiver.bad_signatures += 0 if signed else 1
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def has(self, key):
        with self.lock:
            return key in self.got


# ---------------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default="target/release/sevwatch")
    p.add_argument("--work", required=True, help="a fresh directory: data, config, server logs")
    p.add_argument("--label", default="sqlite")
    p.add_argument("--database-url")
    p.add_argument("--cycles", type=int, default=100)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--alert-clients", type=int, default=3)
    p.add_argument("--command-clients", type=int, default=3)
    p.add_argument("--min-load", type=float, default=0.2)
    p.add_argument("--max-load", type=float, default=2.0)
    p.add_argument("--summary", help="write the figures here as JSON")
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().getrandbits(32)
    rng = random.Random(seed)
    os.makedirs(os.path.join(args.work, "logs"), exist_ok=True)
    receiver = Receiver()
    config_path = os.path.join(args.work, "sevwatch.toml")
    with open(config_path, "w") as f:
        f.write(config(receiver.url))
    server = Server(args.bin, args.work, args.database_url, config_path)
    # The wrapper script stops us with SIGTERM; take the server down with us.
    signal.signal(signal.SIGTERM, lambda *_: (server.stop(), sys.exit(143)))
    ledger = Ledger()
    checker = Checker(ledger, receiver)
    began = time.monotonic()
    restarts, checks = [], []  # seconds per cycle: until /healthz answered, the checks
    print(f"[{args.label}] {args.cycles} cycles, seed {seed}, work {args.work}", flush=True)
    try:
        server.start()
        for cycle in range(1, args.cycles + 1):
            load = Load(args, ledger, server.addr, server.token, cycle, rng)
            seconds = rng.uniform(args.min_load, args.max_load)
            acked_before = requests(ledger.acked)
            threads = load.run(seconds)
            time.sleep(seconds)  # the load's random length: when the kill falls, not a wait for state
            killed_at = time.time()
            server.kill9()
            load.stop.set()
            for t in threads:
                t.join(timeout=60)
                if t.is_alive():
                    raise SystemExit("a load client did not stop within 60 s of the kill")
            acked = requests(ledger.acked) - acked_before
            t0 = time.monotonic()
            server.start()
            t1, restarted_at = time.monotonic(), time.time()
            check = Http(server.addr, server.token)
            checker.cycle(check, killed_at, restarted_at)
            check.close()
            restarts.append(t1 - t0)
            checks.append(time.monotonic() - t1)
            lost = sum(checker.lost.values())
            if cycle % 10 == 0 or cycle == args.cycles or lost:
                print(f"[{args.label}] cycle {cycle}: killed after {seconds:.2f} s, {acked} writes acknowledged; "
                      f"lost so far {lost}, verify failures {checker.verify_failures}", flush=True)
        t0 = time.monotonic()
        check = Http(server.addr, server.token)
        resolve_bursts(ledger, check)
        checker.final(check)
        check.close()
        final_s = time.monotonic() - t0
    finally:
        server.stop()
    wall = time.monotonic() - began
    lost = sum(checker.lost.values())
    wrong = sum(checker.wrong.values())
    summary = {
        "backend": args.label, "cycles": args.cycles, "seed": seed, "wall_s": round(wall, 1),
        "acked": dict(ledger.acked), "in_doubt": dict(ledger.doubt), "refused": dict(ledger.refused),
        "incidents": len(ledger.incidents), "fingerprints": len(ledger.alerts),
        "escalation_steps_fired": sum(checker.fired.values()), "duplicate_pages": len(checker.duplicated),
        "steps_due_at_restart": checker.steps_due_at_restart,
        "steps_fired_after_restart": len(checker.fired_after_restart),
        "timers_lost": checker.lost.get("escalation step (timer)", 0) + checker.lost.get("escalation ladder", 0),
        "auto_resolved": checker.auto_resolved,
        "outbox_messages_checked": checker.outbox_rows, "deliveries_received": receiver.deliveries,
        "bad_signatures": receiver.bad_signatures,
        "lost": dict(checker.lost), "lost_total": lost, "wrong": dict(checker.wrong), "wrong_total": wrong,
        "restart_s": spread(restarts), "check_s": spread(checks), "final_check_s": round(final_s, 1),
        "verify_runs": checker.verify_runs, "verify_failures": checker.verify_failures,
        "examples": checker.examples, "refusals": ledger.refusals,
    }
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(summary, f, indent=1)
    print_summary(summary)
    sys.exit(1 if lost or wrong or checker.verify_failures or receiver.bad_signatures else 0)


# Facts inside requests counted elsewhere: the alerts of each alert request, and the incidents
# those opened.
INSIDE = ("alert notification", "incident opened by alert")


def requests(counts):
    return sum(n for k, n in counts.items() if k not in INSIDE)


def spread(xs):
    xs = sorted(xs)
    return {"p50": round(xs[len(xs) // 2], 2), "max": round(xs[-1], 2)} if xs else {}


def print_summary(s):
    b = s["backend"]
    print(f"\n== {b}: {s['cycles']} kill -9 cycles in {s['wall_s']} s (seed {s['seed']}) ==")
    print(f"acknowledged writes (requests answered 2xx): {requests(s['acked'])}")
    for k, n in sorted(s["acked"].items()):
        print(f"  {k:28} {n}{'  (inside the requests above)' if k in INSIDE else ''}")
    print(f"in doubt (no answer, the kill): {requests(s['in_doubt'])} requests {dict(sorted(s['in_doubt'].items()))}")
    if s["refused"]:
        print(f"refused (unexpected non-2xx): {s['refused']}")
    print(f"incidents tracked {s['incidents']}, fingerprints {s['fingerprints']}, escalation steps fired by "
          f"timers and verified {s['escalation_steps_fired']} (incidents paged twice for one step: {s['duplicate_pages']}), "
          f"incidents resolved by their auto-resolve timer {s['auto_resolved']}")
    print(f"escalation steps due before a restart and fired by the restarted server (cut off by the kill or due "
          f"while it was down) {s['steps_fired_after_restart']}, of which not yet fired when its checks looked "
          f"{s['steps_due_at_restart']} (then required within {JOB_GRACE_S:.0f} s); timers lost {s['timers_lost']}")
    print(f"outbox messages to the receivers checked {s['outbox_messages_checked']} (all sent and received), "
          f"deliveries received {s['deliveries_received']} (at least once: a delivery cut by a kill is sent "
          f"again), bad signatures {s['bad_signatures']}")
    print(f"restart to /healthz {s['restart_s']} s, checks per cycle {s['check_s']} s, "
          f"final checks (all writes, ladders, outbox drained) {s['final_check_s']} s")
    print(f"LOST acknowledged writes: {s['lost_total']} {s['lost'] or ''}")
    print(f"found but not as acknowledged: {s['wrong_total']} {s['wrong'] or ''}")
    print(f"chain verification failures: {s['verify_failures']} of {s['verify_runs']} runs")
    for e in s["examples"] + s["refusals"]:
        print(f"  {e}")


if __name__ == "__main__":
    main()
