//! Per-command risk rules: given the quote-removed argv of one simple command, decide
//! read-only / mutating / destructive / unknown and say why. Wrappers (`sudo`, `ssh host
//! '...'`, `bash -c`, `watch`, `xargs`, `find -exec`, `kubectl exec --`, `chroot`, `env`,
//! `time`) hand their inner command back to the classifier. The dispatch is here; the rules
//! live by family: read-only commands with writing options in `readers`, tool families in
//! `tools`, scripts in `scripts`, tools without rules in `verbs`, SQL in `sql`.

use super::names::{MUTATING, READ_ONLY, SHELL_STATE, SUBCOMMAND_TOOLS};
use super::readers::{httpie, read_only_command};
use super::scripts::{interpreter, script_like, script_risk, script_risk_with};
use super::tools::{container, curl, database, git, kubectl, packages, redis, subcommand_tool, systemctl};
use super::Classifier;
use crate::model::{Risk, RiskClass};

use RiskClass::{Destructive, Mutating, ReadOnly, Unknown};

pub(super) fn risk(class: RiskClass, reason: impl Into<String>) -> Risk {
    Risk::new(class, reason)
}

/// Is the command name known to any rule? Used to reject nonsense lines.
pub fn known_name(name: &str) -> bool {
    READ_ONLY.contains(&name)
        || SHELL_STATE.contains(&name)
        || MUTATING.contains(&name)
        || SUBCOMMAND_TOOLS.contains(&name)
        || WRAPPERS.contains(&name)
}

/// Commands that run another command given as their arguments.
const WRAPPERS: &[&str] = &["nice", "ionice", "exec", "command", "builtin", "nohup", "stdbuf", "chronic", "time"];

pub(super) fn has_flag(args: &[String], short: char, long: &[&str]) -> bool {
    args.iter().any(|a| {
        (a.starts_with('-') && !a.starts_with("--") && a[1..].contains(short))
            || long.iter().any(|l| a == l || a.starts_with(&format!("{l}=")))
    })
}

pub(super) fn operands(args: &[String]) -> Vec<&str> {
    args.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect()
}

pub(super) fn shown(argv: &[String]) -> String {
    let s = argv.join(" ");
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(77).collect::<String>())
    } else {
        s
    }
}

/// First non-option argument and the arguments after it.
pub(super) fn subcommand(args: &[String]) -> (&str, &[String]) {
    match args.iter().position(|a| !a.starts_with('-')) {
        Some(i) => (args[i].as_str(), &args[i + 1..]),
        None => ("", &[]),
    }
}

