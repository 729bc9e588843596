//! What [`export_source!`](crate::export_source),
//! [`export_processor!`](crate::export_processor) and
//! [`export_sink!`](crate::export_sink) export: the kind's interface and,
//! `with state`, `stage-state`, over one stage value kept for the
//! instance's life. [`Exported`] implements every generated `Guest` trait
//! for any stage of the matching kind, so the three macros differ only in
//! the world they name, and what the kinds share (the value's slot, the
//! config, the state) is written once.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::worlds::processor_module::exports::wbx::guest::processor;
use super::worlds::sink_module::exports::wbx::guest::sink;
use super::worlds::source_module::exports::wbx::guest::source::{self, Pulled};
use super::worlds::stage_state::exports::wbx::guest::stage_state;
use super::{Element, Output, Processor, Pull, Sink, Source, Verdict};

thread_local! {
    /// The stage this instance runs: set by `init` or `restore-state`,
    /// emptied when either fails, so a stage is never half started.
    static STAGE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// The stage `S` as the bindings see it. Never built: it carries `S` to
/// the `Guest` impls, whose functions take no `self`.
pub struct Exported<S>(PhantomData<fn() -> S>);

impl<S: Source> source::Guest for Exported<S> {
    fn init(config: String) -> Result<(), String> {
        start(&config, S::init)
    }

    fn pull(max: u32) -> Result<Pulled, String> {
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        let (elements, finished) = match with_stage(|stage: &mut S| stage.pull(max))? {
            Pull::More(elements) => (elements, false),
            Pull::Finished(elements) => (elements, true),
        };
        // Caught here, where the source's author sees it, rather than as
        // a queue overflowing in the host.
        if elements.len() > max {
            return Err(format!(
                "pull produced {} elements, more than the {max} asked for",
                elements.len()
            ));
        }
        Ok(Pulled { elements, finished })
    }
}

impl<P: Processor> processor::Guest for Exported<P> {
    fn init(config: String) -> Result<(), String> {
        start(&config, P::init)
    }

    fn process(batch: Vec<Element>) -> Vec<Result<Vec<Output>, String>> {
        let size = batch.len();
        with_stage(|stage: &mut P| Ok(batch.into_iter().map(|e| stage.process(e)).collect()))
            .unwrap_or_else(|no_stage| vec![Err(no_stage); size])
    }
}

impl<K: Sink> sink::Guest for Exported<K> {
    fn init(config: String) -> Result<(), String> {
        start(&config, K::init)
    }

    fn consume(batch: Vec<Element>) -> Result<Verdict, String> {
        with_stage(|stage: &mut K| stage.consume(batch))
    }
}

/// `with state`: the stage value itself, as JSON.
impl<S: Serialize + DeserializeOwned + 'static> stage_state::Guest for Exported<S> {
    fn save_state() -> Result<Vec<u8>, String> {
        with_stage(|stage: &mut S| {
            serde_json::to_vec(stage)
                .map_err(|e| format!("the stage's state cannot be serialised: {e}"))
        })
    }

    fn restore_state(state: Vec<u8>) -> Result<(), String> {
        keep(serde_json::from_slice::<S>(&state).map_err(|e| {
            format!("the saved state does not fit this version's stage ({e}); it starts again through init")
        }))
    }
}

/// `init`: the config read as JSON (empty text as `null`), then the
/// kind's `init`.
fn start<S: 'static>(config: &str, init: fn(Value) -> Result<S, String>) -> Result<(), String> {
    let text = if config.trim().is_empty() {
        "null"
    } else {
        config
    };
    let config = serde_json::from_str(text)
        .map_err(|e| format!("the stage's config is not JSON ({e}): {config}"));
    keep(config.and_then(init))
}

fn keep<S: 'static>(stage: Result<S, String>) -> Result<(), String> {
    let stage = stage.inspect_err(|_| STAGE.set(None))?;
    STAGE.set(Some(Box::new(stage)));
    Ok(())
}

fn with_stage<S: 'static, R>(f: impl FnOnce(&mut S) -> Result<R, String>) -> Result<R, String> {
    STAGE.with_borrow_mut(
        |slot| match slot.as_mut().and_then(|s| s.downcast_mut::<S>()) {
            Some(stage) => f(stage),
            None => {
                Err("the stage has not started: neither init nor restore-state succeeded".into())
            }
        },
    )
}

