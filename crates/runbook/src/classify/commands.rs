//! Per-command risk rules: given the quote-removed argv of one simple command, decide
//! read-only / mutating / destructive / unknown and say why. Wrappers (`sudo`, `ssh host
//! '...'`, `bash -c`, `watch`, `xargs`, `find -exec`, `kubectl exec --`) hand their inner
//! command back to the classifier. SQL given to database clients is judged by `sql`.

use super::Classifier;
use crate::model::{Risk, RiskClass};

use RiskClass::{Destructive, Mutating, ReadOnly, Unknown};

/// Commands that only read or report.
const READ_ONLY: &[&str] = &[
    "ps",
    "pgrep",
    "pidof",
    "pstree",
    "grep",
    "egrep",
    "fgrep",
    "rg",
    "ag",
    "tail",
    "head",
    "cat",
    "less",
    "more",
    "ls",
    "ll",
    "df",
    "du",
    "free",
    "top",
    "htop",
    "atop",
    "uptime",
    "vmstat",
    "iostat",
    "mpstat",
    "sar",
    "lsof",
    "netstat",
    "ss",
    "echo",
    "printf",
    "date",
    "sleep",
    "wc",
    "sort",
    "uniq",
    "cut",
    "jq",
    "stat",
    "file",
    "which",
    "whoami",
    "id",
    "hostname",
    "uname",
    "printenv",
    "nproc",
    "lscpu",
    "lsblk",
    "ping",
    "traceroute",
    "tracepath",
    "mtr",
    "dig",
    "nslookup",
    "host",
    "wscat",
    "test",
    "[",
    "true",
    "false",
    "diff",
    "cmp",
    "md5sum",
    "sha256sum",
    "sha1sum",
    "nvidia-smi",
    "rocm-smi",
    "pmap",
    "tree",
    "realpath",
    "basename",
    "dirname",
    "readlink",
    "column",
    "tr",
    "getent",
    "iftop",
    "iotop",
    "nethogs",
    "nc",
    "ncat",
    "telnet",
    "openssl",
    "time",
    "env",
    "history",
    "type",
    "hash",
    "zcat",
    "zgrep",
    "xxd",
    "hexdump",
    "strings",
    "od",
    "tac",
    "nl",
    "fold",
    "fmt",
    "seq",
    "yes",
    "base64",
    "look",
    "awk",
    "gawk",
    "strace",
    "ltrace",
    "perf",
    "dstat",
    "glances",
    "lsmod",
    "blkid",
    "findmnt",
    "last",
    "w",
    "who",
    "cal",
    "uptime",
    "tput",
    "clear",
    "man",
    "promtool",
    "amtool",
    "logcli",
    "etcdctl",
    "nodetool",
    "ipcs",
    "sestatus",
    "getenforce",
    "hdparm",
    "smartctl",
    "ethtool",
    "arp",
    "route",
    "timedatectl",
    "hostnamectl",
    "lslocks",
    "pwdx",
    "fuser",
    "sysctl",
    "ulimit",
    "systemd-analyze",
    "loginctl",
    "grpcurl",
    "http",
    "vm_stat",
    "pytest",
    "iptables-save",
    "sqlite3_analyzer",
    "mktemp",
    "ollama-list",
];

/// Shell builtins that only change the runbook shell's own state.
const SHELL_STATE: &[&str] = &[
    "cd", "pushd", "popd", "export", "set", "unset", "alias", "read", "local", "declare", "typeset", "shopt", "exit",
    "return", "wait", "trap", "break", "continue", "shift", ":", "umask", "readonly", "let", "jobs", "fg", "bg",
    "disown", "pwd",
];

