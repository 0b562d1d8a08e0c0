//! Commands that only read, unless an option makes them write (`sort -o`, `openssl -out`,
//! `date -s`, `tcpdump -w`, `perf record`, `route del`), and HTTPie, whose method or data items
//! decide. `commands.rs` sends every name of the read-only table here first.

use super::commands::{has_flag, operands, risk, shown};
use super::Classifier;
use crate::model::{Risk, RiskClass};

use RiskClass::{Destructive, Mutating, ReadOnly};

pub(super) fn read_only_command(c: &mut Classifier, name: &str, argv: &[String], args: &[String]) -> Risk {
    match name {
        "awk" | "gawk" if args.iter().any(|a| a == "-i" || a == "inplace") => {
            risk(Mutating, "awk -i inplace edits files")
        }
        "sysctl" if args.iter().any(|a| a == "-w" || a.contains('=')) => {
            risk(Mutating, "sysctl changes kernel parameters")
        }
        "env" if args.iter().any(|a| !a.starts_with('-') && !a.contains('=')) => {
            // `env FOO=1 cmd args`: as risky as cmd.
            let at = args.iter().position(|a| !a.starts_with('-') && !a.contains('=')).unwrap_or(args.len());
            let r = c.argv_risk(&args[at..], &[]);
            risk(r.class, format!("env: {}", r.reason))
        }
        "sort" | "gsort"
            if args.iter().any(|a| {
                a == "-o" || a.starts_with("--output") || (a.starts_with("-o") && a.len() > 2 && !a.starts_with("--"))
            }) =>
        {
            risk(Mutating, format!("{name} -o writes its output to a file"))
        }
        "uniq" if operands(args).len() >= 2 => risk(Mutating, "uniq writes its second operand"),
        "sysctl" if args.iter().any(|a| a == "-p" || a == "--load" || a == "--system") => {
            risk(Mutating, "sysctl loads kernel parameters from a file")
        }
        "ss" if has_flag(args, 'K', &["--kill"]) => risk(Destructive, "ss -K kills sockets"),
        "nvidia-smi" if args.iter().any(|a| a == "-r" || a == "--gpu-reset") => {
            risk(Destructive, "nvidia-smi resets the GPU")
        }
        "nvidia-smi" | "rocm-smi"
            if args.iter().any(|a| {
                matches!(a.as_str(), "-pm" | "-pl" | "-ac" | "-rac" | "-lgc" | "-rgc" | "-e" | "-c" | "-am" | "-caa")
                    || a.starts_with("--set")
                    || a.starts_with("--reset")
                    || a.starts_with("--persistence-mode")
                    || a.starts_with("--power-limit")
            }) =>
        {
            risk(Mutating, format!("{name} changes GPU settings"))
        }
        "openssl" if args.iter().any(|a| matches!(a.as_str(), "-out" | "-keyout")) => {
            risk(Mutating, "openssl writes a key, certificate or request (-out)")
        }
        "date" if has_flag(args, 's', &["--set"]) => risk(Mutating, "date -s sets the system clock"),
        "route" | "arp" if args.iter().any(|a| matches!(a.as_str(), "del" | "delete" | "-d" | "flush")) => {
            risk(Destructive, format!("{name} deletes entries"))
        }
        "route" | "arp" if args.iter().any(|a| matches!(a.as_str(), "add" | "-s" | "change" | "replace")) => {
            risk(Mutating, format!("{name} changes entries"))
        }
        "hdparm"
            if args.iter().any(|a| {
                a.starts_with("--security")
                    || a.starts_with("--trim")
                    || a.starts_with("--write")
                    || a.starts_with("--make-bad")
                    || a.starts_with("--dco")
            }) =>
        {
            risk(Destructive, "hdparm erases or writes the disk")
        }
        "hdparm"
            if args.iter().any(|a| {
                a.starts_with('-')
                    && !matches!(a.as_str(), "-I" | "-i" | "-t" | "-T" | "-tT" | "-Tt" | "-g" | "-C" | "-v" | "-H")
            }) =>
        {
            risk(Mutating, "hdparm changes drive settings")
        }
        "perf" if args.first().is_some_and(|a| a == "record") || args.iter().any(|a| a == "-o") => {
            risk(Mutating, "perf writes a data file")
        }
        "strace" | "ltrace" | "sar" if args.iter().any(|a| a == "-o") => {
            risk(Mutating, format!("{name} -o writes a file"))
        }
        "tcpdump" | "tshark" if args.iter().any(|a| a.starts_with("-w")) => {
            risk(Mutating, format!("{name} -w writes a capture file"))
        }
        "smartctl"
            if args.iter().any(|a| {
                a.starts_with("-t") || a.starts_with("--test") || a.starts_with("-s") || a.starts_with("--smart")
            }) =>
        {
            risk(Mutating, "smartctl starts a test or changes settings")
        }
        "ethtool"
            if args.iter().any(|a| {
                a.len() == 2
                    && a.starts_with('-')
                    && a[1..].chars().all(|c| c.is_ascii_uppercase())
                    && !matches!(a.as_str(), "-S" | "-T" | "-P" | "-N")
            }) =>
        {
            risk(Mutating, "ethtool changes interface settings")
        }
        "fuser" if has_flag(args, 'k', &["--kill"]) => risk(Destructive, "fuser -k kills processes"),
        "timedatectl" | "hostnamectl" if args.iter().any(|a| a.starts_with("set")) => {
            risk(Mutating, format!("{name} changes system settings"))
        }
        _ => risk(ReadOnly, format!("{name} only reads: {}", shown(argv))),
    }
}

/// HTTPie: `http [METHOD] URL [items]`; data items (`a=1`, `b:=2`) mean a POST.
pub(super) fn httpie(name: &str, args: &[String]) -> Risk {
    let words: Vec<&str> = args.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect();
    let method = words.first().filter(|w| w.chars().all(|c| c.is_ascii_uppercase())).copied();
    let data = words.iter().skip(1).any(|w| w.contains('=') && !w.contains("==") && !w.contains("://"));
    match method {
        Some("DELETE") => risk(Destructive, format!("{name} DELETE")),
        Some("GET" | "HEAD" | "OPTIONS") => risk(ReadOnly, format!("{name} {} only asks", method.unwrap_or(""))),
        Some(m) => risk(Mutating, format!("{name} {m}")),
        None if data => risk(Mutating, format!("{name} sends data (a POST)")),
        None => risk(ReadOnly, format!("{name} GET")),
    }
}
