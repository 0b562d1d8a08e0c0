"""The load of `bench/crash.py`: its clients, their HTTP connections, and the ledger of every
write the server acknowledged (what the checks in `crash_check.py` hold the server to)."""

import hashlib
import http.client
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

HOOK_SECRET = b"crash-test-secret"
CONTACT_SECRET = b"crash-contact-secret"
USER = "crash-oncall"
HOOK = "hook"
# When each (round, step) of the ladders in `config()` is due, in seconds after the declaration
# (a step's delay counts from its round's start; rounds start `repeat_every` apart).
STEP_AT = {
    "P0": {(0, 0): 0, (0, 1): 1, (0, 2): 2},
    "P1": {(0, 0): 0, (0, 1): 1, (1, 0): 2, (1, 1): 3},
}
# The pairs each ladder must fire: the engine's timers, checked at the end.
LADDERS = {severity: set(steps) for severity, steps in STEP_AT.items()}
# How long after a restart a timer that came due before it may take to fire (the engine's first
# pass, behind the restart's other work).
JOB_GRACE_S = 15.0
ALERTNAMES = ["CrashDiskFull", "CrashLatency", "CrashErrors", "CrashQueue", "CrashMemory", "CrashDown"]
# CrashDown is critical (P0); the others are warnings (P2).
ALERT_SEVERITY = {name: ("critical" if name == "CrashDown" else "warning") for name in ALERTNAMES}
REPEAT_POOL = 40  # repeating fingerprints per alert client, for the whole run
NEW_PER_CYCLE = 8  # new fingerprints per alert client per cycle (GET /alerts reads 10,000 at most)


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
    declared_at: float = 0.0  # seconds since the epoch, from the declaration's event


@dataclass
class Fingerprint:
    labels: dict
    sent: int = 0
    acked: int = 0
    possible: set = field(default_factory=set)  # statuses the stored record may have


# The write kinds reported, by the event type an answer returned.
EVENT_KIND = {"declared": "declare", "acknowledged": "ack", "note_added": "note", "resolved": "resolve",
              "status_changed": "status", "paged": "page (answer)"}


def epoch(rfc3339):
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


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
                declared = [e["at"] for e in answer["events"] if e["type"] == "declared"]
                inc.declared_at = epoch(declared[0]) if declared else time.time()
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
            steps = (["note"] * rng.randint(1, 3) + ["ack", "investigating"] + ["note"] * rng.randint(0, 2)
                     + [rng.choice(["identified", "monitoring"]), "resolve"])
            for k, step in enumerate(steps):
                if rng.random() < 0.3:
                    self.note(http_, self.shared, f"shared c{self.cycle} client {idx} #{n}.{k}")
                if step == "note":
                    self.note(http_, iid, f"note c{self.cycle} client {idx} #{n}.{k} {rng.getrandbits(32):08x}")
                elif step == "ack":
                    v = self.send(http_, "ack", "POST", f"/api/v1/incidents/{iid}/ack", {}, iid)
                    if v is not None:
                        self.ledger.command("ack", v)
                elif step in ("investigating", "identified", "monitoring"):
                    v = self.send(http_, "status", "POST", f"/api/v1/incidents/{iid}/status",
                                  {"status": step, "note": f"c{self.cycle} client {idx} #{n}.{k}"}, iid)
                    if v is not None:
                        self.ledger.command("status", v)
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
