//! Request pseudo-header fields (RFC 9113 §8.3.1, §8.5, RFC 8441 §4): collects them once each
//! and checks the combination the method requires.

use http::uri::{Authority, PathAndQuery, Scheme};
use http::Method;

use crate::arena::Arena;
use crate::field::is_token;
use crate::reason;

/// The request pseudo-headers of one header block, each parsed as it arrives.
#[derive(Debug, Default)]
pub struct RequestPseudo {
    method: Option<Method>,
    scheme: Option<Scheme>,
    authority: Option<Authority>,
    path: Option<PathAndQuery>,
    protocol: Option<String>,
}

/// The validated pseudo-headers of a request, ready for a `RequestHead`.
#[derive(Debug)]
pub struct RequestTarget {
    /// `:method`.
    pub method: Method,
    /// `:scheme`; `None` only for plain CONNECT.
    pub scheme: Option<Scheme>,
    /// `:authority`.
    pub authority: Option<Authority>,
    /// `:path`; `None` only for plain CONNECT.
    pub path: Option<PathAndQuery>,
    /// `:protocol` (RFC 8441).
    pub protocol: Option<String>,
}

/// Stores `parsed` into `slot` unless the pseudo-header was already seen (RFC 9113 §8.3.1:
/// "exactly one"/"at most one" instance).
fn set_once<T>(slot: &mut Option<T>, parsed: Result<T, &'static str>) -> Result<(), &'static str> {
    if slot.is_some() {
        return Err(reason::DUPLICATE_PSEUDO);
    }
    *slot = Some(parsed?);
    Ok(())
}

fn parse_authority(value: &[u8], arena: &mut Arena) -> Result<Authority, &'static str> {
    // RFC 9113 §8.3.1: `:authority` MUST NOT include the deprecated userinfo subcomponent.
    if value.is_empty() || value.contains(&b'@') {
        return Err(reason::INVALID_AUTHORITY);
    }
    arena.authority(value).ok_or(reason::INVALID_AUTHORITY)
}

fn parse_path(value: &[u8], arena: &mut Arena) -> Result<PathAndQuery, &'static str> {
    // RFC 9113 §8.3.1: `:path` MUST NOT be empty for http/https; we reject empty for all.
    if value.is_empty() {
        return Err(reason::EMPTY_PATH);
    }
    // The path carries path and query only; a fragment is never sent (RFC 9110 §7.1).
    if value.contains(&b'#') {
        return Err(reason::INVALID_PATH);
    }
    // RFC 9113 §8.3.1: origin form (leading `/`) or `*`. Applied to every scheme because
    // `http::uri::PathAndQuery` cannot represent anything else.
    if value != b"*" && value.first() != Some(&b'/') {
        return Err(reason::PATH_NOT_ABSOLUTE);
    }
    arena.path(value).ok_or(reason::INVALID_PATH)
}

fn parse_protocol(value: &[u8]) -> Result<String, &'static str> {
    if !is_token(value) {
        return Err(reason::INVALID_PROTOCOL);
    }
    // Token characters are ASCII, so this cannot fail; map defensively anyway.
    String::from_utf8(value.to_vec()).map_err(|_| reason::INVALID_PROTOCOL)
}

impl RequestPseudo {
    /// Accepts one pseudo-header field (`name` starts with `:`).
    pub fn accept(
        &mut self,
        name: &[u8],
        value: &[u8],
        arena: &mut Arena,
    ) -> Result<(), &'static str> {
        match name {
            b":method" => set_once(
                &mut self.method,
                Method::from_bytes(value).map_err(|_| reason::INVALID_METHOD),
            ),
            b":scheme" => set_once(
                &mut self.scheme,
                Scheme::try_from(value).map_err(|_| reason::INVALID_SCHEME),
            ),
            b":authority" => set_once(&mut self.authority, parse_authority(value, arena)),
            b":path" => set_once(&mut self.path, parse_path(value, arena)),
            b":protocol" => set_once(&mut self.protocol, parse_protocol(value)),
            // RFC 9113 §8.3: response pseudo-headers MUST NOT appear in requests.
            b":status" => Err(reason::RESPONSE_PSEUDO_IN_REQUEST),
            // RFC 9113 §8.3: undefined pseudo-headers make the message malformed.
            _ => Err(reason::UNKNOWN_PSEUDO),
        }
    }

    /// Checks the combination of pseudo-headers for the method and returns them.
    pub fn finish(self, extended_connect: bool) -> Result<RequestTarget, &'static str> {
        let method = self.method.ok_or(reason::MISSING_METHOD)?;
        if self.protocol.is_some() && !extended_connect {
            // RFC 8441 §4: `:protocol` only after we sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
            return Err(reason::PROTOCOL_NOT_ENABLED);
        }
        if method == Method::CONNECT && self.protocol.is_none() {
            return plain_connect(method, self.scheme, self.authority, self.path);
        }
        if method != Method::CONNECT && self.protocol.is_some() {
            return Err(reason::PROTOCOL_WITHOUT_CONNECT);
        }
        let scheme = self.scheme.ok_or(reason::MISSING_SCHEME)?;
        let path = self.path.ok_or(reason::MISSING_PATH)?;
        // RFC 8441 §4: extended CONNECT needs :scheme, :path and :authority.
        if self.protocol.is_some() && self.authority.is_none() {
            return Err(reason::MISSING_AUTHORITY);
        }
        check_path_form(&method, &path)?;
        Ok(RequestTarget {
            method,
            scheme: Some(scheme),
            authority: self.authority,
            path: Some(path),
            protocol: self.protocol,
        })
    }
}

