//! `sevwatch config default`: a commented `sevwatch.toml` with every setting at its default,
//! which parses back to the defaults (a test holds it to that).

use std::collections::BTreeMap;

use super::checklists::PHASES;
use crate::{Duration, Policy, Severity};

/// A commented example of every setting with its default, for `sevwatch config default`.
pub fn default_toml() -> String {
    let p = Policy::default();
    let mut out = String::from(
        "# sevwatch.toml: every key is optional; the values below are the defaults.\n\n\
         [server]\n\
         # listen = \"127.0.0.1:8080\"\n\
         # data_dir = \"./sevwatch-data\"\n\
         # database_url = \"postgres://user@127.0.0.1:5432/sevwatch\"   # leave out for the embedded SQLite file\n\
         # max_body_bytes = 1048576\n\
         # header_timeout = \"10s\"   # from accept (or a later request's first byte) to the end of its headers\n\
         # body_timeout = \"30s\"     # from the end of the headers to the end of the body\n\
         # idle_timeout = \"1m\"      # a kept-alive connection waiting for its next request\n\
         # max_connections = 2048   # beyond it: 503 with Retry-After (GET /healthz still answered)\n\
         # max_bodies_in_flight = 8    # large request bodies read and handled at once; more wait up to body_timeout\n\n\
         # Severity levels: targets are durations (\"90s\", \"15m\", \"4h\", \"1d\", \"1w\") or\n\
         # \"next-business-day\"; update_every may be \"as-needed\".\n",
    );
    for s in Severity::ALL {
        let l = p.level(s);
        let opt = |d: Option<Duration>| d.map(|d| d.to_string()).unwrap_or_else(|| "as-needed".into());
        out.push_str(&format!(
            "[severity.{s}]\nname = {:?}\ndescription = {:?}\nresponse_target = \"{}\"\nresolution_target = \"{}\"\nupdate_every = \"{}\"\npage = {:?}\npostmortem_required = {}\n",
            l.name,
            l.description,
            l.response_target,
            l.resolution_target,
            opt(l.update_every),
            l.page,
            l.postmortem_required
        ));
        if let Some(d) = l.postmortem_schedule_within {
            out.push_str(&format!("postmortem_schedule_within = \"{d}\"\n"));
        }
        if let Some(d) = l.postmortem_complete_within {
            out.push_str(&format!("postmortem_complete_within = \"{d}\"\n"));
        }
        out.push('\n');
    }
    out.push_str(
        "# Other scales mapped onto P0-P4 (case-insensitive). These are added to the defaults.\n[severity.aliases]\n",
    );
    let by_level: BTreeMap<&String, &Severity> = p.aliases.iter().collect();
    for (alias, sev) in by_level {
        out.push_str(&format!("{alias} = \"{sev}\"\n"));
    }
    out.push_str("\n[roles]\n# Built in: commander, tech-lead, comms-lead, scribe.\ncustom = []\n\n");
    out.push_str(
        "# Runbook steps run on the responder's machine through the CLI unless the server may run them.\n\
         [runbooks]\nexecute_on_server = false\n# workdir = \"/srv/ops\"\ntimeout = \"1m\"\n\n",
    );
    out.push_str(
        "# Alerts in: severity from labels, grouping, auto-resolve, routes and maintenance windows.\n\
         [alerts]\n\
         severity_labels = [\"severity\", \"priority\", \"level\"]\n\
         default_severity = \"P2\"\n\
         auto_resolve_after = \"10m\"\n\
         flap_changes = 4\n\
         flap_window = \"10m\"\n\
         group_by = [\"alertname\"]\n\
         # [[alerts.routes]]\n\
         # matchers = ['team=\"db\"']\n\
         # service = \"database\"\n\
         # [[alerts.maintenance]]\n\
         # service = \"database\"\n\
         # every = \"weekly\"\n\
         # days = [\"sun\"]\n\
         # at = \"02:00\"\n\
         # duration = \"2h\"\n\
         # timezone = \"Europe/Berlin\"\n\n\
         # On-call: [[users]], [[schedules]] and [[escalation_policies]] replace the defaults by id\n\
         # (a `default` schedule with primary and secondary layers, policies p0-p4); see README.md.\n\n",
    );
    out.push_str("# Each phase listed here replaces that phase's default items.\n[checklists]\n");
    for (key, phase) in PHASES {
        out.push_str(&format!("{key} = [\n"));
        for c in p.checklist.iter().filter(|c| c.phase == phase) {
            out.push_str(&format!("  {{ id = {:?}, text = {:?} }},\n", c.id, c.text));
        }
        out.push_str("]\n");
    }
    out
}
