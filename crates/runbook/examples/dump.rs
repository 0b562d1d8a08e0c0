//! Prints the parsed structure of one runbook: `cargo run --example dump -- FILE [--json]`.

fn main() {
    let path = std::env::args().nth(1).expect("usage: dump FILE [--json]");
    let text = std::fs::read_to_string(&path).expect("readable UTF-8 file");
    let rb = sevwatch_runbook::parse(&text);
    if std::env::args().any(|a| a == "--json") {
        println!("{}", serde_json::to_string_pretty(&rb).expect("serialisable"));
        return;
    }
    println!("title: {:?}", rb.title);
    for s in &rb.sections {
        println!(
            "== {} (line {}, incident {}, sev {:?}, alerts {:?}, group {:?})",
            s.title, s.line, s.incident, s.severity, s.alerts, s.group
        );
        for p in &s.phases {
            println!("  -- {:?} {:?} steps={} options={}", p.kind, p.title, p.steps.len(), p.options.len());
            for st in &p.steps {
                println!(
                    "     L{} [{}] {:?} :: {} => {}",
                    st.line,
                    st.risk.class.as_str(),
                    st.title,
                    st.command.replace('\n', "⏎"),
                    st.risk.reason
                );
            }
        }
    }
}
