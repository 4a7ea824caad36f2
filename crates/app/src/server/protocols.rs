//! Which protocols a cleartext port speaks: HTTP/1.1 (with its `Upgrade: h2c`), HTTP/2
//! with prior knowledge (h2c), or both (the default).

use std::fmt;
use std::str::FromStr;

/// The protocols a cleartext listener serves; TLS listeners negotiate with ALPN instead
/// (`h2`, then `http/1.1`). A small set: [`Protocols::HTTP1`], [`Protocols::H2C`] and their
/// union [`Protocols::ALL`], the default.
///
/// - With both, the first octets decide: the HTTP/2 client preface means h2c with prior
///   knowledge, an HTTP/1.x request line means HTTP/1.1 (which may `Upgrade: h2c`), and a
///   first line that is neither gets HTTP/2's answer to an invalid preface,
///   GOAWAY(PROTOCOL_ERROR) (RFC 9113 §3.4).
/// - HTTP/2 only (what gRPC-style deployments want): anything but the preface is closed
///   without an HTTP/1.1 answer.
/// - HTTP/1.1 only: no h2c, neither by prior knowledge nor by `Upgrade: h2c`.
///
/// ```
/// use h2ring::{Protocols, Server};
///
/// let protocols: Protocols = "h2c".parse().unwrap();
/// assert_eq!(protocols, Protocols::H2C);
/// assert!(protocols.h2c() && !protocols.http1());
/// assert_eq!("h1,h2c".parse::<Protocols>(), Ok(Protocols::ALL));
/// let server = Server::builder().protocols(Protocols::H2C).build().unwrap();
/// assert_eq!(server.config().protocols, Protocols::H2C);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Protocols {
    http1: bool,
    h2c: bool,
}

impl Protocols {
    /// HTTP/1.1 only (`h1`).
    pub const HTTP1: Protocols = Protocols {
        http1: true,
        h2c: false,
    };
    /// HTTP/2 with prior knowledge only (`h2c`).
    pub const H2C: Protocols = Protocols {
        http1: false,
        h2c: true,
    };
    /// Both (`h1,h2c`): the default.
    pub const ALL: Protocols = Protocols {
        http1: true,
        h2c: true,
    };

    /// Whether HTTP/1.1 is served.
    pub fn http1(self) -> bool {
        self.http1
    }

    /// Whether HTTP/2 in cleartext (prior knowledge, or `Upgrade: h2c` when HTTP/1.1 is
    /// served too) is served.
    pub fn h2c(self) -> bool {
        self.h2c
    }
}

impl Default for Protocols {
    fn default() -> Self {
        Protocols::ALL
    }
}

impl fmt::Display for Protocols {
    /// The form [`FromStr`] reads: `h1`, `h2c` or `h1,h2c`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (self.http1, self.h2c) {
            (true, true) => "h1,h2c",
            (false, true) => "h2c",
            _ => "h1",
        })
    }
}

/// A protocol list [`Protocols`] cannot read: an unknown name, or an empty list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseProtocolsError(String);

impl fmt::Display for ParseProtocolsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown protocol list {:?}: expected h1, h2c or h1,h2c",
            self.0
        )
    }
}

impl std::error::Error for ParseProtocolsError {}

impl FromStr for Protocols {
    type Err = ParseProtocolsError;

    /// A comma-separated list of `h1` (also `http/1.1`) and `h2c`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = Protocols {
            http1: false,
            h2c: false,
        };
        for name in s.split(',').map(str::trim) {
            match name.to_ascii_lowercase().as_str() {
                "h1" | "http/1.1" => set.http1 = true,
                "h2c" => set.h2c = true,
                _ => return Err(ParseProtocolsError(s.to_string())),
            }
        }
        if !set.http1 && !set.h2c {
            return Err(ParseProtocolsError(s.to_string()));
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_three_sets() {
        for (text, set) in [
            ("h1", Protocols::HTTP1),
            ("h2c", Protocols::H2C),
            ("h1,h2c", Protocols::ALL),
        ] {
            assert_eq!(text.parse::<Protocols>(), Ok(set));
            assert_eq!(set.to_string(), text);
        }
        assert_eq!("h2c, http/1.1".parse::<Protocols>(), Ok(Protocols::ALL));
        assert!("h2".parse::<Protocols>().is_err());
        assert!("".parse::<Protocols>().is_err());
        assert_eq!(Protocols::default(), Protocols::ALL);
    }
}
