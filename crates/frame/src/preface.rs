//! Owns the client connection preface check (RFC 9113 §3.4).

/// The 24-octet client connection preface (§3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Result of a preface check that did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum PrefaceStatus {
    /// Every octet so far matches, but fewer than 24 have arrived.
    Incomplete,
    /// The first 24 octets are the preface.
    Matched,
}

/// The received octets are not the client preface (§3.4: treat as PROTOCOL_ERROR).
#[derive(Debug, PartialEq, Eq)]
pub struct BadPreface;

/// Checks the start of `buf` against the client preface (§3.4); fails as soon as one byte differs. Does not consume.
pub fn check_preface(buf: &[u8]) -> Result<PrefaceStatus, BadPreface> {
    let n = buf.len().min(PREFACE.len());
    if buf
        .iter()
        .zip(PREFACE.iter())
        .any(|(got, want)| got != want)
    {
        return Err(BadPreface);
    }
    if n == PREFACE.len() {
        Ok(PrefaceStatus::Matched)
    } else {
        Ok(PrefaceStatus::Incomplete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_prefix_are_incomplete() {
        assert_eq!(check_preface(b""), Ok(PrefaceStatus::Incomplete));
        assert_eq!(
            check_preface(b"PRI * HTTP/2.0\r\n"),
            Ok(PrefaceStatus::Incomplete)
        );
        assert_eq!(check_preface(&PREFACE[..23]), Ok(PrefaceStatus::Incomplete));
    }

    #[test]
    fn mismatch_fails_at_first_differing_byte() {
        assert_eq!(check_preface(b"GET / HTTP/1.1\r\n"), Err(BadPreface));
        // Differs in the 3rd octet; the rest has not arrived yet.
        assert_eq!(check_preface(b"PRX"), Err(BadPreface));
        let mut last_wrong = *PREFACE;
        last_wrong[23] = b'X';
        assert_eq!(check_preface(&last_wrong), Err(BadPreface));
    }

    #[test]
    fn full_preface_matches_even_with_trailing_frames() {
        assert_eq!(check_preface(PREFACE), Ok(PrefaceStatus::Matched));
        let mut more = PREFACE.to_vec();
        more.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
        assert_eq!(check_preface(&more), Ok(PrefaceStatus::Matched));
    }
}