/// Commands whose only job is to change files, services or packages.
const MUTATING: &[&str] = &[
    "cp",
    "mv",
    "ln",
    "mkdir",
    "touch",
    "chmod",
    "chown",
    "chgrp",
    "install",
    "tar",
    "unzip",
    "zip",
    "gzip",
    "gunzip",
    "bzip2",
    "xz",
    "tee",
    "rmdir",
    "service",
    "reboot",
    "shutdown",
    "halt",
    "poweroff",
    "useradd",
    "usermod",
    "passwd",
    "mount",
    "umount",
    "swapoff",
    "swapon",
    "modprobe",
    "ip",
    "ifconfig",
    "ifup",
    "ifdown",
    "renice",
    "ionice",
    "nohup",
    "crontab",
    "logrotate",
    "ssh-keygen",
    "scp",
    "sftp",
    "update-alternatives",
    "setenforce",
    "chattr",
    "wget",
    "make",
    "cargo",
    "npm",
    "yarn",
    "pnpm",
    "go",
    "gem",
    "bundle",
    "helm",
    "terraform",
    "ansible",
    "ansible-playbook",
    "vim",
    "vi",
    "nano",
    "emacs",
    "ed",
    "patch",
    "ollama",
    "supervisorctl",
    "pm2",
    "nginx",
    "apachectl",
    "certbot",
    "ufw",
    "firewall-cmd",
    "sed",
    "perl",
    "pip",
    "pip3",
    "apt",
    "apt-get",
    "yum",
    "dnf",
    "brew",
    "snap",
    "systemctl",
    "journalctl",
    "docker",
    "podman",
    "kubectl",
    "oc",
    "git",
    "curl",
    "sqlite3",
    "psql",
    "mysql",
    "redis-cli",
    "kill",
    "pkill",
    "killall",
    "rm",
    "shred",
    "dd",
    "truncate",
    "wipefs",
    "fdisk",
    "parted",
    "sgdisk",
    "unlink",
    "iptables",
    "ip6tables",
    "nft",
    "rsync",
    "find",
    "xargs",
    "python",
    "python3",
    "node",
    "bash",
    "sh",
    "zsh",
    "sudo",
    "ssh",
    "watch",
    "timeout",
    "nice",
    "exec",
    "command",
    "builtin",
    "doas",
    "su",
    "source",
    ".",
    "eval",
    "docker-compose",
    "mongo",
    "mongosh",
    "aws",
    "gcloud",
    "az",
    "argocd",
    "flux",
    "istioctl",
    "virtctl",
    "velero",
    "ceph",
    "rados",
    "rbd",
    "stdbuf",
    "chronic",
    "gsutil",
];

fn risk(class: RiskClass, reason: impl Into<String>) -> Risk {
    Risk::new(class, reason)
}

/// Is the command name known to any rule? Used to reject nonsense lines.
pub fn known_name(name: &str) -> bool {
    READ_ONLY.contains(&name) || SHELL_STATE.contains(&name) || MUTATING.contains(&name)
}

fn has_flag(args: &[String], short: char, long: &[&str]) -> bool {
    args.iter().any(|a| {
        (a.starts_with('-') && !a.starts_with("--") && a[1..].contains(short))
            || long.iter().any(|l| a == l || a.starts_with(&format!("{l}=")))
    })
}

fn operands(args: &[String]) -> Vec<&str> {
    args.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect()
}

fn shown(argv: &[String]) -> String {
    let s = argv.join(" ");
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(77).collect::<String>())
    } else {
        s
    }
}

/// First non-option argument and the arguments after it.
fn subcommand(args: &[String]) -> (&str, &[String]) {
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
        return read_only_command(name, argv, args);
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
            if args.iter().any(|a| {
                a.starts_with("-i")
                    || a.starts_with("--in-place")
                    || (a.starts_with('-') && !a.starts_with("--") && a.contains('i') && name == "sed")
            }) {
                risk(Mutating, format!("{name} -i edits {} in place", operands(args).last().unwrap_or(&"")))
            } else if name == "sed" {
                risk(ReadOnly, "sed without -i only prints")
            } else {
                risk(Unknown, "perl script")
            }
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
            if rest.is_empty() || rest.iter().any(|a| a == "show" || a == "list" || a == "ls") || sub == "-s" {
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
        "pip" | "pip3" | "apt" | "apt-get" | "yum" | "dnf" | "brew" | "snap" | "npm" | "gem" | "helm" => {
            packages(name, args)
        }
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
        "nice" | "ionice" | "exec" | "command" | "builtin" | "nohup" | "stdbuf" | "chronic" => {
            let rest = skip_options(args, &["-n", "-c", "-p"]);
            inner(c, name, &rest, stdin)
        }
        "python" | "python3" | "node" => interpreter(name, args),
        _ if first.contains('/') || first.ends_with(".sh") || first.ends_with(".py") => script_risk_with(first, args),
        _ if MUTATING.contains(&name) => risk(Mutating, format!("{name} changes state")),
        _ => super::verbs::by_words(name, args),
    }
}