/// Exports a [`Source`](crate::pipeline::Source) as the crate's source
/// module (world `source-module`, or `source-module-with-state`).
///
/// - `export_source!(Numbers with state)`: `Numbers` must be `Serialize +
///   Deserialize`; the host saves it (as JSON) after each good batch and
///   hands it to a restarted instance or a new version instead of `init`.
/// - `export_source!(Numbers)`: no `stage-state` export; a restart or a new
///   version starts again through `init`.
///
/// The `with state` form takes a type name or path (`Numbers`,
/// `crate::stages::Numbers`); a generic type needs an alias first.
#[macro_export]
macro_rules! export_source {
    ($($stage:tt)+) => { $crate::__export_stage!(source_module, $($stage)+); };
}

/// Exports a [`Processor`](crate::pipeline::Processor) as the crate's
/// processor module (world `processor-module`, or
/// `processor-module-with-state`); `with state` as for
/// [`export_source!`](crate::export_source).
#[macro_export]
macro_rules! export_processor {
    ($($stage:tt)+) => { $crate::__export_stage!(processor_module, $($stage)+); };
}

/// Exports a [`Sink`](crate::pipeline::Sink) as the crate's sink module
/// (world `sink-module`, or `sink-module-with-state`); `with state` as for
/// [`export_source!`](crate::export_source).
#[macro_export]
macro_rules! export_sink {
    ($($stage:tt)+) => { $crate::__export_stage!(sink_module, $($stage)+); };
}

