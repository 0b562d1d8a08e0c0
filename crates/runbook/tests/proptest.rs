//! Property tests: the parser and the classifier accept anything without panicking, and
//! `bind` always produces text in which a hostile value is inert.

use proptest::prelude::*;

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(s in any::<String>()) {
        let _ = sevwatch_runbook::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = sevwatch_runbook::parse(&String::from_utf8_lossy(&b));
    }

    #[test]
    fn parse_never_panics_on_markdown_shaped_text(
        parts in proptest::collection::vec(prop_oneof![
            Just("# T\n"), Just("## P1 - X\n"), Just("### Diagnosis\n"), Just("```bash\n"),
            Just("```\n"), Just("- item\n"), Just("  1. **Immediate (0-5 min):** x\n"),
            Just("rm -rf $DIR <id>\n"), Just("cat <<EOF\n"), Just("EOF\n"), Just("> quote\n"),
            Just("**Alert:** `A`\n"), Just("$(\n"), Just("if x; then\n"), Just("    "),
        ], 0..60)
    ) {
        let _ = sevwatch_runbook::parse(&parts.concat());
    }

    #[test]
    fn classify_never_panics_on_arbitrary_text(s in any::<String>()) {
        let _ = sevwatch_runbook::classify(&s);
    }

    #[test]
    fn classify_never_panics_on_shell_shaped_text(
        parts in proptest::collection::vec(prop_oneof![
            Just("rm -rf /x"), Just(" | "), Just(" && "), Just("$("), Just(")"), Just("(("),
            Just("'"), Just("\""), Just("sudo "), Just("ssh h '"), Just("bash -c \""),
            Just("<<EOF\n"), Just("\nEOF\n"), Just("if true; then "), Just(" fi"), Just("`"),
            Just("find . -exec "), Just(" {} \\;"), Just("watch '"), Just("\n"), Just("> f"),
        ], 0..40)
    ) {
        let _ = sevwatch_runbook::classify(&parts.concat());
    }

    #[test]
    fn a_placeholder_in_any_word_position_never_makes_a_command_unparseable(
        base in proptest::sample::select(vec![
            "kubectl get pods -n web", "systemctl restart nginx", "ssh db1 uptime", "rm -rf /tmp/x",
            "docker logs api --tail 10", "psql -h db -c 'SELECT 1'", "curl -s https://x/health | jq .",
            "sudo journalctl -u app --since today", "git -C /srv/app log -1",
        ]),
        placeholder in proptest::sample::select(vec!["<pod-name>", "{{host}}", "[name]", "YOUR_TOKEN", "{region}", "<Brief Description>"]),
        at in 1usize..8,
    ) {
        let mut words: Vec<&str> = base.split(' ').collect();
        let at = at.min(words.len());
        words.insert(at, placeholder);
        let command = words.join(" ");
        let risk = sevwatch_runbook::classify(&command);
        prop_assert!(!risk.reason.starts_with("could not parse"), "{command:?}: {}", risk.reason);
    }

    #[test]
    fn a_bound_value_is_assigned_once_and_referenced(v in "[ -~]{0,40}") {
        let vars = std::collections::BTreeMap::from([("id".to_string(), v.clone())]);
        match sevwatch_runbook::bind("echo <id>", &vars) {
            Ok(out) => prop_assert_eq!(out, format!("sw_id={}\necho \"${{sw_id}}\"", sevwatch_runbook::quote_value(&v))),
            // Only a value that would be read as an option, or that holds a subscript with an
            // expansion (`a[$(x)]`), is refused here.
            Err(e) => prop_assert!(v.starts_with('-') || v.split('[').skip(1).any(|t| t.contains(['$', '`'])), "{e}"),
        }
    }
}

#[test]
fn deeply_nested_and_huge_inputs_do_not_overflow() {
    let nested_if = "if true; then ".repeat(3000) + &"fi; ".repeat(3000);
    assert_eq!(sevwatch_runbook::classify(&nested_if).class, sevwatch_runbook::RiskClass::Unknown);
    let deep_subst = "echo $(".repeat(200) + &")".repeat(200);
    let _ = sevwatch_runbook::classify(&deep_subst);
    let deep_list = (0..5000).map(|i| format!("{}- x\n", "  ".repeat(i))).collect::<String>();
    let _ = sevwatch_runbook::parse(&deep_list);
    let quotes = ">".repeat(100_000);
    let _ = sevwatch_runbook::parse(&quotes);
    let unterminated = "# T\n\n## P1 - X\n\n```bash\nrm -rf /x\ncat <<EOF\nno end";
    let rb = sevwatch_runbook::parse(unterminated);
    assert!(rb.sections[0].steps().count() >= 1);
    let _ = sevwatch_runbook::parse(&"a".repeat(10 * 1024 * 1024));
}
