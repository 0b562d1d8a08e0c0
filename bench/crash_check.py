"""The checks of `bench/crash.py`, run after each restart and at the end (see its docstring)."""

import json
import time
from collections import Counter

from crash_load import EVENT_KIND, HOOK, JOB_GRACE_S, LADDERS, STEP_AT, USER, epoch


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
        self.steps_due_at_restart = 0  # escalation steps due before a restart, not fired yet at its check
        self.fired_after_restart = set()  # (incident, step) due before a restart, fired by the new server

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
            self.ladder(inc, stored.values())
            self.outbox(http_, iid, stored.values())

    def ladder(self, inc, events):
        """A timer fired twice is a step paged twice; an escalation incident's ladder is done
        once every step of its policy has paged."""
        pairs, twice = Counter(), False
        for e in sorted(events, key=lambda e: e["seq"]):
            if e["type"] in ("reopened", "severity_changed"):
                pairs = Counter()  # a new ladder may start from its first step
            elif e["type"] == "paged":
                pairs[(e["data"]["round"], e["data"]["step"])] += 1
                twice = twice or pairs[(e["data"]["round"], e["data"]["step"])] > 1
        if twice and inc.id not in self.duplicated:
            self.duplicated.add(inc.id)
            self.problem(self.wrong, "paged twice for one step", f"{inc.id} ({inc.role}) {dict(pairs)}")
        if inc.role == "escalation" and not inc.ladder_done and set(pairs) >= LADDERS[inc.severity]:
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

    def cycle(self, http_, killed_at, restarted_at):
        with self.ledger.lock:
            touched, self.ledger.touched = self.ledger.touched, set()
        self.incidents(http_, touched | {i.id for i in self.ladders_pending()})
        self.alerts(http_)
        self.verify(http_)
        self.overdue_steps(http_, killed_at, restarted_at)

    def overdue_steps(self, http_, killed_at, restarted_at):
        """Timers are rows: every escalation step that was due before the restart (during the
        load, at the kill, or while the server was down) is on the timeline soon after it, fired
        by the restarted engine's first passes if the killed one had not."""
        def missing(inc, events):
            paged = {(e["data"]["round"], e["data"]["step"]) for e in events if e["type"] == "paged"}
            due = {p for p, at in STEP_AT[inc.severity].items() if inc.declared_at + at <= restarted_at}
            return due - paged
        def late(inc, events):
            """Steps due before the kill (or while the server was down) that the restarted
            server fired: the timers the kill cut off."""
            for e in events:
                if e["type"] == "paged" and epoch(e["at"]) >= killed_at:
                    p = (e["data"]["round"], e["data"]["step"])
                    if inc.declared_at + STEP_AT[inc.severity].get(p, 1e9) <= restarted_at:
                        self.fired_after_restart.add((inc.id, p))
        waiting = {}
        for inc in self.ladders_pending():
            events = self.timeline(http_, inc.id)
            self.ladder(inc, events)
            late(inc, events)
            if missing(inc, events):
                waiting[inc.id] = inc
        self.steps_due_at_restart += sum(len(missing(i, self.timeline(http_, i.id))) for i in waiting.values())
        deadline = time.monotonic() + JOB_GRACE_S
        while waiting and time.monotonic() < deadline:
            time.sleep(0.1)  # bounded: waiting on the restarted server's engine
            for iid, inc in list(waiting.items()):
                events = self.timeline(http_, iid)
                self.ladder(inc, events)
                late(inc, events)
                if not missing(inc, events):
                    del waiting[iid]
        for inc in waiting.values():
            gone = sorted(missing(inc, self.timeline(http_, inc.id)))
            self.lost["escalation step (timer)"] += len(gone) - 1
            self.problem(self.lost, "escalation step (timer)",
                         f"{inc.id} {inc.severity}: steps {gone} due before the restart, not fired "
                         f"{JOB_GRACE_S:.0f} s after it")

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
