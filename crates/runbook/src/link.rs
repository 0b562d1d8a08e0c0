//! Alert linking: given a firing alert (name, runbook URL, service, title), rank the runbook
//! sections a responder should open. Pure scoring over parsed runbooks; exact alert-name
//! matches dominate, then runbook URLs, then word overlap with titles and services.

use serde::{Deserialize, Serialize};

use crate::model::Runbook;

/// A suggested runbook section for an alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The caller's runbook id.
    pub runbook: String,
    /// Section title.
    pub section: String,
    pub reason: String,
    pub score: f64,
}

fn words(s: &str) -> Vec<String> {
    // Split CamelCase too, so `HighErrorRate` shares words with "high error rate".
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.retain(|w| w.len() > 2 && !matches!(w.as_str(), "the" | "and" | "for" | "incident" | "alert"));
    out
}

fn overlap(a: &[String], b: &[String]) -> usize {
    a.iter().filter(|w| b.contains(w)).count()
}

/// Ranks sections of `runbooks` for an alert, best first; sections scoring zero are left out.
pub fn link(
    runbooks: &[(String, Runbook)],
    alertname: Option<&str>,
    runbook_url: Option<&str>,
    service: Option<&str>,
    title: &str,
) -> Vec<Suggestion> {
    let title_words = words(title);
    let alert_words = alertname.map(words).unwrap_or_default();
    let service_words = service.map(words).unwrap_or_default();
    let mut out = Vec::new();
    for (id, rb) in runbooks {
        let url_hit = runbook_url.is_some_and(|u| {
            let u = u.to_lowercase();
            !id.is_empty() && (u.contains(&id.to_lowercase()) || id.to_lowercase().contains(&u))
        });
        for s in &rb.sections {
            let mut score = 0.0;
            let mut reasons = Vec::new();
            if let Some(a) = alertname {
                if s.alerts.iter().any(|x| x == a) {
                    score += 100.0;
                    reasons.push(format!("section handles alert {a}"));
                } else if s.alerts.iter().any(|x| x.eq_ignore_ascii_case(a)) {
                    score += 80.0;
                    reasons.push(format!("section handles alert {a} (case differs)"));
                }
            }
            if url_hit {
                score += 40.0;
                reasons.push("runbook_url points at this runbook".to_string());
            }
            let sec_words = words(&s.title);
            let mut all = sec_words.clone();
            for a in &s.alerts {
                all.extend(words(a));
            }
            let t = overlap(&title_words, &all) + overlap(&alert_words, &all);
            if t > 0 {
                score += 5.0 * t as f64;
                reasons.push(format!("{t} shared words with the alert"));
            }
            let sv = overlap(&service_words, &all)
                + overlap(&service_words, &rb.title.as_deref().map(words).unwrap_or_default());
            if sv > 0 {
                score += 3.0 * sv as f64;
                reasons.push(format!("mentions service {}", service.unwrap_or("")));
            }
            if score > 0.0 {
                if s.incident {
                    score += 1.0;
                }
                out.push(Suggestion {
                    runbook: id.clone(),
                    section: s.title.clone(),
                    reason: reasons.join("; "),
                    score,
                });
            }
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.section.cmp(&b.section)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_alert_names_split_into_words() {
        assert_eq!(words("HighLatencyP95"), vec!["high", "latency", "p95"]);
    }

    #[test]
    fn word_overlap_ranks_sections_without_alert_names() {
        let rb = crate::parse(
            "# R\n\n## P1 - Disk Full\n\n```bash\ndf -h\n```\n\n## P2 - Slow API\n\n```bash\nuptime\n```\n",
        );
        let s = link(&[("r".into(), rb)], None, None, None, "disk full on db-1");
        assert_eq!(s[0].section, "P1 - Disk Full");
        assert_eq!(s.len(), 1);
    }
}
