//! W3C trace context (`traceparent`): kept when a request brings one, made
//! when it does not, and a new span for each routed call.

use uuid::Uuid;

/// `00-{trace id}-{parent id}-{flags}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: String,
    pub parent_id: String,
    pub flags: String,
}

impl TraceParent {
    /// A new trace, sampled.
    pub fn new() -> Self {
        TraceParent {
            trace_id: hex(Uuid::now_v7().as_u128(), 32),
            parent_id: span_id(),
            flags: "01".to_owned(),
        }
    }

    /// Parses a `traceparent` header; `None` when it is not a valid one.
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace_id, parent_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex_of = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        };
        let valid = hex_of(version, 2)
            && version != "ff"
            && hex_of(trace_id, 32)
            && trace_id.bytes().any(|b| b != b'0')
            && hex_of(parent_id, 16)
            && parent_id.bytes().any(|b| b != b'0')
            && hex_of(flags, 2);
        valid.then(|| TraceParent {
            trace_id: trace_id.to_owned(),
            parent_id: parent_id.to_owned(),
            flags: flags.to_owned(),
        })
    }

    /// The same trace, with a new span for the next hop.
    pub fn child(&self) -> Self {
        TraceParent {
            parent_id: span_id(),
            ..self.clone()
        }
    }
}

impl Default for TraceParent {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for TraceParent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "00-{}-{}-{}", self.trace_id, self.parent_id, self.flags)
    }
}

fn span_id() -> String {
    loop {
        let id = Uuid::now_v7().as_u128() as u64;
        if id != 0 {
            return hex(u128::from(id), 16);
        }
    }
}

fn hex(value: u128, digits: usize) -> String {
    let full = format!("{value:032x}");
    full[32 - digits..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::TraceParent;

    #[test]
    fn a_valid_header_is_kept_and_a_child_keeps_its_trace() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = TraceParent::parse(header).unwrap();
        assert_eq!(parsed.to_string(), header);
        let child = parsed.child();
        assert_eq!(child.trace_id, parsed.trace_id);
        assert_ne!(child.parent_id, parsed.parent_id);
        assert!(TraceParent::parse(&child.to_string()).is_some());
    }

    #[test]
    fn invalid_headers_are_refused_and_new_ones_are_valid() {
        for bad in [
            "",
            "00-xyz",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ] {
            assert!(TraceParent::parse(bad).is_none(), "{bad}");
        }
        let new = TraceParent::new();
        assert_eq!(TraceParent::parse(&new.to_string()), Some(new));
    }
}
