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
  commands    declare (P2-P4) -> notes -> ack -> notes -> resolve, plus notes on an incident
              shared by every client of the cycle
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
At the end, with the remaining new fingerprints resolved: every escalation ladder completed and
every alert-opened group incident resolved by itself (timers survive kills), and every outbox
message to the two receivers was sent and arrived (at least once), correctly signed.

A request whose answer never came (the kill) is "in doubt": it may or may not have committed,
so it widens what is accepted (a count, a status) but is never required.

Python standard library only. Usage: see `bench/crash.sh`, or `bench/crash.py --help`.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOOK_SECRET = b"crash-test-secret"
CONTACT_SECRET = b"crash-contact-secret"
USER = "crash-oncall"
HOOK = "hook"
# (round, step) pairs each ladder in `config()` must fire: the engine's timers, checked at the end.
LADDERS = {
    "P0": {(0, 0), (0, 1), (0, 2)},
    "P1": {(0, 0), (0, 1), (1, 0), (1, 1)},
}
ALERTNAMES = ["CrashDiskFull", "CrashLatency", "CrashErrors", "CrashQueue", "CrashMemory", "CrashDown"]
# CrashDown is critical (P0); the others are warnings (P2).
ALERT_SEVERITY = {name: ("critical" if name == "CrashDown" else "warning") for name in ALERTNAMES}
REPEAT_POOL = 40  # repeating fingerprints per alert client, for the whole run
NEW_PER_CYCLE = 8  # new fingerprints per alert client per cycle (GET /alerts reads 10,000 at most)


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
# HTTP


class Gone(Exception):
    """No answer: the server died (or the connection broke) before answering."""