/// RFC 9113 §8.5: a plain CONNECT has `:method` and `:authority` only.
fn plain_connect(
    method: Method,
    scheme: Option<Scheme>,
    authority: Option<Authority>,
    path: Option<PathAndQuery>,
) -> Result<RequestTarget, &'static str> {
    if scheme.is_some() || path.is_some() {
        return Err(reason::CONNECT_WITH_SCHEME_OR_PATH);
    }
    let authority = authority.ok_or(reason::MISSING_AUTHORITY)?;
    Ok(RequestTarget {
        method,
        scheme: None,
        authority: Some(authority),
        path: None,
        protocol: None,
    })
}

/// RFC 9113 §8.3.1: `:path` `*` only for OPTIONS (the leading `/` is checked on arrival).
fn check_path_form(method: &Method, path: &PathAndQuery) -> Result<(), &'static str> {
    if path.as_str() == "*" && *method != Method::OPTIONS {
        return Err(reason::ASTERISK_NOT_OPTIONS);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(fields: &[(&str, &str)], extended: bool) -> Result<RequestTarget, &'static str> {
        let mut p = RequestPseudo::default();
        for (n, v) in fields {
            p.accept(n.as_bytes(), v.as_bytes(), &mut Arena::default())?;
        }
        p.finish(extended)
    }

    const GET: [(&str, &str); 4] = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/a?b=c"),
    ];

    #[test]
    fn plain_get() {
        let t = build(&GET, false).unwrap();
        assert_eq!(t.method, Method::GET);
        assert_eq!(t.scheme, Some(Scheme::HTTPS));
        assert_eq!(t.authority.unwrap().as_str(), "example.com");
        assert_eq!(t.path.unwrap().as_str(), "/a?b=c");
        assert_eq!(t.protocol, None);
    }

    #[test]
    fn duplicates_and_unknown() {
        for dup in [":method", ":scheme", ":authority", ":path"] {
            let mut fields = GET.to_vec();
            let again = *fields.iter().find(|(n, _)| *n == dup).unwrap();
            fields.push(again);
            assert_eq!(build(&fields, false).unwrap_err(), reason::DUPLICATE_PSEUDO);
        }
        let mut p = RequestPseudo::default();
        assert_eq!(
            p.accept(b":foo", b"x", &mut Arena::default()),
            Err(reason::UNKNOWN_PSEUDO)
        );
        assert_eq!(
            p.accept(b":status", b"200", &mut Arena::default()),
            Err(reason::RESPONSE_PSEUDO_IN_REQUEST)
        );
    }

    #[test]
    fn missing() {
        assert_eq!(build(&GET[1..], false).unwrap_err(), reason::MISSING_METHOD);
        let no_scheme = [GET[0], GET[2], GET[3]];
        assert_eq!(
            build(&no_scheme, false).unwrap_err(),
            reason::MISSING_SCHEME
        );
        assert_eq!(build(&GET[..3], false).unwrap_err(), reason::MISSING_PATH);
        // :authority is optional for ordinary requests.
        assert!(build(&[GET[0], GET[1], GET[3]], false).is_ok());
    }

    #[test]
    fn invalid_values() {
        let mut p = RequestPseudo::default();
        assert_eq!(
            p.accept(b":method", b"G E", &mut Arena::default()),
            Err(reason::INVALID_METHOD)
        );
        assert_eq!(
            p.accept(b":method", b"", &mut Arena::default()),
            Err(reason::INVALID_METHOD)
        );
        assert_eq!(
            p.accept(b":scheme", b"ht tp", &mut Arena::default()),
            Err(reason::INVALID_SCHEME)
        );
        assert_eq!(
            p.accept(b":authority", b"a b", &mut Arena::default()),
            Err(reason::INVALID_AUTHORITY)
        );
        assert_eq!(
            p.accept(b":authority", b"", &mut Arena::default()),
            Err(reason::INVALID_AUTHORITY)
        );
        assert_eq!(
            p.accept(b":authority", b"user@host", &mut Arena::default()),
            Err(reason::INVALID_AUTHORITY)
        );
        assert_eq!(
            p.accept(b":path", b"", &mut Arena::default()),
            Err(reason::EMPTY_PATH)
        );
        assert_eq!(
            p.accept(b":path", b"/a b", &mut Arena::default()),
            Err(reason::INVALID_PATH)
        );
        assert_eq!(
            p.accept(b":path", b"/a#frag", &mut Arena::default()),
            Err(reason::INVALID_PATH)
        );
        assert_eq!(
            p.accept(b":protocol", b"a b", &mut Arena::default()),
            Err(reason::INVALID_PROTOCOL)
        );
    }

    #[test]
    fn path_forms() {
        let opts = [(":method", "OPTIONS"), (":scheme", "https"), (":path", "*")];
        assert_eq!(build(&opts, false).unwrap().path.unwrap().as_str(), "*");
        let star_get = [(":method", "GET"), (":scheme", "https"), (":path", "*")];
        assert_eq!(
            build(&star_get, false).unwrap_err(),
            reason::ASTERISK_NOT_OPTIONS
        );
        let relative = [(":method", "GET"), (":scheme", "http"), (":path", "a/b")];
        assert_eq!(
            build(&relative, false).unwrap_err(),
            reason::PATH_NOT_ABSOLUTE
        );
        let other = [(":method", "GET"), (":scheme", "foo"), (":path", "/a/b")];
        assert!(build(&other, false).is_ok());
    }

    #[test]
    fn connect_rules() {
        let ok = build(&[(":method", "CONNECT"), (":authority", "h:443")], false).unwrap();
        assert_eq!(ok.scheme, None);
        assert_eq!(ok.path, None);
        assert_eq!(ok.authority.unwrap().as_str(), "h:443");
        assert_eq!(
            build(&[(":method", "CONNECT")], false).unwrap_err(),
            reason::MISSING_AUTHORITY
        );
        let with_path = [
            (":method", "CONNECT"),
            (":authority", "h:443"),
            (":path", "/"),
        ];
        assert_eq!(
            build(&with_path, false).unwrap_err(),
            reason::CONNECT_WITH_SCHEME_OR_PATH
        );
        let with_scheme = [
            (":method", "CONNECT"),
            (":authority", "h:443"),
            (":scheme", "https"),
        ];
        assert_eq!(
            build(&with_scheme, false).unwrap_err(),
            reason::CONNECT_WITH_SCHEME_OR_PATH
        );
    }

    #[test]
    fn extended_connect_rules() {
        let ws = [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":authority", "h"),
            (":path", "/chat"),
        ];
        let t = build(&ws, true).unwrap();
        assert_eq!(t.protocol.as_deref(), Some("websocket"));
        assert_eq!(t.path.unwrap().as_str(), "/chat");
        assert_eq!(build(&ws, false).unwrap_err(), reason::PROTOCOL_NOT_ENABLED);
        assert_eq!(build(&ws[..4], true).unwrap_err(), reason::MISSING_PATH);
        let no_scheme = [ws[0], ws[1], ws[3], ws[4]];
        assert_eq!(build(&no_scheme, true).unwrap_err(), reason::MISSING_SCHEME);
        let no_authority = [ws[0], ws[1], ws[2], ws[4]];
        assert_eq!(
            build(&no_authority, true).unwrap_err(),
            reason::MISSING_AUTHORITY
        );
        let on_get = [(":method", "GET"), ws[1], ws[2], ws[3], ws[4]];
        assert_eq!(
            build(&on_get, true).unwrap_err(),
            reason::PROTOCOL_WITHOUT_CONNECT
        );
        assert_eq!(
            build(&on_get, false).unwrap_err(),
            reason::PROTOCOL_NOT_ENABLED
        );
    }
}
