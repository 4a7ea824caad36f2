//! A per-core cache of what request paths resolve to, so a busy static site does not pay
//! a `realpath`, a `stat`, an `open` and a `read` per request (nginx's open_file_cache,
//! h2o's file cache). Entries live [`CACHE_TTL`]; changes on disk show within that time.
//! Small files keep their bytes, served as zero-copy slices, and keep them across
//! revalidations while the file is unchanged. Per core and `!Send`: no lock.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use http::{HeaderMap, Method};

use super::{read_file_range, Resolved, StaticFiles, StaticResponse};

/// How long a resolution is trusted before the file system is asked again.
pub const CACHE_TTL: Duration = Duration::from_secs(1);
/// Files up to this size are kept in memory.
pub const CACHE_MAX_FILE: u64 = 64 * 1024;
/// Paths remembered per core; past it the cache starts over.
pub const CACHE_MAX_ENTRIES: usize = 4096;
/// File bytes kept per core; past it the cache starts over.
pub const CACHE_MAX_BYTES: usize = 32 * 1024 * 1024;

/// The answer for one cached resolution.
fn serve(
    resolved: &Resolved,
    files: &StaticFiles,
    method: &Method,
    headers: &HeaderMap,
) -> StaticResponse {
    match resolved {
        Resolved::File(file) => file.respond(method, headers),
        Resolved::Answer(response) => response.clone(),
        Resolved::Builtin(relative) => files.builtin_page(method, relative, headers),
    }
}

struct Entry {
    at: Instant,
    resolved: Resolved,
}

/// See the module docs.
pub struct FileCache {
    /// Path -> position in `entries`. Request paths come from the network, so the map
    /// keeps std's keyed hash (no collision flooding).
    index: HashMap<String, usize>,
    entries: Vec<Entry>,
    /// The path last found and where: a client asking for the same path again and again
    /// (a benchmark, a poller, a popular page) is answered without hashing it.
    last: Option<(String, usize)>,
    bytes: usize,
}

impl Default for FileCache {
    fn default() -> Self {
        FileCache::new()
    }
}

impl FileCache {
    pub fn new() -> Self {
        FileCache {
            index: HashMap::new(),
            entries: Vec::new(),
            last: None,
            bytes: 0,
        }
    }

    /// Paths currently cached.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// [`StaticFiles::respond`] through the cache.
    pub fn respond(
        &mut self,
        files: &StaticFiles,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        now: Instant,
    ) -> StaticResponse {
        if method != Method::GET && method != Method::HEAD {
            return super::method_not_allowed();
        }
        let stale = match self.find(path) {
            Some(at) => {
                let entry = &self.entries[at];
                if now.saturating_duration_since(entry.at) < CACHE_TTL {
                    return serve(&entry.resolved, files, method, headers);
                }
                Some(at)
            }
            None => None,
        };
        let resolved = self.load(files, path, stale.map(|at| &self.entries[at].resolved));
        let resolved = self.insert(path, resolved, now);
        serve(resolved, files, method, headers)
    }

    /// Where `path` is cached: no hash when it is the path last found, else one.
    fn find(&mut self, path: &str) -> Option<usize> {
        if let Some((last, at)) = &self.last {
            if last == path {
                return Some(*at);
            }
        }
        let at = *self.index.get(path)?;
        match &mut self.last {
            // Reuses the remembered string's memory.
            Some((last, last_at)) => {
                last.clear();
                last.push_str(path);
                *last_at = at;
            }
            None => self.last = Some((path.to_string(), at)),
        }
        Some(at)
    }

    /// Resolves `path` afresh. A small file that `stale` already holds and that is
    /// unchanged on disk (same path, size, modification time and inode: its ETag) keeps
    /// the bytes read before: revalidating a busy page once per TTL costs a `stat`, not an
    /// `open` and a `read` of the whole file.
    fn load(&self, files: &StaticFiles, path: &str, stale: Option<&Resolved>) -> Resolved {
        match files.resolve(path) {
            Resolved::File(file) if file.len() <= CACHE_MAX_FILE => {
                if let Some(Resolved::File(earlier)) = stale {
                    if earlier.contents.is_some() && file.unchanged_since(earlier) {
                        return Resolved::File(earlier.clone());
                    }
                }
                match read_file_range(file.path(), 0, file.len()) {
                    Ok(bytes) if bytes.len() as u64 == file.len() => {
                        Resolved::File(file.with_contents(bytes))
                    }
                    // Changed under us: serve it from the file, uncached bytes.
                    _ => Resolved::File(file),
                }
            }
            other => other,
        }
    }

