//! Safe mapping of a request path onto a file under the served root:
//! percent-decoding per segment, refusing `..`, encoded separators and
//! symlinks that lead outside the root.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a request path cannot be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRefusal {
    /// Malformed percent-encoding or a path not starting with `/` (400).
    BadRequest,
    /// Traversal attempt: `..`, encoded `/` `\` or NUL, or a symlink out of
    /// the root (403).
    Forbidden,
    /// Nothing there (404).
    NotFound,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one path segment (RFC 3986 §2.1).
fn decode_segment(raw: &[u8]) -> Result<Vec<u8>, PathRefusal> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b == b'%' {
            let hi = raw.get(i + 1).copied().and_then(hex);
            let lo = raw.get(i + 2).copied().and_then(hex);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(PathRefusal::BadRequest),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

/// Turns the path part of a request target into a relative path of plain
/// segments. `.` and empty segments are dropped; `..` is refused outright
/// rather than normalised, since no legitimate client sends it.
pub fn relative_path(request_path: &str) -> Result<PathBuf, PathRefusal> {
    let path = request_path.split(['?', '#']).next().unwrap_or_default();
    let Some(rest) = path.strip_prefix('/') else {
        return Err(PathRefusal::BadRequest);
    };
    let mut out = PathBuf::new();
    for raw in rest.split('/') {
        let segment = decode_segment(raw.as_bytes())?;
        if segment.iter().any(|&b| b == b'/' || b == b'\\' || b == 0) {
            return Err(PathRefusal::Forbidden);
        }
        match segment.as_slice() {
            b"" | b"." => continue,
            b".." => return Err(PathRefusal::Forbidden),
            _ => out.push(OsStr::from_bytes(&segment)),
        }
    }
    Ok(out)
}

/// Resolves `relative` under the canonical `root`, following symlinks, and
/// refuses results outside the root.
pub fn resolve_under(root: &Path, relative: &Path) -> Result<PathBuf, PathRefusal> {
    let joined = root.join(relative);
    let real = std::fs::canonicalize(&joined).map_err(|e| match e.kind() {
        io::ErrorKind::PermissionDenied => PathRefusal::Forbidden,
        _ => PathRefusal::NotFound,
    })?;
    if !real.starts_with(root) {
        return Err(PathRefusal::Forbidden);
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_encoded_segments_decode() {
        assert_eq!(relative_path("/a/b.txt").unwrap(), PathBuf::from("a/b.txt"));
        assert_eq!(
            relative_path("/a%20b.txt?x=1").unwrap(),
            PathBuf::from("a b.txt")
        );
        assert_eq!(relative_path("/./a//b/").unwrap(), PathBuf::from("a/b"));
        assert_eq!(relative_path("/").unwrap(), PathBuf::new());
    }

    #[test]
    fn traversal_is_forbidden() {
        for p in [
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/etc/passwd",
            "/.%2e/x",
            "/a%2f..%2f..%2fetc%2fpasswd",
            "/a%2Fb",
            "/a%5c..%5cb",
            "/a%00.txt",
        ] {
            assert_eq!(relative_path(p), Err(PathRefusal::Forbidden), "{p}");
        }
    }

    #[test]
    fn malformed_paths_are_bad_requests() {
        for p in ["a/b", "", "/%", "/%2", "/%zz", "*"] {
            assert_eq!(relative_path(p), Err(PathRefusal::BadRequest), "{p}");
        }
    }
}