/// Classifies one simple command's argv. `stdin` holds heredoc / here-string bodies.
pub fn argv_risk(c: &mut Classifier, argv: &[String], stdin: &[String]) -> Risk {
    let Some(first) = argv.first() else {
        return risk(ReadOnly, "only sets shell variables");
    };
    let name = first.rsplit('/').next().unwrap_or(first).to_string();
    let args = &argv[1..];
    let name = name.as_str();
    if READ_ONLY.contains(&name) {
        return read_only_command(c, name, argv, args);
    }
    if SHELL_STATE.contains(&name) {
        return risk(ReadOnly, format!("{name} only changes the shell's own state"));
    }
    match name {
        "rm" | "shred" | "unlink" => {
            let flags: String =
                args.iter().filter(|a| a.starts_with('-') && !a.starts_with("--")).map(|a| &a[1..]).collect();
            let mut long = String::new();
            if has_flag(args, 'r', &["--recursive"]) || has_flag(args, 'R', &[]) {
                long.push('r');
            }
            if has_flag(args, 'f', &["--force"]) {
                long.push('f');
            }
            let shown_flags = if long.is_empty() && flags.is_empty() {
                String::new()
            } else if long.is_empty() {
                format!(" -{flags}")
            } else {
                format!(" -{long}")
            };
            risk(Destructive, format!("{name}{shown_flags} on {}", operands(args).join(" ")))
        }
        "dd" => {
            if args.iter().any(|a| a.starts_with("of=")) {
                let of = args.iter().find(|a| a.starts_with("of=")).map_or("", |a| &a[3..]);
                risk(Destructive, format!("dd writes raw blocks to {of}"))
            } else {
                risk(ReadOnly, "dd without of= only reads")
            }
        }
        n if n.starts_with("mkfs") => risk(Destructive, format!("{n} formats {}", operands(args).join(" "))),
        "wipefs" | "fdisk" | "parted" | "sgdisk" => {
            if has_flag(args, 'l', &["--list"]) || args.iter().any(|a| a == "print") {
                risk(ReadOnly, format!("{name} only lists partitions"))
            } else {
                risk(Destructive, format!("{name} changes disk partitions"))
            }
        }
        "truncate" => risk(Destructive, format!("truncate on {}", operands(args).join(" "))),
        "kill" => {
            let sig9 =
                args.iter().any(|a| a == "-9" || a == "-KILL" || a == "-SIGKILL" || a == "SIGKILL" || a == "KILL");
            if args.iter().any(|a| a == "-0" || a == "-l") {
                risk(ReadOnly, "kill -0/-l only checks")
            } else if sig9 {
                risk(Destructive, format!("kill -9 on {}", operands(args).join(" ")))
            } else {
                risk(Mutating, format!("sends a signal to {}", operands(args).join(" ")))
            }
        }
        "pkill" | "killall" => {
            risk(Destructive, format!("{name} kills every process matching {}", operands(args).join(" ")))
        }
        "systemctl" => systemctl(args),
        "dmesg" => {
            if has_flag(args, 'c', &["--clear", "--read-clear"]) || has_flag(args, 'C', &[]) {
                risk(Mutating, "dmesg clears the kernel ring buffer")
            } else {
                risk(ReadOnly, "dmesg reads kernel messages")
            }
        }
        "ollama" => match subcommand(args).0 {
            "list" | "ps" | "show" | "--version" => risk(ReadOnly, "ollama lists models"),
            "rm" => risk(Destructive, "ollama rm deletes a model"),
            "run" => risk(ReadOnly, "ollama run sends a prompt to a model"),
            sub => risk(Mutating, format!("ollama {sub}")),
        },
        "service" => {
            if args.iter().any(|a| a == "status") {
                risk(ReadOnly, "service status")
            } else {
                risk(Mutating, format!("service {}", args.join(" ")))
            }
        }
        "journalctl" => {
            if args.iter().any(|a| a.starts_with("--vacuum") || a == "--rotate" || a == "--flush") {
                risk(Destructive, "journalctl deletes or rotates journal files")
            } else {
                risk(ReadOnly, "journalctl reads logs")
            }
        }
        "docker" | "podman" | "docker-compose" => container(name, args),
        "kubectl" | "oc" => kubectl(c, name, args),
        "git" => git(args),
        "curl" => curl(args),
        "wget" => {
            if has_flag(args, '\0', &["--spider"])
                || args.windows(2).any(|w| w[0] == "-O" && w[1] == "-")
                || args.iter().any(|a| a == "-qO-" || a == "-O-")
            {
                risk(ReadOnly, "wget prints to stdout")
            } else {
                risk(Mutating, "wget downloads a file")
            }
        }
        "sqlite3" | "psql" | "mysql" | "mongo" | "mongosh" => database(name, args, stdin),
        "redis-cli" => redis(args),
        "sed" | "perl" => {
            // `-i`, `-i.bak`, `--in-place`, or `i` in a cluster of short options (`-pi`, `-ni`).
            let in_place = args.iter().any(|a| {
                a.starts_with("-i")
                    || a.starts_with("--in-place")
                    || (a.starts_with('-') && !a.starts_with("--") && a.contains('i') && name == "sed")
                    || (name == "perl"
                        && a.starts_with('-')
                        && !a.starts_with("--")
                        && a[1..].chars().take_while(|c| c.is_ascii_alphabetic()).any(|c| c == 'i'))
            });
            // `perl -pe` / `-ne` filters its input like sed does; `perl -e` or a script can do anything.
            let filter = args.iter().any(|a| {
                a.starts_with('-') && !a.starts_with("--") && (a.contains('p') || a.contains('n')) && a.ends_with('e')
            });
            if in_place {
                risk(Mutating, format!("{name} -i edits {} in place", operands(args).last().unwrap_or(&"")))
            } else if name == "sed" {
                risk(ReadOnly, "sed without -i only prints")
            } else if filter {
                risk(ReadOnly, "perl -p/-n without -i only filters what it reads")
            } else {
                risk(Unknown, "perl script")
            }
        }
        // `gzip -d` in a pipe (or with -c) writes to stdout; with files it replaces them.
        "gzip" | "gunzip" | "bzip2" | "bunzip2" | "xz" | "unxz" | "zstd" | "unzstd"
            if has_flag(args, 'c', &["--stdout", "--to-stdout"]) || operands(args).is_empty() =>
        {
            risk(ReadOnly, format!("{name} writes to stdout only"))
        }
        "tee" => {
            let targets: Vec<&str> = operands(args).into_iter().filter(|t| !t.starts_with("/dev/")).collect();
            if targets.is_empty() {
                risk(ReadOnly, "tee to /dev only")
            } else {
                risk(Mutating, format!("tee writes {}", targets.join(" ")))
            }
        }
        "tar" => {
            let mode = args.first().map(String::as_str).unwrap_or("");
            if mode.contains('t') && !mode.contains('x') && !mode.contains('c') {
                risk(ReadOnly, "tar only lists")
            } else if mode.contains('x') {
                risk(Mutating, format!("tar extracts {} over existing files", operands(args).join(" ")))
            } else {
                risk(Mutating, "tar writes an archive")
            }
        }
        "find" => find(c, args),
        "xargs" => {
            let rest: Vec<String> = skip_options(args, &["-n", "-I", "-P", "-L", "-d", "-s", "-E"]);
            inner(c, "xargs", &rest, stdin)
        }
        "iptables" | "ip6tables" | "nft" => {
            if has_flag(args, 'L', &["--list"])
                || has_flag(args, 'S', &["--list-rules"])
                || args.iter().any(|a| a == "list")
            {
                risk(ReadOnly, format!("{name} lists rules"))
            } else if has_flag(args, 'F', &["--flush"]) || has_flag(args, 'X', &[]) || args.iter().any(|a| a == "flush")
            {
                risk(Destructive, format!("{name} flushes firewall rules"))
            } else if has_flag(args, 'D', &["--delete"]) || args.iter().any(|a| a == "delete") {
                risk(Destructive, format!("{name} deletes firewall rules"))
            } else {
                risk(Mutating, format!("{name} changes firewall rules"))
            }
        }
        "rsync" => {
            if args.iter().any(|a| a.starts_with("--delete")) {
                risk(Destructive, "rsync --delete removes files at the destination")
            } else {
                risk(Mutating, format!("rsync copies to {}", operands(args).last().unwrap_or(&"")))
            }
        }
        "crontab" => {
            if has_flag(args, 'r', &[]) {
                risk(Destructive, "crontab -r removes the crontab")
            } else if has_flag(args, 'l', &[]) {
                risk(ReadOnly, "crontab -l lists")
            } else {
                risk(Mutating, "crontab changes scheduled jobs")
            }
        }
        "ip" => {
            let (sub, rest) = subcommand(args);
            if rest.iter().any(|a| matches!(a.as_str(), "del" | "delete" | "flush")) {
                risk(Destructive, format!("ip {sub} deletes network configuration"))
            } else if rest.is_empty() || rest.iter().any(|a| a == "show" || a == "list" || a == "ls") || sub == "-s" {
                risk(ReadOnly, format!("ip {sub} shows state"))
            } else {
                risk(Mutating, format!("ip {sub} changes network state"))
            }
        }
        "mount" | "ifconfig" => {
            if args.is_empty() || args.iter().all(|a| a.starts_with('-')) {
                risk(ReadOnly, format!("{name} lists"))
            } else {
                risk(Mutating, format!("{name} {}", args.join(" ")))
            }
        }
        "ufw" if args.iter().any(|a| a == "status") => risk(ReadOnly, "ufw status only reads"),
        "pip" | "pip3" | "apt" | "apt-get" | "yum" | "dnf" | "brew" | "snap" | "npm" | "gem" => packages(name, args),
        "sudo" | "doas" => {
            let rest = skip_options(args, &["-u", "-g", "-C", "-p", "-U", "-h", "-D", "-r", "-t"]);
            let r = inner(c, name, &rest, stdin);
            if rest.is_empty() {
                risk(Unknown, format!("{name} without a command"))
            } else {
                risk(r.class, format!("{name}: {}", r.reason))
            }
        }
        "su" => match args.iter().position(|a| a == "-c") {
            Some(i) if i + 1 < args.len() => c.reread("su -c", &args[i + 1]),
            _ => risk(Unknown, "su opens a root shell"),
        },
        "ssh" => ssh(c, args, stdin),
        "bash" | "sh" | "zsh" | "eval" => match args.iter().position(|a| a == "-c") {
            Some(i) if i + 1 < args.len() => c.reread(&format!("{name} -c"), &args[i + 1]),
            _ if name == "eval" => c.reread("eval", &args.join(" ")),
            _ => match operands(args).first() {
                Some(script) => script_risk(script),
                None => {
                    for doc in stdin {
                        c.reread(&format!("{name} reading stdin"), doc);
                    }
                    risk(Unknown, format!("{name} reads commands from stdin"))
                }
            },
        },
        "source" | "." => risk(Unknown, format!("sources {}", args.join(" "))),
        "watch" => {
            let rest = skip_options(args, &["-n", "-d", "--interval", "-c"]);
            if rest.len() == 1 {
                c.reread("watch", &rest[0])
            } else {
                inner(c, name, &rest, stdin)
            }
        }
        "timeout" => {
            let rest = skip_options(args, &["-s", "-k", "--signal", "--kill-after"]);
            inner(c, name, rest.get(1..).unwrap_or(&[]), stdin)
        }
        _ if WRAPPERS.contains(&name) => {
            let rest = skip_options(args, &["-n", "-c", "-p", "-o", "-f"]);
            inner(c, name, &rest, stdin)
        }
        // `chroot /host` opens a shell there; `chroot /host cmd` runs cmd there.
        "chroot" => match operands(args).split_first() {
            Some((root, [])) => risk(Unknown, format!("chroot opens a shell in {root}")),
            Some((_, _)) => {
                let at = args.iter().position(|a| !a.starts_with('-')).map_or(args.len(), |i| i + 1);
                inner(c, name, &args[at..], stdin)
            }
            None => risk(Unknown, "chroot without a directory"),
        },
        "bundle" if subcommand(args).0 == "exec" => inner(c, "bundle exec", subcommand(args).1, stdin),
        // `knife ssh QUERY 'command'` runs the command on every node the query finds.
        "knife" if subcommand(args).0 == "ssh" => {
            let after = subcommand(args).1;
            let rest = skip_options(after, &["-a", "-C", "-x", "-i", "-p", "-m", "--attribute", "--concurrency"]);
            match rest.get(1) {
                Some(command) => {
                    let r = c.reread("knife ssh", command);
                    risk(r.class, format!("knife ssh on {}: {}", rest[0], r.reason))
                }
                None => risk(Unknown, "knife ssh without a command opens sessions"),
            }
        }
        // `toolbox` opens a debugging container's shell; `toolbox -q jq ...` runs jq in it.
        "toolbox" => match skip_options(args, &[]).as_slice() {
            [] => risk(Unknown, "toolbox opens a shell in a debugging container"),
            rest => inner(c, name, rest, stdin),
        },
        "mktemp" => risk(Mutating, "mktemp creates a temporary file or directory"),
        "http" | "https" => httpie(name, args),
        "grpcurl" => {
            if args.iter().any(|a| a == "list" || a == "describe") {
                risk(ReadOnly, "grpcurl lists or describes services")
            } else {
                risk(Mutating, "grpcurl calls a gRPC method (it may change state)")
            }
        }
        _ if SUBCOMMAND_TOOLS.contains(&name) => subcommand_tool(name, args),
        "python" | "python3" | "node" => interpreter(name, args),
        _ if script_like(first) => script_risk_with(first, args),
        // A program by its path (`/opt/gitlab/embedded/bin/praefect`): a tool without rules.
        _ if first.contains('/') => {
            let r = super::verbs::by_words(name, args);
            risk(r.class, format!("{first}: {}", r.reason.trim_start_matches(name).trim_start_matches(": ")))
        }
        _ if MUTATING.contains(&name) => risk(Mutating, format!("{name} changes state")),
        _ => super::verbs::by_words(name, args),
    }
}

