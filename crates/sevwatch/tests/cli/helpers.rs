//! Start `sevwatch serve` as a child process and run CLI commands against it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_sevwatch");

pub struct Server {
    pub child: Child,
    pub url: String,
    pub data_dir: PathBuf,
}

impl Server {
    /// Start a server over `data_dir` (and PostgreSQL at `database_url` when given) and wait
    /// until it prints the address it listens on.
    pub fn start(data_dir: &Path, database_url: Option<&str>) -> Server {
        Self::start_with(data_dir, database_url, None)
    }

    /// Like `start`, with a configuration file.
    pub fn start_with(data_dir: &Path, database_url: Option<&str>, config: Option<&Path>) -> Server {
        let mut cmd = Command::new(BIN);
        if let Some(c) = config {
            cmd.arg("serve").arg("--config").arg(c);
            cmd.args(["--listen", "127.0.0.1:0", "--data-dir"]).arg(data_dir);
            return Self::spawn(cmd, data_dir, database_url);
        }
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data_dir);
        Self::spawn(cmd, data_dir, database_url)
    }

    fn spawn(mut cmd: Command, data_dir: &Path, database_url: Option<&str>) -> Server {
        if let Some(u) = database_url {
            cmd.args(["--database-url", u]);
        }
        cmd.env_remove("SEVWATCH_URL").env_remove("SEVWATCH_TOKEN").env("SEVWATCH_LOG", "warn");
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("sevwatch serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("sevwatch listening on ") {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                } else {
                    eprintln!("[server] {line}");
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(60)).expect("the server reports its address");
        Server { child, url, data_dir: data_dir.to_path_buf() }
    }

    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("admin.token")).expect("admin.token is written").trim().to_string()
    }

    /// Run `sevwatch ARGS` against this server with the admin token.
    pub fn sw(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("SEVWATCH_URL", &self.url)
            .env("SEVWATCH_TOKEN", self.admin_token())
            .output()
            .expect("the CLI runs")
    }

    /// Like `sw`, expecting success, returning the parsed `--json` output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.sw(&all);
        assert!(out.status.success(), "sevwatch {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }

    pub fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        self.child.wait().expect("the killed server is reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// GET a JSON answer with a token (for tests that talk HTTP directly).
pub async fn get_json(url: &str, token: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("the answer is JSON")
}

/// POST JSON with a token and return the answer as JSON.
pub async fn post_json(url: &str, token: &str, body: &serde_json::Value) -> serde_json::Value {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("the answer is JSON")
}
