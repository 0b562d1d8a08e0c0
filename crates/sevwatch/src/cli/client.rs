//! The HTTP client the CLI uses: JSON in and out, problem documents turned into errors that say
//! what was wrong.

use anyhow::{anyhow, Context};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(server: &str, token: Option<&str>) -> anyhow::Result<Client> {
        let token = match token {
            Some(t) => t.trim().to_string(),
            None => {
                let path = super::default_token_path();
                std::fs::read_to_string(&path)
                    .with_context(|| {
                        format!("no token given (--token or SEVWATCH_TOKEN) and cannot read {}", path.display())
                    })?
                    .trim()
                    .to_string()
            }
        };
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build()?;
        Ok(Client { base: server.trim_end_matches('/').to_string(), token, http })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, None).await
    }

    /// A non-JSON answer (an iCalendar file), as text.
    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach the Sevwatch server at {}", self.base))?;
        let status = resp.status();
        let text = resp.text().await.context("reading the server's answer")?;
        if status.is_success() {
            return Ok(text);
        }
        let problem: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Err(anyhow!(
            "{} [HTTP {}]",
            problem.get("detail").and_then(Value::as_str).unwrap_or(text.as_str()),
            status.as_u16()
        ))
    }

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::DELETE, path, None).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.with_context(|| format!("cannot reach the Sevwatch server at {}", self.base))?;
        let status = resp.status();
        let text = resp.text().await.context("reading the server's answer")?;
        if status.is_success() {
            if status == StatusCode::NO_CONTENT || text.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).with_context(|| format!("the server's answer is not JSON: {text}"));
        }
        let problem: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let detail = problem.get("detail").and_then(Value::as_str).unwrap_or(text.as_str());
        let field = problem.get("field").and_then(Value::as_str).map(|f| format!(" (field: {f})")).unwrap_or_default();
        Err(anyhow!("{detail}{field} [HTTP {}]", status.as_u16()))
    }
}

/// Percent-encode a query value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