/// The three macros' body: the kind's world, and the `stage-state` world
/// beside it when asked.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_stage {
    (@export $world:ident, $stage:ty $(, $state:ident)?) => {
        const _: () = {
            type __WbxStage = $crate::pipeline::export::Exported<$stage>;
            $crate::pipeline::worlds::$world::__export_world!(
                __WbxStage with_types_in $crate::pipeline::worlds::$world
            );
            $($crate::pipeline::worlds::$state::__export_world!(
                __WbxStage with_types_in $crate::pipeline::worlds::$state
            );)?
        };
    };
    ($world:ident, $($stage:ident)::+ with state) => {
        $crate::__export_stage!(@export $world, $($stage)::+, stage_state);
    };
    ($world:ident, $stage:ty) => {
        $crate::__export_stage!(@export $world, $stage);
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    /// Counts down from `config.from`, one text element per number.
    struct Countdown {
        left: u64,
    }

    impl Source for Countdown {
        fn init(config: Value) -> Result<Self, String> {
            let left = config["from"].as_u64().ok_or("from: a number")?;
            Ok(Countdown { left })
        }

        fn pull(&mut self, max: usize) -> Result<Pull, String> {
            let mut outputs = Vec::new();
            while self.left > 0 && outputs.len() < max {
                outputs.push(Output::text(self.left.to_string()));
                self.left -= 1;
            }
            Ok(if self.left == 0 {
                Pull::Finished(outputs)
            } else {
                Pull::More(outputs)
            })
        }
    }

    /// Multiplies JSON numbers, routing odd results to port `odd`.
    #[derive(Serialize, Deserialize)]
    struct Doubler {
        factor: i64,
        #[serde(default)]
        handled: u64,
    }

    impl Processor for Doubler {
        fn init(config: Value) -> Result<Self, String> {
            let factor = config.as_i64().unwrap_or(2);
            Ok(Doubler { factor, handled: 0 })
        }

        fn process(&mut self, element: Element) -> Result<Vec<Output>, String> {
            let n: i64 = element.json()?;
            self.handled += 1;
            let output = Output::json(&(n * self.factor))?;
            Ok(vec![if n * self.factor % 2 == 0 {
                output
            } else {
                output.port("odd")
            }])
        }
    }

    /// Takes batches until a payload says `no`; throttles past `limit`.
    struct Tally {
        taken: usize,
        limit: usize,
    }

    impl Sink for Tally {
        fn init(config: Value) -> Result<Self, String> {
            let limit = serde_json::from_value(config).map_err(|e| e.to_string())?;
            Ok(Tally { taken: 0, limit })
        }

        fn consume(&mut self, batch: Vec<Element>) -> Result<Verdict, String> {
            if batch.iter().any(|e| e.text() == Ok("no")) {
                return Err("refused".into());
            }
            self.taken += batch.len();
            Ok(if self.taken > self.limit {
                Verdict::Throttle(100)
            } else {
                Verdict::Accept
            })
        }
    }

    // Expanding the macros checks them against the generated worlds (on
    // any target). Each interface may be exported once per binary.
    crate::export_source!(Countdown);
    crate::export_processor!(crate::pipeline::export::tests::Doubler with state);
    crate::export_sink!(Tally);

    fn element(sequence: u64, payload: &str) -> Element {
        Element {
            payload: payload.as_bytes().to_vec(),
            content_type: "application/json".into(),
            key: Some("k".into()),
            sequence,
            timestamp_ms: 1_700_000_000_000,
        }
    }

    // Each test runs on its own thread, so each has its own stage slot.

    #[test]
    fn a_source_pulls_at_most_max_then_finishes() {
        type S = Exported<Countdown>;
        <S as source::Guest>::init(r#"{"from": 3}"#.into()).unwrap();
        let first = <S as source::Guest>::pull(2).unwrap();
        assert_eq!(first.elements, [Output::text("3"), Output::text("2")]);
        assert!(!first.finished);
        let last = <S as source::Guest>::pull(2).unwrap();
        assert_eq!(last.elements, [Output::text("1")]);
        assert!(last.finished);
        assert_eq!(first.elements[0].content_type, "text/plain");
    }

    #[test]
    fn init_reads_the_config_as_json_and_fails_whole() {
        type S = Exported<Countdown>;
        let error = <S as source::Guest>::init("{from".into()).unwrap_err();
        assert!(
            error.starts_with("the stage's config is not JSON"),
            "{error}"
        );
        assert_eq!(
            <S as source::Guest>::init("".into()),
            Err("from: a number".into())
        );
        let error = <S as source::Guest>::pull(1).unwrap_err();
        assert!(error.contains("neither init nor restore-state"), "{error}");
    }

    #[test]
    fn each_element_of_a_batch_gets_its_own_result() {
        type P = Exported<Doubler>;
        <P as processor::Guest>::init("3".into()).unwrap();
        let results = <P as processor::Guest>::process(vec![
            element(1, "2"),
            element(2, r#""two""#),
            element(3, "1"),
        ]);
        assert_eq!(results[0], Ok(vec![Output::json(&6).unwrap()]));
        let error = results[1].as_ref().unwrap_err();
        assert!(
            error.starts_with("element 2 (application/json) is not the JSON"),
            "{error}"
        );
        assert_eq!(results[2], Ok(vec![Output::json(&3).unwrap().port("odd")]));
    }

    #[test]
    fn a_processor_without_a_stage_fails_every_element() {
        let results = <Exported<Doubler> as processor::Guest>::process(vec![
            element(1, "2"),
            element(2, "3"),
        ]);
        assert_eq!(results.len(), 2);
        assert!(results.iter().all(Result::is_err));
    }

    #[test]
    fn state_is_the_stage_value_as_json() {
        type P = Exported<Doubler>;
        <P as processor::Guest>::init("5".into()).unwrap();
        <P as processor::Guest>::process(vec![element(1, "1")]);
        let saved = <P as stage_state::Guest>::save_state().unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&saved).unwrap(),
            json!({"factor": 5, "handled": 1})
        );
        // A restarted instance starts empty, then takes the state.
        STAGE.set(None);
        <P as stage_state::Guest>::restore_state(saved).unwrap();
        let results = <P as processor::Guest>::process(vec![element(2, "2")]);
        assert_eq!(results, [Ok(vec![Output::json(&10).unwrap()])]);
        let error = <P as stage_state::Guest>::restore_state(b"[]".to_vec()).unwrap_err();
        assert!(error.contains("does not fit"), "{error}");
        assert!(<P as stage_state::Guest>::save_state().is_err());
    }

    #[test]
    fn a_sink_answers_a_verdict_per_batch() {
        type K = Exported<Tally>;
        <K as sink::Guest>::init("2".into()).unwrap();
        let batch = vec![element(1, "1"), element(2, "2")];
        assert_eq!(<K as sink::Guest>::consume(batch), Ok(Verdict::Accept));
        let refused = vec![element(3, "3"), element(4, "no")];
        assert_eq!(<K as sink::Guest>::consume(refused), Err("refused".into()));
        assert_eq!(
            <K as sink::Guest>::consume(vec![element(3, "3")]),
            Ok(Verdict::Throttle(100))
        );
    }

    #[test]
    fn outputs_are_built_from_json_text_or_bytes() {
        let output = Output::bytes(vec![1, 2], "application/octet-stream")
            .key("user-1")
            .port("raw");
        assert_eq!(output.payload, [1, 2]);
        assert_eq!(output.key.as_deref(), Some("user-1"));
        assert_eq!(output.port.as_deref(), Some("raw"));
        let json = Output::json(&json!({"n": 1})).unwrap();
        assert_eq!(
            (json.payload.as_slice(), json.content_type.as_str()),
            (&br#"{"n":1}"#[..], "application/json")
        );
        assert_eq!(element(1, r#"{"n":1}"#).text(), Ok(r#"{"n":1}"#));
        let mut binary = element(1, "");
        binary.payload = vec![0xff];
        assert!(binary.text().unwrap_err().contains("not UTF-8"));
    }
}
