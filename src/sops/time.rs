//! Timestamps as sops reads and writes them.
//!
//! Three places need Go's `time` behaviour exactly: the MAC's AAD is
//! `lastmodified` re-formatted as RFC 3339 (seconds, `Z` for a zero offset);
//! `type:time` values and unquoted YAML timestamps enter the MAC as
//! `MarshalText` (RFC 3339 with the shortest nanosecond fraction); and YAML's
//! timestamp layouts decide which plain scalars are times at all. This module
//! parses and prints those forms by hand, without a calendar crate.

use std::fmt::Write;

/// A point in time with the zone offset it was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub nanos: u32,
    /// Offset from UTC in seconds (0 for `Z` and for zone-less YAML times).
    pub offset: i32,
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A tiny cursor over ASCII input.
struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    /// Between `min` and `max` digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        let mut v: u32 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    v = v * 10 + u32::from(c - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        (self.i - start >= min).then_some(v)
    }
    /// `.ddd…` (any number of digits, at least one), as nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        if self.peek() != Some(b'.') && self.peek() != Some(b',') {
            return Some(0);
        }
        self.i += 1;
        let start = self.i;
        let mut nanos: u64 = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            if self.i - start < 9 {
                nanos = nanos * 10 + u64::from(c - b'0');
            }
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 {
            return None;
        }
        for _ in n..9 {
            nanos *= 10;
        }
        u32::try_from(nanos).ok()
    }
    /// `Z`, `z` or `±hh:mm`.
    fn offset(&mut self) -> Option<i32> {
        match self.peek()? {
            b'Z' => {
                self.i += 1;
                Some(0)
            }
            c @ (b'+' | b'-') => {
                self.i += 1;
                let h = self.digits(2, 2)?;
                if !self.eat(b':') {
                    return None;
                }
                let m = self.digits(2, 2)?;
                if h > 24 || m > 59 {
                    return None;
                }
                let off = (h * 3600 + m * 60) as i32;
                Some(if c == b'-' { -off } else { off })
            }
            _ => None,
        }
    }
}

impl Timestamp {
    fn valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }

    /// Go's `time.Parse(time.RFC3339, s)`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)`.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let mut c = Cur {
            s: s.as_bytes(),
            i: 0,
        };
        let year = c.digits(4, 4)? as i32;
        let t = (|| {
            c.eat(b'-').then_some(())?;
            let month = c.digits(2, 2)? as u8;
            c.eat(b'-').then_some(())?;
            let day = c.digits(2, 2)? as u8;
            if !(c.eat(b'T') || c.eat(b't')) {
                return None;
            }
            let hour = c.digits(2, 2)? as u8;
            c.eat(b':').then_some(())?;
            let minute = c.digits(2, 2)? as u8;
            c.eat(b':').then_some(())?;
            let second = c.digits(2, 2)? as u8;
            let nanos = c.fraction()?;
            let offset = c.offset()?;
            Some(Timestamp {
                year,
                month,
                day,
                hour,
                minute,
                second,
                nanos,
                offset,
            })
        })()?;
        (c.done() && t.valid()).then_some(t)
    }

    /// The timestamp forms go-yaml v3 resolves a plain scalar to: RFC 3339 with
    /// one- or two-digit fields (`T` or `t`), `YYYY-M-D h:m:s[.frac]` without a
    /// zone, and a bare date. Zone-less times are UTC.
    pub fn parse_yaml(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        // go-yaml's quick check: exactly four digits, then '-'.
        if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
            return None;
        }
        let mut c = Cur { s: b, i: 0 };
        let year = c.digits(4, 4)? as i32;
        c.eat(b'-').then_some(())?;
        let month = c.digits(1, 2)? as u8;
        c.eat(b'-').then_some(())?;
        let day = c.digits(1, 2)? as u8;
        let mut t = Timestamp {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
            offset: 0,
        };
        if c.done() {
            return t.valid().then_some(t);
        }
        let sep = c.peek()?;
        if !matches!(sep, b'T' | b't' | b' ') {
            return None;
        }
        c.i += 1;
        if sep == b' ' {
            // Go's time.Parse lets one space in the layout match a run of spaces.
            while c.eat(b' ') {}
        }
        t.hour = c.digits(1, 2)? as u8;
        c.eat(b':').then_some(())?;
        t.minute = c.digits(1, 2)? as u8;
        c.eat(b':').then_some(())?;
        t.second = c.digits(1, 2)? as u8;
        t.nanos = c.fraction()?;
        if sep != b' ' {
            t.offset = c.offset()?;
        }
        (c.done() && t.valid()).then_some(t)
    }

    fn write_date_time(&self, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
    }

    fn write_offset(&self, out: &mut String) {
        if self.offset == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let a = self.offset.unsigned_abs();
            let _ = write!(out, "{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60);
        }
    }

    /// `time.RFC3339`: whole seconds, `Z` for a zero offset (the MAC's AAD).
    pub fn rfc3339(&self) -> String {
        let mut out = String::with_capacity(25);
        self.write_date_time(&mut out);
        self.write_offset(&mut out);
        out
    }

    /// `time.RFC3339Nano` / `MarshalText`: the fraction with trailing zeros trimmed.
    pub fn rfc3339_nano(&self) -> String {
        let mut out = String::with_capacity(35);
        self.write_date_time(&mut out);
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        self.write_offset(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_canonical_drops_fraction_and_normalises_utc() {
        let t = Timestamp::parse_rfc3339("2024-02-29T10:11:12.345+00:00").unwrap();
        assert_eq!(t.rfc3339(), "2024-02-29T10:11:12Z");
        assert_eq!(t.rfc3339_nano(), "2024-02-29T10:11:12.345Z");
        let t = Timestamp::parse_rfc3339("2019-08-29T22:42:03-05:30").unwrap();
        assert_eq!(t.rfc3339(), "2019-08-29T22:42:03-05:30");
    }

    #[test]
    fn rfc3339_rejects_bad_dates_and_forms() {
        for s in [
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-01-01 00:00:00Z",
            "2023-01-01T00:00:00",
            "2023-01-01T24:00:00Z",
            "",
            "'2020-01-01T00:00:00Z'",
        ] {
            assert!(Timestamp::parse_rfc3339(s).is_none(), "{s}");
        }
    }

    #[test]
    fn yaml_timestamp_layouts() {
        let t = Timestamp::parse_yaml("2001-12-14").unwrap();
        assert_eq!(t.rfc3339_nano(), "2001-12-14T00:00:00Z");
        assert!(Timestamp::parse_yaml("2001-12-14T21:59:43z").is_none());
        let t = Timestamp::parse_yaml("2001-12-14t21:59:43.10-05:00").unwrap();
        assert_eq!(t.rfc3339_nano(), "2001-12-14T21:59:43.1-05:00");
        let t = Timestamp::parse_yaml("2001-12-14 21:59:43.10").unwrap();
        assert_eq!(t.rfc3339_nano(), "2001-12-14T21:59:43.1Z");
        let t = Timestamp::parse_yaml("2002-1-2").unwrap();
        assert_eq!(t.rfc3339_nano(), "2002-01-02T00:00:00Z");
        assert!(Timestamp::parse_yaml("2001-12-14 21:59:43.10 -5").is_none());
        assert!(Timestamp::parse_yaml("2001-12-14  21:59:43").is_some());
        assert!(Timestamp::parse_yaml("0000-01-01").is_some());
        assert!(Timestamp::parse_yaml("12001-12-14").is_none());
        assert!(Timestamp::parse_yaml("2001-12-14x").is_none());
    }
}
