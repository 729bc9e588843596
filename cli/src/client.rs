//! Talking to a running engine: found through `.wbx/engine.json`, checked
//! with `GET /api/health`, then plain HTTP on loopback.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use serde_json::value::RawValue;
use wbx_engine::api::EngineFile;
use wbx_engine::project::Project;

use crate::console;

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
    /// The body as it came, for printing it unchanged (keys in the
    /// engine's order).
    pub text: String,
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

    /// The project's engine; when none runs, says so on stderr (`what`
    /// exists only while one does) and gives `None`, for the commands that
    /// have nothing to show without one.
    pub fn running_for(project: &Project, what: &str) -> Option<Client> {
        let client = Client::running(project);
        if client.is_none() {
            console::error(&format!(
                "no engine runs for this project: {what} exist only while one does (start it \
                 with `wbx run` or `wbx dev`)"
            ));
        }
        client
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
        let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        Ok(Answer { status, body, text })
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
        let lines = match self.open_stream(path)? {
            Ok(lines) => lines,
            Err(answer) => bail!("{}", error_message(&answer.body)),
        };
        for line in lines {
            if !on_line(&line?) {
                break;
            }
        }
        Ok(())
    }

    /// A long answer's lines as they come, once the engine has answered
    /// 200 (so what it streams is set up); its answer otherwise, for the
    /// caller to say why.
    pub fn open_stream(&self, path: &str) -> Result<Result<Lines, Answer>> {
        let response = self
            .agent
            .get(format!("{}{path}", self.api))
            .call()
            .with_context(|| format!("the engine at {} did not answer", self.api))?;
        if response.status() != 200 {
            return Ok(Err(Self::answer(response)?));
        }
        Ok(Ok(Lines(
            BufReader::new(response.into_body().into_reader()).lines(),
        )))
    }

    /// The JSON array a listing route answers (`/api/actors`,
    /// `/api/flows`), each item parsed and as the engine wrote it; `model`
    /// names the routes' model and `what` the listing, for errors.
    pub fn list(&self, path: &str, model: &str, what: &str) -> Result<Vec<Item>> {
        let answer = self.get(path)?;
        if answer.status != 200 {
            bail!("{}", self.unexpected(&answer, model, what));
        }
        let not_array = || {
            format!(
                "the engine at {} answered {what} with something not a JSON array: {}",
                self.api, answer.text
            )
        };
        let raws: Vec<Box<RawValue>> =
            serde_json::from_str(&answer.text).with_context(not_array)?;
        raws.into_iter()
            .map(|raw| {
                let value = serde_json::from_str(raw.get()).with_context(not_array)?;
                Ok(Item { value, raw })
            })
            .collect()
    }

    /// An answer `model`'s routes do not give, said about `what`: an engine
    /// without those routes, or a failure of its own.
    pub fn unexpected(&self, answer: &Answer, model: &str, what: &str) -> String {
        if answer.status == 404 && answer.error_kind().is_none() {
            return format!(
                "the engine at {} has no {model} routes: it is older than this wbx; restart it",
                self.api
            );
        }
        format!(
            "the engine at {} answered {} for {what}: {}",
            self.api,
            answer.status,
            error_message(&answer.body)
        )
    }
}

/// The lines of a streamed answer ([`Client::open_stream`]); they end when
/// the engine ends the answer.
pub struct Lines(std::io::Lines<BufReader<ureq::BodyReader<'static>>>);

impl Iterator for Lines {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Result<String>> {
        self.0
            .next()
            .map(|line| line.context("the engine's stream broke"))
    }
}

/// One item of a listing: parsed, and as the engine wrote it (`--json`
/// prints that, keys in the engine's order).
pub struct Item {
    pub value: Value,
    pub raw: Box<RawValue>,
}

/// Items as one JSON array, each as the engine wrote it.
pub fn json_array<'a>(items: impl IntoIterator<Item = &'a Item>) -> String {
    let raws: Vec<&str> = items.into_iter().map(|item| item.raw.get()).collect();
    format!("[{}]", raws.join(","))
}

impl Answer {
    /// The `error` kind of an API error body (`not-found`, …).
    pub fn error_kind(&self) -> Option<&str> {
        self.body["error"].as_str()
    }
}

/// `text` as one segment of a URL's path: every byte but letters, digits
/// and `-._~` percent-encoded (a pid's `<` and `>`, a name's `/` or `?`).
pub fn path_segment(text: &str) -> String {
    let mut segment = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            segment.push(byte as char);
        } else {
            segment.push_str(&format!("%{byte:02X}"));
        }
    }
    segment
}

/// The `message` of an API error body, or the body itself.
pub fn error_message(body: &Value) -> String {
    body["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_string())
}
