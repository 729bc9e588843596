//! [`Pid`]: a process's identity, `<0.12>` as people and the CLI write it.
//! It stays the same across hot swaps; a restarted process gets a new one.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid(pub u64);

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<0.{}>", self.0)
    }
}

impl FromStr for Pid {
    type Err = ();

    /// `<0.12>`; also `0.12`, as a shell without quotes leaves it.
    fn from_str(text: &str) -> Result<Self, ()> {
        let inner = text
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .unwrap_or(text);
        let number = inner.strip_prefix("0.").ok_or(())?;
        number.parse().map(Pid).map_err(|_| ())
    }
}

impl serde::Serialize for Pid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::Pid;

    #[test]
    fn reads_what_it_writes() {
        assert_eq!(Pid(12).to_string(), "<0.12>");
        assert_eq!("<0.12>".parse(), Ok(Pid(12)));
        assert_eq!("0.7".parse(), Ok(Pid(7)));
        assert_eq!("counter".parse::<Pid>(), Err(()));
        assert_eq!("<1.2>".parse::<Pid>(), Err(()));
    }
}