/// Drops leading options (and the values of options listed in `with_value`).
pub(super) fn skip_options(args: &[String], with_value: &[&str]) -> Vec<String> {
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') {
        if args[i] == "--" {
            i += 1;
            break;
        }
        if with_value.contains(&args[i].as_str()) {
            i += 1;
        }
        i += 1;
    }
    args.get(i..).unwrap_or(&[]).to_vec()
}

/// Classifies the command a wrapper runs; a lone quoted string is re-parsed as shell.
pub(super) fn inner(c: &mut Classifier, wrapper: &str, rest: &[String], stdin: &[String]) -> Risk {
    match rest.len() {
        0 => risk(ReadOnly, format!("{wrapper} without a command")),
        1 if rest[0].contains(' ') => c.reread(wrapper, &rest[0]),
        _ => c.argv_risk(rest, stdin),
    }
}

fn find(c: &mut Classifier, args: &[String]) -> Risk {
    if args.iter().any(|a| a == "-delete") {
        return risk(Destructive, format!("find -delete under {}", args.first().map(String::as_str).unwrap_or(".")));
    }
    let mut worst = risk(ReadOnly, "find only lists files");
    for (i, a) in args.iter().enumerate() {
        if matches!(a.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir") {
            let end =
                args[i + 1..].iter().position(|x| x == ";" || x == "+" || x == "\\;").map_or(args.len(), |p| i + 1 + p);
            let r = c.argv_risk(&args[i + 1..end], &[]);
            if r.class > worst.class {
                worst = risk(r.class, format!("find -exec: {}", r.reason));
            }
        }
    }
    worst
}

fn ssh(c: &mut Classifier, args: &[String], stdin: &[String]) -> Risk {
    let rest = skip_options(args, &["-i", "-p", "-o", "-l", "-F", "-J", "-L", "-R", "-D", "-b", "-c", "-E", "-W"]);
    let host = rest.first().map(String::as_str).unwrap_or("");
    // Whatever ssh sends is read by the remote side, often a shell (`ssh h bash <<EOF`).
    for doc in stdin {
        c.reread("ssh's input", doc);
    }
    if rest.len() <= 1 {
        return risk(Unknown, format!("ssh opens an interactive session on {host}"));
    }
    let r = c.reread("ssh", &rest[1..].join(" "));
    risk(r.class, format!("on {host}: {}", r.reason))
}
