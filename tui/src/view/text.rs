//! Turning values into the short text the screen has room for.

use std::time::{Duration, SystemTime};

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` (as [`thousands`] writes it) and the noun, singular for one:
/// `1 event`, `1,234 events`.
pub fn count(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// Milliseconds below a second, seconds above.
pub fn duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// A time in microseconds: `40 µs` below a millisecond, then as
/// [`duration`] writes it.
pub fn micros(us: u64) -> String {
    if us < 1000 {
        format!("{us} µs")
    } else {
        duration(Duration::from_micros(us))
    }
}

/// The time of day in UTC, to the millisecond: `21:18:34.260`.
pub fn clock(t: SystemTime) -> String {
    let full = humantime::format_rfc3339_millis(t).to_string();
    full.get(11..23).unwrap_or(&full).to_owned()
}

/// A size in bytes: `512 B`, `1.5 KiB`, `2.0 MiB`, `1.1 GiB`.
pub fn bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    match n {
        0..KIB => format!("{n} B"),
        KIB..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.1} MiB", n as f64 / 1_048_576.0),
        _ => format!("{:.1} GiB", n as f64 / 1_073_741_824.0),
    }
}

/// At most `width` characters, with `…` when cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        out.push('…');
    }
    out
}

/// The text without ANSI escape sequences (compiler output may carry them).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(duration(Duration::from_micros(1500)), "1.5 ms");
        assert_eq!(duration(Duration::from_millis(2340)), "2.34 s");
        assert_eq!(micros(40), "40 µs");
        assert_eq!(micros(1500), "1.5 ms");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1_048_576), "3.0 MiB");
        assert_eq!(
            strip_ansi("\u{1b}[1m\u{1b}[38;5;9merror\u{1b}[0m: x"),
            "error: x"
        );
        assert_eq!(
            clock(SystemTime::UNIX_EPOCH + Duration::from_millis(3_723_004)),
            "01:02:03.004"
        );
    }
}
