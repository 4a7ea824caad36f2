//! The fields a server adds to every final response (`date`, `server`) unless the
//! response carries its own, and the memo that replays their encoded octets.
//!
//! Through the dynamic table: the first response with a new `date` inserts it (about 24
//! octets; once a second), every later one in that second refers to it in one octet. The
//! memo makes those references a copy instead of a table search.

use http::header::{DATE, SERVER};
use http::{HeaderMap, HeaderValue};

/// Which of the stamped fields a response already carries (RFC 9110 §6.6.1: a handler's
/// own `date` is kept, not doubled).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Present {
    date: bool,
    server: bool,
}

impl Present {
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        if headers.is_empty() {
            return Present::default();
        }
        Present {
            date: headers.contains_key(DATE),
            server: headers.contains_key(SERVER),
        }
    }

    pub(crate) fn or(self, other: Present) -> Present {
        Present {
            date: self.date || other.date,
            server: self.server || other.server,
        }
    }
}

/// The stamped values and the memo of their encoding; one per `HeadEncoder`.
#[derive(Debug, Default)]
pub(crate) struct Stamp {
    pub(crate) date: Option<HeaderValue>,
    pub(crate) server: Option<HeaderValue>,
    /// The octets the fields missing from `memo_for.1` encoded to at encoder generation
    /// `memo_for.0` (recorded only when encoding them left the table alone).
    pub(crate) memo: Vec<u8>,
    pub(crate) memo_for: Option<(u64, Present)>,
    /// The header list size of the fields in `memo`.
    pub(crate) memo_size: usize,
}

impl Stamp {
    /// The fields to add to a response that carries `present`.
    pub(crate) fn missing(&self, present: Present) -> [Option<(&'static [u8], &[u8])>; 2] {
        [
            self.date
                .as_ref()
                .filter(|_| !present.date)
                .map(|v| (b"date".as_slice(), v.as_bytes())),
            self.server
                .as_ref()
                .filter(|_| !present.server)
                .map(|v| (b"server".as_slice(), v.as_bytes())),
        ]
    }

    /// Replaces a value; a change forgets the memo.
    pub(crate) fn set(
        slot: &mut Option<HeaderValue>,
        memo: &mut Option<(u64, Present)>,
        value: Option<&HeaderValue>,
    ) {
        if slot.as_ref().map(HeaderValue::as_bytes) != value.map(HeaderValue::as_bytes) {
            *slot = value.cloned();
            *memo = None;
        }
    }
}