fn read_only_command(name: &str, argv: &[String], args: &[String]) -> Risk {
    match name {
        "awk" | "gawk" if args.iter().any(|a| a == "-i" || a == "inplace") => {
            risk(Mutating, "awk -i inplace edits files")
        }
        "sysctl" if args.iter().any(|a| a == "-w" || a.contains('=')) => {
            risk(Mutating, "sysctl changes kernel parameters")
        }
        "env" if args.iter().any(|a| !a.starts_with('-') && !a.contains('=')) => {
            risk(Unknown, format!("env runs {}", shown(args)))
        }
        "fuser" if has_flag(args, 'k', &["--kill"]) => risk(Destructive, "fuser -k kills processes"),
        "timedatectl" | "hostnamectl" if args.iter().any(|a| a.starts_with("set")) => {
            risk(Mutating, format!("{name} changes system settings"))
        }
        _ => risk(ReadOnly, format!("{name} only reads: {}", shown(argv))),
    }
}

/// Drops leading options (and the values of options listed in `with_value`).
fn skip_options(args: &[String], with_value: &[&str]) -> Vec<String> {
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
fn inner(c: &mut Classifier, wrapper: &str, rest: &[String], stdin: &[String]) -> Risk {
    match rest.len() {
        0 => risk(ReadOnly, format!("{wrapper} without a command")),
        1 if rest[0].contains(' ') => c.reread(wrapper, &rest[0]),
        _ => c.argv_risk(rest, stdin),
    }
}

fn systemctl(args: &[String]) -> Risk {
    let (sub, rest) = subcommand(args);
    let unit = rest.first().map(String::as_str).unwrap_or("");
    match sub {
        "" | "status" | "is-active" | "is-enabled" | "is-failed" | "show" | "cat" | "list-units"
        | "list-unit-files" | "list-timers" | "list-sockets" | "list-dependencies" | "help" => {
            risk(ReadOnly, format!("systemctl {sub} only reads"))
        }
        "kill" => risk(Destructive, format!("systemctl kill {unit}")),
        _ => risk(Mutating, format!("systemctl {sub} {unit}").trim_end().to_string()),
    }
}

fn container(name: &str, args: &[String]) -> Risk {
    let (mut sub, mut rest) = subcommand(args);
    if sub == "compose"
        || sub == "container"
        || sub == "image"
        || sub == "volume"
        || sub == "system"
        || sub == "network"
    {
        let (s2, r2) = subcommand(rest);
        if sub == "system" && s2 == "prune" || matches!(s2, "rm" | "prune" | "down") && sub != "compose" {
            return risk(Destructive, format!("{name} {sub} {s2} removes resources"));
        }
        if sub == "compose" && s2 == "down" && has_flag(r2, 'v', &["--volumes"]) {
            return risk(Destructive, format!("{name} compose down -v deletes volumes"));
        }
        sub = s2;
        rest = r2;
    }
    let target = rest.iter().find(|a| !a.starts_with('-')).map(String::as_str).unwrap_or("");
    match sub {
        "ps" | "logs" | "inspect" | "stats" | "images" | "top" | "version" | "info" | "ls" | "port" | "events"
        | "history" | "config" => risk(ReadOnly, format!("{name} {sub} only reads")),
        "rm" | "rmi" | "kill" | "prune" => risk(Destructive, format!("{name} {sub} {target}")),
        _ => risk(Mutating, format!("{name} {sub} {target}").trim_end().to_string()),
    }
}

fn kubectl(c: &mut Classifier, name: &str, args: &[String]) -> Risk {
    let rest = skip_options(args, &["-n", "--namespace", "--context", "-l", "--kubeconfig", "-c"]);
    let sub = rest.first().map(String::as_str).unwrap_or("");
    let obj =
        rest.get(1..).unwrap_or(&[]).iter().filter(|a| !a.starts_with('-')).cloned().collect::<Vec<_>>().join(" ");
    match sub {
        "get" | "describe" | "logs" | "top" | "explain" | "version" | "api-resources" | "api-versions"
        | "cluster-info" | "events" | "auth" | "diff" | "whoami" | "adm"
            if !(sub == "adm" && rest.iter().any(|a| a == "drain" || a == "cordon")) =>
        {
            risk(ReadOnly, format!("{name} {sub} only reads"))
        }
        "rollout" if rest.iter().any(|a| a == "status" || a == "history") => {
            risk(ReadOnly, format!("{name} rollout status"))
        }
        "config" if rest.iter().any(|a| a == "view" || a.starts_with("get-") || a == "current-context") => {
            risk(ReadOnly, format!("{name} config view"))
        }
        "delete" | "drain" => risk(Destructive, format!("{name} {sub} {obj}")),
        "exec" => match rest.iter().position(|a| a == "--") {
            Some(i) if i + 1 < rest.len() => {
                let r = c.argv_risk(&rest[i + 1..], &[]);
                let class = r.class.max(Mutating);
                risk(class, format!("{name} exec: {}", r.reason))
            }
            _ => risk(Unknown, format!("{name} exec opens a shell")),
        },
        "scale" if rest.iter().any(|a| a == "--replicas=0") => risk(Destructive, format!("{name} scale to zero {obj}")),
        _ => risk(Mutating, format!("{name} {sub} {obj}").trim_end().to_string()),
    }
}

fn git(args: &[String]) -> Risk {
    let rest = skip_options(args, &["-C", "-c", "--git-dir", "--work-tree"]);
    let sub = rest.first().map(String::as_str).unwrap_or("");
    let rest = rest.get(1..).unwrap_or(&[]);
    match sub {
        "log" | "status" | "diff" | "show" | "rev-parse" | "blame" | "ls-files" | "describe" | "shortlog"
        | "reflog" | "grep" | "ls-remote" | "fetch" | "remote"
            if !(sub == "remote" && rest.iter().any(|a| matches!(a.as_str(), "add" | "remove" | "rm" | "set-url"))) =>
        {
            risk(ReadOnly, format!("git {sub} only reads"))
        }
        "branch" | "tag"
            if rest.is_empty()
                || has_flag(rest, 'l', &["--list"])
                || has_flag(rest, 'a', &[])
                || has_flag(rest, 'v', &[]) =>
        {
            risk(ReadOnly, format!("git {sub} lists"))
        }
        "reset" if rest.iter().any(|a| a == "--hard") => {
            risk(Destructive, format!("git reset --hard {}", operands(rest).join(" ")).trim_end().to_string())
        }
        "clean" => risk(Destructive, format!("git clean {} deletes untracked files", rest.join(" "))),
        "push" if has_flag(rest, 'f', &["--force", "--force-with-lease"]) => {
            risk(Destructive, "git push --force rewrites remote history")
        }
        "branch" if has_flag(rest, 'D', &[]) => risk(Destructive, "git branch -D deletes a branch"),
        "stash" if rest.iter().any(|a| a == "drop" || a == "clear") => {
            risk(Destructive, "git stash drop/clear discards changes")
        }
        "checkout" | "restore" if rest.iter().any(|a| a == "--" || a == ".") => {
            risk(Mutating, format!("git {sub} overwrites working-tree files {}", rest.join(" ")))
        }
        _ => risk(Mutating, format!("git {sub} {}", operands(rest).join(" ")).trim_end().to_string()),
    }
}

fn curl(args: &[String]) -> Risk {
    let mut method: Option<String> = None;
    let mut body = false;
    let mut output = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "-X" || a == "--request" {
            method = args.get(i + 1).map(|m| m.to_uppercase());
            i += 1;
        } else if let Some(m) = a.strip_prefix("-X").filter(|m| !m.is_empty()).or_else(|| a.strip_prefix("--request="))
        {
            method = Some(m.to_uppercase());
        } else if a.starts_with("--data")
            || a == "-d"
            || a == "-F"
            || a == "--form"
            || a == "-T"
            || a == "--upload-file"
            || a == "--json"
        {
            body = true;
            i += 1;
        } else if a == "-o" || a == "--output" {
            output = args.get(i + 1).is_some_and(|t| t != "/dev/null" && t != "-");
            i += 1;
        } else if a == "-O" || a == "--remote-name" {
            output = true;
        } else if a == "-I" || a == "--head" {
            method = Some("HEAD".into());
        }
        i += 1;
    }
    let url =
        args.iter().rev().find(|a| a.contains("://") || a.starts_with("localhost")).map(String::as_str).unwrap_or("");
    match method.as_deref() {
        Some("DELETE") => risk(Destructive, format!("curl DELETE {url}")),
        Some(m) if m != "GET" && m != "HEAD" => risk(Mutating, format!("curl {m} {url}")),
        _ if body => risk(Mutating, format!("curl sends data to {url}")),
        _ if output => risk(Mutating, format!("curl writes a downloaded file from {url}")),
        _ => risk(ReadOnly, format!("curl GET {url}").trim_end().to_string()),
    }
}

