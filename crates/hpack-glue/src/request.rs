//! The validated request head handed to the connection (RFC 9113 §8.3.1), in `http` types.

use http::header::HOST;
use http::uri::{Authority, Parts, PathAndQuery, Scheme};
use http::{HeaderMap, Method, Uri};

/// A validated request head (RFC 9113 §8.3.1), `http` types at the boundary.
///
/// `clone_from` reuses what the destination already holds: the field map's memory, and
/// any authority, path or field value that is the very same shared buffer as the
/// source's (no reference count touched for those).
#[derive(Debug, Default)]
pub struct RequestHead {
    /// `:method`.
    pub method: Method,
    /// `:scheme`; `None` only for plain CONNECT.
    pub scheme: Option<Scheme>,
    /// `:authority`, if the client sent one.
    pub authority: Option<Authority>,
    /// `:path`; `None` only for plain CONNECT.
    pub path: Option<PathAndQuery>,
    /// RFC 8441 `:protocol` (extended CONNECT only).
    pub protocol: Option<String>,
    /// Regular fields; cookie crumbs joined with "; " (RFC 9113 §8.2.3).
    pub headers: HeaderMap,
    /// Parsed `content-length`, for the connection's body-length check (RFC 9113 §8.1.1).
    pub content_length: Option<u64>,
    /// `expect: 100-continue` present (value compared case-insensitively).
    pub expect_continue: bool,
}

impl Clone for RequestHead {
    fn clone(&self) -> Self {
        RequestHead {
            method: self.method.clone(),
            scheme: self.scheme.clone(),
            authority: self.authority.clone(),
            path: self.path.clone(),
            protocol: self.protocol.clone(),
            headers: self.headers.clone(),
            content_length: self.content_length,
            expect_continue: self.expect_continue,
        }
    }

    // The repeat memo's path: the decoder refills a recycled head from the remembered
    // one, so a repeated request costs neither an allocation nor, when the recycled head
    // still holds the memo's own buffers, reference-count traffic.
    fn clone_from(&mut self, src: &Self) {
        if self.method != src.method {
            self.method = src.method.clone();
        }
        if self.scheme != src.scheme {
            self.scheme = src.scheme.clone();
        }
        if !same_buffers(&self.authority, &src.authority, Authority::as_str) {
            self.authority = src.authority.clone();
        }
        if !same_buffers(&self.path, &src.path, PathAndQuery::as_str) {
            self.path = src.path.clone();
        }
        self.protocol.clone_from(&src.protocol);
        if !same_fields(&self.headers, &src.headers) {
            // `clear` keeps the map's memory: appending the same number of fields again
            // allocates nothing.
            self.headers.clear();
            for (name, value) in &src.headers {
                self.headers.append(name.clone(), value.clone());
            }
        }
        self.content_length = src.content_length;
        self.expect_continue = src.expect_continue;
    }
}

/// Whether two optional URI parts are both absent or both the same shared buffer.
fn same_buffers<T>(a: &Option<T>, b: &Option<T>, as_str: impl Fn(&T) -> &str) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_buffer(as_str(a), as_str(b)),
        (None, None) => true,
        _ => false,
    }
}

/// Whether `a` and `b` are the same octets in the same place (one shared buffer).
fn same_buffer<T: AsRef<[u8]> + ?Sized>(a: &T, b: &T) -> bool {
    let (a, b) = (a.as_ref(), b.as_ref());
    a.as_ptr() == b.as_ptr() && a.len() == b.len()
}

/// Whether two field maps hold the same names with values in the same buffers, in the
/// same order.
fn same_fields(a: &HeaderMap, b: &HeaderMap) -> bool {
    a.len() == b.len()
        && a.iter().zip(b.iter()).all(|((na, va), (nb, vb))| {
            na == nb
                && same_buffer(va.as_bytes(), vb.as_bytes())
                && va.is_sensitive() == vb.is_sensitive()
        })
}

impl RequestHead {
    /// The authority to use for the target URI: `:authority`, else a parseable `host`
    /// (RFC 9113 §8.3.1 lets an intermediary use `host` when `:authority` is absent).
    pub fn effective_authority(&self) -> Option<Authority> {
        if let Some(a) = &self.authority {
            return Some(a.clone());
        }
        let host = self.headers.get(HOST)?;
        Authority::try_from(host.as_bytes()).ok()
    }

    /// Whether this is a plain CONNECT (RFC 9113 §8.5) rather than an extended one.
    pub fn is_plain_connect(&self) -> bool {
        self.method == Method::CONNECT && self.protocol.is_none()
    }

    /// The request target as a URI: absolute form when scheme and authority are known,
    /// authority form for plain CONNECT, origin form otherwise.
    pub fn uri(&self) -> Uri {
        target_uri(
            self.scheme.clone(),
            self.effective_authority(),
            self.path.clone(),
        )
    }

    /// [`uri`](Self::uri), moving the scheme, authority and path into it instead of
    /// copying them (they are `None` afterwards): the per-request path of a server.
    pub fn take_uri(&mut self) -> Uri {
        let authority = self.authority.take().or_else(|| self.effective_authority());
        target_uri(self.scheme.take(), authority, self.path.take())
    }

    /// Whether `uri` is what [`take_uri`](Self::take_uri) would build from this head, in
    /// the very same buffers: an application reusing the previous request's URI may then
    /// keep it as it is. Only absolute-form targets are recognised; anything else answers
    /// `false` (build it).
    pub fn is_target_of(&self, uri: &Uri) -> bool {
        let (Some(scheme), Some(authority), Some(path)) =
            (&self.scheme, &self.authority, &self.path)
        else {
            return false;
        };
        uri.scheme() == Some(scheme)
            && uri
                .authority()
                .is_some_and(|a| same_buffer(a.as_str(), authority.as_str()))
            && uri
                .path_and_query()
                .is_some_and(|p| same_buffer(p.as_str(), path.as_str()))
    }
}

