//! A real SMTP server for tests: Python's aiosmtpd on 127.0.0.1, started per test, writing
//! each accepted message to a file and refusing chosen recipients with the SMTP reply codes a
//! real server uses. [`smtp_server`] skips (or fails under `SEVWATCH_REQUIRE_ALL=1`) when no
//! Python with aiosmtpd is installed: `apt-get install python3-aiosmtpd`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command as Process};

/// The server: `nobody@` gets a permanent 550, `busy@` a transient 451, everyone else is
/// accepted and the message written (atomically, by rename) to `<dir>/<n>.eml`.
const SERVER: &str = r#"
import asyncio, os, sys
from aiosmtpd.smtp import SMTP

class Handler:
    def __init__(self, out):
        self.out, self.n = out, 0
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"
    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        path = os.path.join(self.out, "%d.eml" % self.n)
        head = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos))
        with open(path + ".tmp", "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 accepted"

async def main():
    handler = Handler(sys.argv[1])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"#;

pub struct SmtpServer {
    pub port: u16,
    dir: crate::TempDir,
    _child: Child,
}

impl SmtpServer {
    /// Every accepted message so far (with `X-Envelope-To`), in order of arrival.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .expect("mail dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read_to_string(p).expect("readable message")).collect()
    }
}

/// A Python interpreter that has aiosmtpd: the one on PATH, or Debian's.
async fn python() -> Option<&'static str> {
    for candidate in ["python3", "/usr/bin/python3"] {
        let ok = Process::new(candidate)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success());
        if ok {
            return Some(candidate);
        }
    }
    None
}

/// Start a server, or `None` (after [`crate::skip`]) when aiosmtpd is missing.
pub async fn smtp_server() -> Option<SmtpServer> {
    let Some(py) = python().await else {
        crate::skip(
            "SMTP test",
            "no python3 with aiosmtpd (apt-get install python3-aiosmtpd, or pip install aiosmtpd)",
        );
        return None;
    };
    let dir = crate::temp_dir();
    let script = dir.path().join("smtpd.py");
    std::fs::write(&script, SERVER).expect("write the server script");
    std::fs::create_dir(dir.path().join("mail")).expect("mail dir");
    let mut child = Process::new(py)
        .arg(&script)
        .arg(dir.path().join("mail"))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(20), BufReader::new(stdout).read_line(&mut line))
        .await
        .expect("the SMTP server prints its port within 20 s")
        .expect("read the port");
    let port: u16 = line.trim().parse().unwrap_or_else(|_| panic!("a port number, got {line:?}"));
    Some(SmtpServer { port, dir, _child: child })
}