fn database(name: &str, args: &[String], stdin: &[String]) -> Risk {
    let mut sql: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if matches!(a.as_str(), "-c" | "--command" | "-e" | "--execute" | "--eval") {
            if let Some(v) = args.get(i + 1) {
                sql.push(v.clone());
            }
            i += 1;
        } else if name == "sqlite3" && !a.starts_with('-') && i > 0 && args[..i].iter().any(|p| !p.starts_with('-')) {
            sql.push(a.clone());
        }
        i += 1;
    }
    sql.extend(stdin.iter().cloned());
    if sql.is_empty() {
        return risk(Unknown, format!("{name} session without inline SQL"));
    }
    super::sql::risk(name, &sql.join("\n"))
}

fn redis(args: &[String]) -> Risk {
    let ops = skip_options(args, &["-h", "-p", "-a", "-n", "-u", "--user", "--pass"]);
    let op = ops.first().map(|s| s.to_uppercase()).unwrap_or_default();
    match op.as_str() {
        "FLUSHALL" | "FLUSHDB" | "DEL" | "UNLINK" | "SHUTDOWN" => risk(Destructive, format!("redis-cli {op}")),
        "" => risk(Unknown, "redis-cli interactive session"),
        "GET" | "INFO" | "PING" | "KEYS" | "SCAN" | "TTL" | "TYPE" | "LLEN" | "HGETALL" | "MONITOR" | "DBSIZE"
        | "CLIENT" | "SLOWLOG" | "--SCAN" | "--BIGKEYS" | "MEMORY" | "CONFIG"
            if !(op == "CONFIG" && ops.get(1).is_some_and(|s| s.eq_ignore_ascii_case("set"))) =>
        {
            risk(ReadOnly, format!("redis-cli {op} only reads"))
        }
        _ => risk(Mutating, format!("redis-cli {op}")),
    }
}

