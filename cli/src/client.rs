//! Talking to a running engine: found through `.wbx/engine.json`, checked
//! with `GET /api/health`, then plain HTTP on loopback.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use wbx_engine::api::EngineFile;
use wbx_engine::project::Project;

pub struct Client {
    api: String,
    /// The mesh gateway's address, when the engine serves one.
    gateway: Option<String>,
    agent: ureq::Agent,
}

/// An HTTP answer: status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Client {
    /// The project's engine, if one runs and answers.
    pub fn running(project: &Project) -> Option<Client> {
        let file = EngineFile::read(&project.state.engine_json())?;
        let client = Client::new(&file.api, Some(Duration::from_secs(2)));
        client.get("/api/health").ok().filter(|a| a.status == 200)?;
        Some(Client {
            gateway: file.gateway,
            ..Client::new(&file.api, None)
        })
    }

    fn new(api: &str, timeout: Option<Duration>) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(timeout)
            .build()
            .into();
        Client {
            api: api.to_owned(),
            gateway: None,
            agent,
        }
    }

    pub fn api(&self) -> &str {
        &self.api
    }

    /// The mesh gateway's address (`http://127.0.0.1:PORT`), when it serves.
    pub fn gateway(&self) -> Option<&str> {
        self.gateway.as_deref()
    }

    fn answer(response: ureq::http::Response<ureq::Body>) -> Result<Answer> {
        let status = response.status().as_u16();
        let text = response
            .into_body()
            .read_to_string()
            .context("cannot read the engine's answer")?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer { status, body })
    }

    pub fn get(&self, path: &str) -> Result<Answer> {
        let response = self
            .agent
            .get(format!("{}{path}", self.api))
            .call()
            .with_context(|| format!("the engine at {} did not answer", self.api))?;
        Self::answer(response)
    }

    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Result<Answer> {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.api))
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send(body)
            .with_context(|| format!("the engine at {} did not answer", self.api))?;
        Self::answer(response)
    }

    /// Calls `on_line` with each line of a streamed answer until it ends or
    /// `on_line` returns false.
    pub fn stream(&self, path: &str, mut on_line: impl FnMut(&str) -> bool) -> Result<()> {
        let response = self
            .agent
            .get(format!("{}{path}", self.api))
            .call()
            .with_context(|| format!("the engine at {} did not answer", self.api))?;
        if response.status() != 200 {
            let answer = Self::answer(response)?;
            bail!("{}", error_message(&answer.body));
        }
        let reader = BufReader::new(response.into_body().into_reader());
        for line in reader.lines() {
            if !on_line(&line.context("the stream broke")?) {
                break;
            }
        }
        Ok(())
    }
}

/// The `message` of an API error body, or the body itself.
pub fn error_message(body: &Value) -> String {
    body["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_string())
}
