//! The bodies of a routed call, streamed frame by frame (never buffered
//! whole): the request's counted and held to the service's limit, the
//! response's counted and, when it ends, checked against how the service's
//! call ended, so a trap after the head aborts the body instead of ending
//! it cleanly.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::oneshot;
use wasmtime_wasi_http::{Error, WasiBody};

use crate::calls::BODY_HEAD;

/// What a request body let through, shared with the call.
#[derive(Debug, Default)]
pub struct Inflow {
    pub bytes: AtomicU64,
    pub over_limit: AtomicBool,
    pub head: Mutex<Vec<u8>>,
}

/// A request body, counted and limited.
pub struct Limited {
    inner: WasiBody,
    limit: u64,
    flow: Arc<Inflow>,
}

impl Limited {
    pub fn new(inner: WasiBody, limit: u64, flow: Arc<Inflow>) -> Self {
        Limited { inner, limit, flow }
    }
}

impl Body for Limited {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(Ok(frame)) = &frame
            && let Some(data) = frame.data_ref()
        {
            let total = self
                .flow
                .bytes
                .fetch_add(data.len() as u64, Ordering::Relaxed)
                + data.len() as u64;
            keep_head(&self.flow.head, data);
            if total > self.limit {
                self.flow.over_limit.store(true, Ordering::Relaxed);
                return Poll::Ready(Some(Err(Error::HttpRequestBodySize(Some(total)))));
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn keep_head(head: &Mutex<Vec<u8>>, data: &[u8]) {
    append_head(&mut head.lock().unwrap_or_else(|e| e.into_inner()), data);
}

/// Adds what of `data` still fits in a body's kept head.
fn append_head(head: &mut Vec<u8>, data: &[u8]) {
    let room = BODY_HEAD.saturating_sub(head.len());
    head.extend_from_slice(&data[..data.len().min(room)]);
}

/// How the response body ended, told to whoever records the call.
#[derive(Debug)]
pub enum BodyEnd {
    /// Every byte went out and the service's call ended well.
    Complete,
    /// It broke off: the service failed after the head, or the body errored.
    Aborted(String),
    /// The client stopped reading before the end.
    Abandoned,
}

/// What a finished response body reports: its end, bytes and first bytes.
pub type OnEnd = Box<dyn FnOnce(BodyEnd, u64, Vec<u8>) + Send>;

/// A response body, counted; its end waits for the service's call to end.
pub struct Tracked {
    inner: WasiBody,
    /// The length its `content-length` declares, when it declares one.
    declared: Option<u64>,
    ended: bool,
    /// The service's call outcome: `Err` with its failure in words.
    call: Option<oneshot::Receiver<Result<(), String>>>,
    bytes: u64,
    head: Vec<u8>,
    on_end: Option<OnEnd>,
}

impl Tracked {
    pub fn new(
        inner: WasiBody,
        declared: Option<u64>,
        call: oneshot::Receiver<Result<(), String>>,
        on_end: OnEnd,
    ) -> Self {
        Tracked {
            inner,
            declared,
            ended: false,
            call: Some(call),
            bytes: 0,
            head: Vec::new(),
            on_end: Some(on_end),
        }
    }

    fn finish(&mut self, end: BodyEnd) {
        if let Some(on_end) = self.on_end.take() {
            on_end(end, self.bytes, std::mem::take(&mut self.head));
        }
    }

    /// The service's failure, if its call has ended in one by now.
    fn failure_now(&mut self) -> Option<String> {
        match self.call.as_mut()?.try_recv() {
            Ok(outcome) => {
                self.call = None;
                outcome.err()
            }
            Err(_) => None,
        }
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        if !this.ended {
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        this.bytes += data.len() as u64;
                        append_head(&mut this.head, data);
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
                Some(Err(error)) => {
                    this.ended = true;
                    let why = this
                        .failure_now()
                        .unwrap_or_else(|| format!("the body broke off: {error}"));
                    this.finish(BodyEnd::Aborted(why.clone()));
                    return Poll::Ready(Some(Err(Error::InternalError(Some(why)))));
                }
                None => this.ended = true,
            }
        }
        // The body ended: it is complete only if the call ended well.
        let Some(call) = this.call.as_mut() else {
            return Poll::Ready(None);
        };
        let outcome = ready!(Pin::new(call).poll(cx));
        this.call = None;
        match outcome {
            Ok(Err(failure)) => {
                this.finish(BodyEnd::Aborted(failure.clone()));
                Poll::Ready(Some(Err(Error::InternalError(Some(failure)))))
            }
            _ => {
                this.finish(BodyEnd::Complete);
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.call.is_none()
    }
}

impl Drop for Tracked {
    /// A body dropped before its end was polled: hyper does that once a
    /// body's declared length is written (and for answers without a body),
    /// which is a whole body, not one the client gave up on.
    fn drop(&mut self) {
        let whole = self.ended
            || self.inner.is_end_stream()
            || self.declared.is_some_and(|length| length == self.bytes);
        let end = match (whole, self.failure_now()) {
            (_, Some(failure)) => BodyEnd::Aborted(failure),
            (true, None) => BodyEnd::Complete,
            (false, None) => BodyEnd::Abandoned,
        };
        self.finish(end);
    }
}