    /// Stores `resolved` for `path` (within the bounds) and returns the stored copy.
    fn insert(&mut self, path: &str, resolved: Resolved, now: Instant) -> &Resolved {
        let entry = Entry { at: now, resolved };
        if let Some(&at) = self.index.get(path) {
            // A stale entry renewed in place: positions stay valid.
            self.bytes -= cached_bytes(&self.entries[at].resolved);
            self.bytes += cached_bytes(&entry.resolved);
            self.entries[at] = entry;
            return &self.entries[at].resolved;
        }
        let size = cached_bytes(&entry.resolved);
        if self.entries.len() >= CACHE_MAX_ENTRIES || self.bytes + size > CACHE_MAX_BYTES {
            // Simple and bounded: start over rather than track recency.
            self.index.clear();
            self.entries.clear();
            self.last = None;
            self.bytes = 0;
        }
        self.bytes += size;
        self.index.insert(path.to_string(), self.entries.len());
        self.entries.push(entry);
        &self.entries[self.entries.len() - 1].resolved
    }
}

/// File octets a resolution keeps in memory.
fn cached_bytes(resolved: &Resolved) -> usize {
    match resolved {
        Resolved::File(f) if f.contents.is_some() => f.len() as usize,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::static_files::BodySource;
    use http::{header, HeaderValue, StatusCode};

    fn temp_root(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("h2ring-cache-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_cached_file_is_served_from_memory_until_the_ttl_passes() {
        let root = temp_root("ttl");
        std::fs::write(root.join("a.txt"), b"hello cache").unwrap();
        let files = StaticFiles::new(&root).unwrap();
        let mut cache = FileCache::new();
        let t0 = Instant::now();
        let first = cache.respond(&files, &Method::GET, "/a.txt", &HeaderMap::new(), t0);
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(
            first.body,
            BodySource::Bytes(bytes::Bytes::from_static(b"hello cache"))
        );
        // The file goes away; within the TTL the cache still answers without the disk.
        std::fs::remove_file(root.join("a.txt")).unwrap();
        let again = cache.respond(
            &files,
            &Method::GET,
            "/a.txt",
            &HeaderMap::new(),
            t0 + CACHE_TTL / 2,
        );
        assert_eq!(again.status, StatusCode::OK);
        // After the TTL the file system is asked again.
        let later = cache.respond(
            &files,
            &Method::GET,
            "/a.txt",
            &HeaderMap::new(),
            t0 + CACHE_TTL,
        );
        assert_eq!(later.status, StatusCode::NOT_FOUND);
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Revalidation after the TTL reads a file again only when it changed: an unchanged
    /// file keeps the very bytes read before (no `open`/`read` once per TTL per busy
    /// path), a rewritten one is read afresh.
    #[test]
    fn revalidation_rereads_only_a_changed_file() {
        let root = temp_root("reval");
        let file = root.join("page.html");
        std::fs::write(&file, b"first version").unwrap();
        let files = StaticFiles::new(&root).unwrap();
        let mut cache = FileCache::new();
        let t0 = Instant::now();
        let body = |cache: &mut FileCache, at: Instant| match cache
            .respond(&files, &Method::GET, "/page.html", &HeaderMap::new(), at)
            .body
        {
            BodySource::Bytes(b) => b,
            other => panic!("not from memory: {other:?}"),
        };
        let first = body(&mut cache, t0);
        let revalidated = body(&mut cache, t0 + CACHE_TTL);
        assert_eq!(revalidated, first);
        assert_eq!(
            revalidated.as_ptr(),
            first.as_ptr(),
            "an unchanged file was read again"
        );

        // Same size, new contents and modification time: read again.
        std::fs::write(&file, b"other version").unwrap();
        let modified = std::time::SystemTime::now() + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let after_change = body(&mut cache, t0 + CACHE_TTL * 2);
        assert_eq!(&after_change[..], b"other version");
        let _ = std::fs::remove_dir_all(&root);
    }

    /// The last-path shortcut answers for the path it remembers only: alternating and
    /// renewed paths each get their own bytes.
    #[test]
    fn each_path_gets_its_own_entry_through_the_last_path_shortcut() {
        let root = temp_root("last");
        std::fs::write(root.join("a.txt"), b"aaa").unwrap();
        std::fs::write(root.join("b.txt"), b"bbbb").unwrap();
        let files = StaticFiles::new(&root).unwrap();
        let mut cache = FileCache::new();
        let t0 = Instant::now();
        let body = |cache: &mut FileCache, path: &str, at: Instant| match cache
            .respond(&files, &Method::GET, path, &HeaderMap::new(), at)
            .body
        {
            BodySource::Bytes(b) => b,
            other => panic!("{path}: {other:?}"),
        };
        for (path, want) in [
            ("/a.txt", &b"aaa"[..]),
            ("/a.txt", b"aaa"),
            ("/b.txt", b"bbbb"),
            ("/b.txt", b"bbbb"),
            ("/a.txt", b"aaa"),
            ("/b.txt", b"bbbb"),
        ] {
            assert_eq!(body(&mut cache, path, t0), want, "{path}");
        }
        // Renewed after the TTL with new contents, in place.
        std::fs::write(root.join("a.txt"), b"AAAAA").unwrap();
        let later = t0 + CACHE_TTL;
        assert_eq!(body(&mut cache, "/a.txt", later), &b"AAAAA"[..]);
        assert_eq!(body(&mut cache, "/b.txt", later), &b"bbbb"[..]);
        assert_eq!(body(&mut cache, "/a.txt", later), &b"AAAAA"[..]);
        assert_eq!(cache.len(), 2);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn ranges_and_conditionals_work_on_cached_bytes() {
        let root = temp_root("range");
        std::fs::write(root.join("b.txt"), b"0123456789").unwrap();
        let files = StaticFiles::new(&root).unwrap();
        let mut cache = FileCache::new();
        let now = Instant::now();
        let full = cache.respond(&files, &Method::GET, "/b.txt", &HeaderMap::new(), now);
        let etag = full.header("etag").unwrap().clone();
        let mut range = HeaderMap::new();
        range.insert(header::RANGE, HeaderValue::from_static("bytes=2-4"));
        let partial = cache.respond(&files, &Method::GET, "/b.txt", &range, now);
        assert_eq!(partial.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            partial.body,
            BodySource::Bytes(bytes::Bytes::from_static(b"234"))
        );
        let mut cond = HeaderMap::new();
        cond.insert(header::IF_NONE_MATCH, etag);
        let not_modified = cache.respond(&files, &Method::GET, "/b.txt", &cond, now);
        assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
        // Refusals are cached answers too.
        let refused = cache.respond(
            &files,
            &Method::GET,
            "/../etc/passwd",
            &HeaderMap::new(),
            now,
        );
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(cache.len(), 2);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn large_files_are_not_kept_in_memory_and_the_cache_is_bounded() {
        let root = temp_root("big");
        std::fs::write(root.join("big.bin"), vec![7u8; CACHE_MAX_FILE as usize + 1]).unwrap();
        let files = StaticFiles::new(&root).unwrap();
        let mut cache = FileCache::new();
        let now = Instant::now();
        let big = cache.respond(&files, &Method::GET, "/big.bin", &HeaderMap::new(), now);
        assert!(
            matches!(big.body, BodySource::File { .. }),
            "{:?}",
            big.body
        );
        assert_eq!(cache.bytes, 0);
        for i in 0..CACHE_MAX_ENTRIES + 10 {
            cache.respond(
                &files,
                &Method::GET,
                &format!("/missing-{i}"),
                &HeaderMap::new(),
                now,
            );
        }
        assert!(cache.len() <= CACHE_MAX_ENTRIES);
        let _ = std::fs::remove_dir_all(&root);
    }
}