fn target_uri(
    scheme: Option<Scheme>,
    authority: Option<Authority>,
    path: Option<PathAndQuery>,
) -> Uri {
    let mut parts = Parts::default();
    match (scheme, authority, path) {
        (Some(scheme), Some(authority), Some(path)) => {
            parts.scheme = Some(scheme);
            parts.authority = Some(authority);
            parts.path_and_query = Some(path);
        }
        (_, _, Some(path)) => parts.path_and_query = Some(path),
        (_, authority, None) => parts.authority = authority,
    }
    // Every combination built above satisfies `from_parts`; fall back to "/" regardless.
    Uri::from_parts(parts).unwrap_or_default()
}

/// The RFC 8441 `:protocol` of an extended CONNECT, stored in `Request::extensions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn head(scheme: Option<&str>, authority: Option<&str>, path: Option<&str>) -> RequestHead {
        RequestHead {
            method: Method::GET,
            scheme: scheme.map(|s| s.parse().unwrap()),
            authority: authority.map(|a| a.parse().unwrap()),
            path: path.map(|p| p.parse().unwrap()),
            protocol: None,
            headers: HeaderMap::new(),
            content_length: None,
            expect_continue: false,
        }
    }

    #[test]
    fn absolute_uri() {
        let h = head(Some("https"), Some("example.com:8443"), Some("/a?b"));
        assert_eq!(h.uri(), "https://example.com:8443/a?b");
    }

    #[test]
    fn host_fallback_and_origin_form() {
        let mut h = head(Some("http"), None, Some("/x"));
        assert_eq!(h.uri(), "/x");
        h.headers.insert(HOST, HeaderValue::from_static("h.test"));
        assert_eq!(h.uri(), "http://h.test/x");
    }

    #[test]
    fn take_uri_is_uri_and_moves_the_pieces() {
        for mut h in [
            head(Some("https"), Some("example.com:8443"), Some("/a?b")),
            head(Some("http"), None, Some("/x")),
            head(None, Some("proxy.test:443"), None),
        ] {
            h.headers.insert(HOST, HeaderValue::from_static("h.test"));
            let uri = h.uri();
            assert_eq!(h.take_uri(), uri);
            assert!(h.scheme.is_none() && h.authority.is_none() && h.path.is_none());
        }
    }

    #[test]
    fn clone_from_matches_clone_and_reuses_shared_buffers() {
        let mut src = head(Some("https"), Some("a.test"), Some("/x?y"));
        src.headers.append("x-a", HeaderValue::from_static("1"));
        src.headers.append("x-a", HeaderValue::from_static("2"));
        src.headers
            .insert("user-agent", HeaderValue::from_static("ua"));
        src.content_length = Some(3);
        src.expect_continue = true;
        src.protocol = Some("websocket".into());

        // Into a different head: every piece is replaced.
        let mut dst = head(Some("http"), Some("b.test"), Some("/other"));
        dst.method = Method::POST;
        dst.headers
            .insert("x-old", HeaderValue::from_static("gone"));
        dst.clone_from(&src);
        assert_eq!(format!("{dst:?}"), format!("{:?}", src.clone()));

        // Into a head holding the source's own buffers: nothing moves, still equal.
        let authority_at = dst.authority.as_ref().unwrap().as_str().as_ptr();
        let value_at = dst.headers["user-agent"].as_bytes().as_ptr();
        dst.clone_from(&src);
        assert_eq!(format!("{dst:?}"), format!("{src:?}"));
        assert_eq!(
            dst.authority.as_ref().unwrap().as_str().as_ptr(),
            authority_at
        );
        assert_eq!(dst.headers["user-agent"].as_bytes().as_ptr(), value_at);

        // Equal text in another buffer is still copied in (the source's buffer wins).
        let mut other = src.clone();
        other.authority = Some("a.test".parse().unwrap());
        other.clone_from(&src);
        assert_eq!(
            other.authority.as_ref().unwrap().as_str().as_ptr(),
            src.authority.as_ref().unwrap().as_str().as_ptr()
        );
    }

    #[test]
    fn a_target_is_recognised_only_in_the_same_buffers() {
        let mut h = head(Some("https"), Some("a.test"), Some("/x?y"));
        let copy = h.clone();
        let uri = h.take_uri();
        // `copy` shares every buffer with the URI just built from `h`.
        assert!(copy.is_target_of(&uri));
        // Equal text elsewhere is not the same buffer.
        let elsewhere = head(Some("https"), Some("a.test"), Some("/x?y"));
        assert!(!elsewhere.is_target_of(&uri));
        // Another scheme, or a target without authority, is never the same.
        let mut http = copy.clone();
        http.scheme = Some(Scheme::HTTP);
        assert!(!http.is_target_of(&uri));
        let origin = head(Some("https"), None, Some("/x?y"));
        assert!(!origin.is_target_of(&origin.uri()));
    }

    #[test]
    fn connect_authority_form() {
        let mut h = head(None, Some("proxy.test:443"), None);
        h.method = Method::CONNECT;
        assert!(h.is_plain_connect());
        let uri = h.uri();
        assert_eq!(uri.authority().unwrap().as_str(), "proxy.test:443");
        assert_eq!(uri.scheme(), None);
    }
}