fn packages(name: &str, args: &[String]) -> Risk {
    let (sub, _) = subcommand(args);
    match sub {
        "list" | "show" | "search" | "policy" | "freeze" | "info" | "check" | "outdated" | "ls" | "status"
        | "history" | "version" | "--version" => risk(ReadOnly, format!("{name} {sub} only reads")),
        "remove" | "purge" | "uninstall" | "autoremove" | "erase" => {
            risk(Destructive, format!("{name} {sub} removes packages"))
        }
        _ => risk(Mutating, format!("{name} {sub}").trim_end().to_string()),
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

fn interpreter(name: &str, args: &[String]) -> Risk {
    if let Some(i) = args.iter().position(|a| a == "-m") {
        let module = args.get(i + 1).map(String::as_str).unwrap_or("");
        return match module {
            "pytest" | "json.tool" | "pip"
                if module != "pip" || args.iter().any(|a| a == "list" || a == "show" || a == "freeze") =>
            {
                risk(ReadOnly, format!("{name} -m {module} only reads or runs tests"))
            }
            _ => risk(Unknown, format!("{name} -m {module}")),
        };
    }
    if args.iter().any(|a| a == "-c" || a == "-e") {
        return risk(Unknown, format!("inline {name} code"));
    }
    match operands(args).first() {
        Some(script) => script_risk(script),
        None => risk(Unknown, format!("{name} interactive session")),
    }
}

/// Scripts are opaque; their names are the only hint, and a hint is all this gives.
fn script_risk(path: &str) -> Risk {
    script_risk_with(path, &[])
}

fn script_risk_with(path: &str, args: &[String]) -> Risk {
    if !args.is_empty() && args.iter().all(|a| matches!(a.as_str(), "--help" | "-h" | "--version")) {
        return risk(ReadOnly, format!("{path} {} only prints usage", args.join(" ")));
    }
    let base = path.rsplit('/').next().unwrap_or(path).to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| base.contains(w));
    if has(&["delete", "purge", "wipe", "destroy", "reset", "clean", "drop", "nuke"]) {
        risk(Destructive, format!("runs script {path} (name suggests it deletes or resets)"))
    } else if has(&[
        "check", "status", "doctor", "health", "verify", "validate", "list", "show", "diag", "inspect", "report",
        "recent", "summary", "rates",
    ]) {
        risk(ReadOnly, format!("runs script {path} (name suggests a check; contents not inspected)"))
    } else if has(&[
        "stop", "start", "restart", "deploy", "restore", "rollback", "migrate", "install", "backup", "emit", "update",
        "fix", "repair", "init", "rotate", "archive", "kill",
    ]) {
        risk(Mutating, format!("runs script {path} (name suggests it changes state)"))
    } else {
        risk(Unknown, format!("runs script {path}; contents not inspected"))
    }
}