class Http:
    """One keep-alive connection to the server, for one thread."""

    def __init__(self, addr: str, token: str, timeout: float = 30.0):
        host, port = addr.rsplit(":", 1)
        self.host, self.port, self.token, self.timeout = host, int(port), token, timeout
        self.conn = None

    def call(self, method: str, path: str, body=None):
        """(status, parsed JSON or None). Raises Gone when no answer came."""
        headers = {"authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise Gone(f"{method} {path}: {e!r}") from e
        if resp.getheader("connection", "").lower() == "close":
            self.close()
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, {"raw": raw[:200].decode(errors="replace")}

    def ok(self, method: str, path: str, body=None):
        """For the checker: the JSON of a 2xx, else an exception naming the answer."""
        status, v = self.call(method, path, body)
        if not 200 <= status < 300:
            raise RuntimeError(f"{method} {path}: {status} {v}")
        return v

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


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
# What was acknowledged


@dataclass
class Inc:
    id: str
    role: str  # command, shared, escalation, alert
    group: str = ""  # for an incident an alert opened: the alertname (the group key)
    title: str = ""
    severity: str = ""
    service: str = ""
    events: dict = field(default_factory=dict)  # seq -> (type, hash), from 2xx answers
    notes: set = field(default_factory=set)
    status: str = ""  # as the last 2xx answer gave it
    status_sure: bool = True  # no command with an unknown outcome since that answer
    ladder_done: bool = False
    resolving: bool = False


@dataclass
class Fingerprint:
    labels: dict
    sent: int = 0
    acked: int = 0
    possible: set = field(default_factory=set)  # statuses the stored record may have


# The write kinds reported, by the event type an answer returned.
EVENT_KIND = {"declared": "declare", "acknowledged": "ack", "note_added": "note", "resolved": "resolve",
              "paged": "page (answer)"}


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked = Counter()  # by kind, requests answered 2xx
        self.doubt = Counter()  # by kind, requests without an answer
        self.refused = Counter()  # by kind and status, unexpected non-2xx answers
        self.refusals = []
        self.incidents = {}
        self.alerts = {}
        self.touched = set()  # incidents with a 2xx since the last check
        self.fresh = {}  # alert client -> its new fingerprints still firing

    def command(self, kind, answer, role=None, note=None):
        with self.lock:
            iid = answer["id"]
            inc = self.incidents.get(iid)
            if inc is None:
                inc = self.incidents[iid] = Inc(iid, role, title=answer["title"], severity=answer["severity"],
                                                service=answer.get("service") or "")
            for e in answer["events"]:
                inc.events[e["seq"]] = (e["type"], e["hash"])
            if note is not None:
                inc.notes.add(note)
            inc.status, inc.status_sure = answer["status"], True
            self.acked[kind] += 1
            self.touched.add(iid)

    def unsure(self, kind, iid):
        with self.lock:
            self.doubt[kind] += 1
            if iid in self.incidents:
                self.incidents[iid].status_sure = False

    def refusal(self, kind, status, answer):
        with self.lock:
            self.refused[f"{kind} {status}"] += 1
            if len(self.refusals) < 10:
                self.refusals.append(f"{kind}: {status} {json.dumps(answer)[:300]}")


# ---------------------------------------------------------------------------------------------
# Load


def alert_labels(fp):
    """A fingerprint's labels, the same every time it is sent. New fingerprints
    (crash-n<client>-<cycle>-<n>) form a group of their own per client and cycle, which opens an
    incident that resolves by itself (auto_resolve_after) once all of them have resolved."""
    if fp.startswith("crash-n"):
        name, severity = "CrashBurst-" + fp[len("crash-n"):].rsplit("-", 1)[0], "warning"
    else:
        name = ALERTNAMES[int(hashlib.sha1(fp.encode()).hexdigest(), 16) % len(ALERTNAMES)]
        severity = ALERT_SEVERITY[name]
    return {"alertname": name, "instance": fp, "job": "crash", "severity": severity}


def send(ledger, http_, kind, method, path, body, iid=None):
    """One request; the answer when 2xx, None when refused. Raises Gone (after recording the
    doubt) when no answer came."""
    try:
        status, v = http_.call(method, path, body)
    except Gone:
        ledger.unsure(kind, iid)
        raise
    if 200 <= status < 300:
        return v
    if status >= 500:
        ledger.unsure(kind, iid)  # a 5xx may come after a commit it could not report
    ledger.refusal(kind, status, v)
    return None


def post_alerts(led, http_, batch):
    """One Alertmanager webhook with `batch` ({fingerprint: status}), recorded in the ledger."""
    alerts = []
    with led.lock:
        for fp, status in batch.items():
            rec = led.alerts.get(fp)
            if rec is None:
                rec = led.alerts[fp] = Fingerprint(alert_labels(fp))
            rec.sent += 1
            alerts.append({"status": status, "labels": rec.labels, "fingerprint": fp,
                           "annotations": {"summary": f"{rec.labels['alertname']} on {fp}"},
                           "startsAt": "2026-01-01T00:00:00Z", "generatorURL": "http://crash.invalid/graph"})
    body = {"version": "4", "groupKey": "{}:{}", "receiver": "sevwatch", "status": "firing",
            "externalURL": "http://crash.invalid", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "alerts": alerts}
    try:
        v = send(led, http_, "alert request", "POST", "/api/v1/ingest/alertmanager", body)
    except Gone:
        with led.lock:
            for fp, status in batch.items():
                led.alerts[fp].possible.add(status)
            led.doubt["alert notification"] += len(batch)
        raise
    with led.lock:
        if v is None:
            for fp in batch:
                led.alerts[fp].sent -= 1  # refused: nothing was written
            return None
        for fp, status in batch.items():
            rec = led.alerts[fp]
            rec.acked += 1
            rec.possible = {status}
        led.acked["alert notification"] += len(batch)
        led.acked["alert request"] += 1
        opened = set(v.get("opened") or [])
        # `incidents` holds, per alert in order, the incident it opened or joined.
        for a, iid in zip(alerts, v.get("incidents") or []):
            if iid in opened and iid not in led.incidents:
                led.incidents[iid] = Inc(iid, "alert", group=a["labels"]["alertname"])
                led.touched.add(iid)
                led.acked["incident opened by alert"] += 1
    return v


def resolve_bursts(led, http_):
    """After the last cycle: resolve every new fingerprint not known to be resolved (still
    firing, or its resolution in doubt), so every burst incident's auto-resolve must fire."""
    with led.lock:
        fps = sorted(fp for fp, f in led.alerts.items()
                     if f.labels["alertname"].startswith("CrashBurst") and f.possible != {"resolved"})
    for i in range(0, len(fps), 50):
        if post_alerts(led, http_, {fp: "resolved" for fp in fps[i:i + 50]}) is None:
            raise SystemExit(f"resolving the remaining burst alerts was refused: {led.refusals[-1:]}")


class Load:
    """One cycle's clients; they run until `stop` is set or their server goes away."""

    def __init__(self, args, ledger, addr, token, cycle, rng):
        self.args, self.ledger, self.addr, self.token, self.cycle = args, ledger, addr, token, cycle
        self.stop = threading.Event()
        self.seeds = [rng.getrandbits(64) for _ in range(args.alert_clients + args.command_clients + 1)]
        self.shared = None

    def run(self, seconds):
        http_ = Http(self.addr, self.token)
        # The cycle's shared incident: every command client adds notes to it.
        status, v = http_.call("POST", "/api/v1/incidents",
                               {"title": f"crash cycle {self.cycle} shared", "severity": "P3", "service": "crash-shared"})
        if status != 201:
            raise SystemExit(f"declaring the shared incident: {status} {v}")
        self.ledger.command("declare", v, role="shared")
        self.shared = v["id"]
        http_.close()
        threads, n = [], 0
        for i in range(self.args.alert_clients):
            threads.append(threading.Thread(target=self.guard, args=(self.alert_client, i, self.seeds[n])))
            n += 1
        for i in range(self.args.command_clients):
            threads.append(threading.Thread(target=self.guard, args=(self.command_client, i, self.seeds[n])))
            n += 1
        threads.append(threading.Thread(target=self.guard, args=(self.escalation_client, 0, self.seeds[n])))
        for t in threads:
            t.start()
        return threads

    def guard(self, client, i, seed):
        http_ = Http(self.addr, self.token)
        try:
            client(http_, i, random.Random(seed))
        except Gone:
            pass  # the kill: the client's last request is already recorded as in doubt
        finally:
            http_.close()

    def send(self, http_, kind, method, path, body, iid=None):
        return send(self.ledger, http_, kind, method, path, body, iid)

    def alert_client(self, http_, idx, rng):
        led = self.ledger
        pool = [f"crash-r{idx}-{k}" for k in range(REPEAT_POOL)]
        # New fingerprints still firing, carried over to later cycles so that each is resolved.
        fresh = led.fresh.setdefault(idx, [])
        made = 0
        while not self.stop.is_set():
            batch = {}
            for _ in range(rng.randint(1, 5)):
                r = rng.random()
                if r < 0.15 and made < NEW_PER_CYCLE:
                    fp, status = f"crash-n{idx}-{self.cycle}-{made}", "firing"
                    made += 1
                    fresh.append(fp)
                elif r < 0.25 and fresh:
                    fp, status = fresh.pop(rng.randrange(len(fresh))), "resolved"
                else:
                    fp = rng.choice(pool)
                    known = led.alerts.get(fp)
                    last = next(iter(known.possible)) if known and len(known.possible) == 1 else "firing"
                    status = ("resolved" if last == "firing" else "firing") if rng.random() < 0.1 else last
                batch.setdefault(fp, status)
            post_alerts(led, http_, batch)

    def command_client(self, http_, idx, rng):
        n = 0
        while not self.stop.is_set():
            n += 1
            title = f"crash cycle {self.cycle} client {idx} #{n}"
            v = self.send(http_, "declare", "POST", "/api/v1/incidents",
                          {"title": title, "severity": rng.choice(["P2", "P3", "P4"]), "service": "crash-cmd"})
            if v is None:
                continue
            self.ledger.command("declare", v, role="command")
            iid = v["id"]
            steps = ["note"] * rng.randint(1, 3) + ["ack"] + ["note"] * rng.randint(0, 2) + ["resolve"]
            for k, step in enumerate(steps):
                if rng.random() < 0.3:
                    self.note(http_, self.shared, f"shared c{self.cycle} client {idx} #{n}.{k}")
                if step == "note":
                    self.note(http_, iid, f"note c{self.cycle} client {idx} #{n}.{k} {rng.getrandbits(32):08x}")
                elif step == "ack":
                    v = self.send(http_, "ack", "POST", f"/api/v1/incidents/{iid}/ack", {}, iid)
                    if v is not None:
                        self.ledger.command("ack", v)
                else:
                    v = self.send(http_, "resolve", "POST", f"/api/v1/incidents/{iid}/resolve",
                                  {"root_cause": f"crash test {n}", "force": True}, iid)
                    if v is not None:
                        self.ledger.command("resolve", v)

    def note(self, http_, iid, text):
        v = self.send(http_, "note", "POST", f"/api/v1/incidents/{iid}/notes", {"text": text}, iid)
        if v is not None:
            self.ledger.command("note", v, note=text)

    def escalation_client(self, http_, idx, rng):
        led = self.ledger
        # First resolve incidents whose whole ladder fired (checked after earlier restarts).
        with led.lock:
            done = [i for i in led.incidents.values() if i.role == "escalation" and i.ladder_done
                    and i.status_sure and i.status == "triggered" and not i.resolving]
        for inc in done:
            if self.stop.is_set():
                return
            inc.resolving = True
            v = self.send(http_, "resolve (escalated)", "POST", f"/api/v1/incidents/{inc.id}/resolve",
                          {"root_cause": "ladder complete", "force": True}, inc.id)
            if v is not None:
                led.command("resolve (escalated)", v)
        n = 0
        while not self.stop.is_set():
            n += 1
            sev = rng.choice(["P0", "P1"])
            v = self.send(http_, "declare (escalating)", "POST", "/api/v1/incidents",
                          {"title": f"crash cycle {self.cycle} escalation #{n}", "severity": sev,
                           "service": "crash-esc"})
            if v is not None:
                led.command("declare (escalating)", v, role="escalation")
            # Pacing, not correctness: a few unacknowledged incidents per cycle are enough.
            self.stop.wait(rng.uniform(0.05, 0.3))


# ---------------------------------------------------------------------------------------------
# Checks


class Checker:
    def __init__(self, ledger, receiver):
        self.ledger, self.receiver = ledger, receiver
        self.lost = Counter()  # by kind: acknowledged writes not found
        self.wrong = Counter()  # found, but not as acknowledged
        self.examples = []
        self.verify_failures = 0
        self.verify_runs = 0
        self.fired = Counter()  # escalation steps seen fired by the engine
        self.duplicated = set()  # escalation incidents with a (round, step) paged twice
        self.outbox_rows = 0
        self.auto_resolved = 0

    def problem(self, counter, kind, what):
        counter[kind] += 1
        if len(self.examples) < 30:
            self.examples.append(f"{kind}: {what}")

    def timeline(self, http_, iid):
        events, after = [], 0
        while True:
            v = http_.ok("GET", f"/api/v1/incidents/{iid}/timeline?after={after}&limit=10000")
            events += v["events"]
            if len(v["events"]) < 10000:
                return events
            after = v["events"][-1]["seq"]

    def incidents(self, http_, ids):
        """Every acknowledged event, note, field and status of these incidents, and their outbox."""
        for iid in sorted(ids, key=lambda s: int(s.split("-")[1])):
            inc = self.ledger.incidents[iid]
            status, view = http_.call("GET", f"/api/v1/incidents/{iid}")
            if status == 404:
                kinds = Counter(EVENT_KIND.get(t, t) for t, _ in inc.events.values()) or Counter(["declare"])
                for kind, n in kinds.items():
                    self.lost[kind] += n
                self.problem(Counter(), "incident missing", f"{iid} ({inc.role}), {len(inc.events)} acknowledged events")
                continue
            if status != 200:
                raise RuntimeError(f"GET /api/v1/incidents/{iid}: {status} {view}")
            if inc.role != "alert":
                for k in ("title", "severity"):
                    if view[k] != getattr(inc, k):
                        self.problem(self.wrong, "incident field", f"{iid} {k} {view[k]!r}, declared {getattr(inc, k)!r}")
                if (view.get("service") or "") != inc.service:
                    self.problem(self.wrong, "incident field", f"{iid} service {view.get('service')!r}")
                if inc.status_sure and view["status"] != inc.status:
                    self.problem(self.wrong, "incident status", f"{iid} is {view['status']}, last answer said {inc.status}")
            stored = {e["seq"]: e for e in self.timeline(http_, iid)}
            if inc.role == "alert" and not any(e["type"] == "declared" for e in stored.values()):
                self.problem(self.lost, "declare (by alert)", f"{iid} has no declared event")
            notes_lost = 0
            for seq, (kind, digest) in sorted(inc.events.items()):
                e = stored.get(seq)
                if e is None:
                    self.problem(self.lost, EVENT_KIND.get(kind, kind), f"{iid} seq {seq} ({kind})")
                    notes_lost += kind == "note_added"
                elif (e["type"], e["hash"]) != (kind, digest):
                    self.problem(self.wrong, "event", f"{iid} seq {seq}: {e['type']} {e['hash'][:12]}, answered {kind} {digest[:12]}")
            texts = {e["data"].get("text") for e in stored.values() if e["type"] == "note_added"}
            # Counted once: a note missing by text whose event was already missing by position.
            missing = sorted(inc.notes - texts)
            for text in missing:
                self.problem(Counter(), "note (by text)", f"{iid}: {text!r}")
            if len(missing) > notes_lost:
                self.lost["note"] += len(missing) - notes_lost
            if inc.role == "escalation":
                self.ladder(inc, stored.values())
            self.outbox(http_, iid, stored.values())

    def ladder(self, inc, events):
        pairs = Counter((e["data"]["round"], e["data"]["step"]) for e in events if e["type"] == "paged")
        if any(n > 1 for n in pairs.values()) and inc.id not in self.duplicated:
            self.duplicated.add(inc.id)
            self.problem(Counter(), "paged twice for one step", f"{inc.id} {dict(pairs)}")
        if not inc.ladder_done and set(pairs) >= LADDERS[inc.severity]:
            inc.ladder_done = True
            self.fired[inc.severity] += len(LADDERS[inc.severity])

    def outbox(self, http_, iid, events):
        """Each declaration, page and resolution wrote its messages in its own transaction: the
        outbox must hold them. Compared as (recipient, template) pairs, since one batch of
        events sends one message per recipient and template."""
        rows = http_.ok("GET", f"/api/v1/outbox?incident={iid}&limit=10000")["messages"]
        have = {(r["recipient"], r["template"]) for r in rows}
        by_seq = {(r["event_seq"], r["recipient"]) for r in rows}
        want = set()
        for e in events:
            if e["type"] in ("declared", "resolved"):
                template = "incident-declared" if e["type"] == "declared" else "resolved"
                want.add((f"channel:{HOOK}", template))
                if (e["seq"], f"channel:{HOOK}") not in by_seq:
                    self.problem(self.lost, "outbox message", f"{iid} seq {e['seq']} ({e['type']}): no message to {HOOK}")
            elif e["type"] == "paged":
                first = e["data"]["round"] == 0 and e["data"]["step"] == 0
                for t in e["data"]["targets"]:
                    who = t.split(" ")[0]
                    if who in (f"user:{USER}", f"channel:{HOOK}"):
                        want.add((who, "incident-declared" if first else "escalation-notice"))
        for pair in sorted(want - have):
            self.problem(self.lost, "outbox message", f"{iid}: no {pair[1]} message to {pair[0]}")

    def alerts(self, http_):
        rows = http_.ok("GET", "/api/v1/alerts?limit=10000")["alerts"]
        if len(rows) >= 10000:
            raise SystemExit("GET /api/v1/alerts returned its limit of 10,000: lower NEW_PER_CYCLE or the cycles")
        stored = {r["fingerprint"]: r for r in rows}
        with self.ledger.lock:
            known = {fp: (f.labels, f.sent, f.acked, set(f.possible)) for fp, f in self.ledger.alerts.items()}
        for fp, (labels, sent, acked, possible) in known.items():
            r = stored.get(fp)
            if r is None:
                if acked:
                    self.lost["alert notification"] += acked
                    self.problem(Counter(), "alert", f"{fp}: absent, {acked} notifications acknowledged")
                continue
            if r["count"] < acked:
                self.lost["alert notification"] += acked - r["count"]
                self.problem(Counter(), "alert count", f"{fp}: count {r['count']} < {acked} acknowledged")
            if r["count"] > sent:
                self.problem(self.wrong, "alert count", f"{fp}: count {r['count']} > {sent} sent")
            if possible and r["status"] not in possible:
                self.problem(self.wrong, "alert status", f"{fp}: {r['status']}, expected {sorted(possible)}")
            if r["alert"].get("labels") != labels:
                self.problem(self.wrong, "alert labels", f"{fp}: {r['alert'].get('labels')}")

    def verify(self, http_):
        self.verify_runs += 1
        v = http_.ok("GET", "/api/v1/verify")
        if not v.get("ok"):
            self.verify_failures += 1
            if len(self.examples) < 30:
                self.examples.append(f"verify: {json.dumps(v)[:600]}")
        return v

    def ladders_pending(self):
        return [i for i in self.ledger.incidents.values() if i.role == "escalation" and not i.ladder_done]

    def cycle(self, http_):
        with self.ledger.lock:
            touched, self.ledger.touched = self.ledger.touched, set()
        self.incidents(http_, touched | {i.id for i in self.ladders_pending()})
        self.alerts(http_)
        self.verify(http_)

    def final(self, http_, ladder_deadline_s=60.0, outbox_deadline_s=120.0):
        self.incidents(http_, set(self.ledger.incidents))
        self.alerts(http_)
        # Timers: every ladder completes, however many kills it spanned.
        deadline = time.monotonic() + ladder_deadline_s
        while self.ladders_pending() and time.monotonic() < deadline:
            time.sleep(0.25)
            for inc in self.ladders_pending():
                events = self.timeline(http_, inc.id)
                self.ladder(inc, events)
                if inc.ladder_done:
                    self.outbox(http_, inc.id, events)  # the messages of the steps fired since
        for inc in self.ladders_pending():
            self.problem(self.lost, "escalation ladder", f"{inc.id} {inc.severity}: incomplete after the deadline")
        # Auto-resolve timers: every burst incident resolves by itself once its alerts have.
        bursts = [i.id for i in self.ledger.incidents.values() if i.group.startswith("CrashBurst")]
        deadline = time.monotonic() + ladder_deadline_s
        while True:
            bursts = [i for i in bursts if http_.ok("GET", f"/api/v1/incidents/{i}")["status"] != "resolved"]
            if not bursts or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        for iid in bursts:
            self.problem(self.lost, "auto-resolve", f"{iid}: still open after its alerts resolved")
        self.auto_resolved = sum(1 for i in self.ledger.incidents.values() if i.group.startswith("CrashBurst")) - len(bursts)
        # Deliveries: claims lapse (2 s timeout + 30 s margin), so wait for the outbox to drain.
        deadline = time.monotonic() + outbox_deadline_s
        while time.monotonic() < deadline:
            busy = [r for s in ("pending", "sending")
                    for r in http_.ok("GET", f"/api/v1/outbox?status={s}&limit=10000")["messages"]
                    if r["recipient"] in (f"channel:{HOOK}", f"user:{USER}")]
            if not busy:
                break
            time.sleep(0.25)
        dead = 0
        for iid in self.ledger.incidents:
            for r in http_.ok("GET", f"/api/v1/outbox?incident={iid}&limit=10000")["messages"]:
                path = {f"channel:{HOOK}": "/hook", f"user:{USER}": f"/user/{USER}"}.get(r["recipient"])
                if path is None:
                    continue
                self.outbox_rows += 1
                if r["status"] == "dead":
                    dead += 1
                    self.problem(self.wrong, "outbox dead", f"{iid} #{r['id']} {r['template']}: {r.get('last_error')}")
                elif r["status"] != "sent":
                    self.problem(self.wrong, "outbox undelivered", f"{iid} #{r['id']} {r['template']} still {r['status']}")
                elif not self.receiver.has((path, iid, r["template"])):
                    self.problem(self.lost, "delivery", f"{iid} #{r['id']} {r['template']} marked sent, never received")
        self.verify(http_)


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
            server.kill9()
            load.stop.set()
            for t in threads:
                t.join(timeout=60)
                if t.is_alive():
                    raise SystemExit("a load client did not stop within 60 s of the kill")
            acked = requests(ledger.acked) - acked_before
            t0 = time.monotonic()
            server.start()
            t1 = time.monotonic()
            check = Http(server.addr, server.token)
            checker.cycle(check)
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
