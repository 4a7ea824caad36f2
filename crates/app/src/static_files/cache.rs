//! A per-core cache of what request paths resolve to, so a busy static site does not pay
//! a `realpath`, a `stat`, an `open` and a `read` per request (nginx's open_file_cache,
//! h2o's file cache). Entries live [`CACHE_TTL`]; changes on disk show within that time.
//! Small files keep their bytes, served as zero-copy slices, and keep them across
//! revalidations while the file is unchanged. Per core and `!Send`: no lock. A hit is
//! answered at once; a miss waits for the file system off the core (see `file_io`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use http::{HeaderMap, Method};

use super::file_io::{locate_off_core, read_range};
use super::{Resolved, ResolvedFile, StaticFiles, StaticResponse};

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

/// [`FileCache::fresh`], else the path resolved afresh (off the core, see `file_io`),
/// stored and answered. The cache is borrowed only between the waits.
pub async fn respond(
    files: &StaticFiles,
    cache: &RefCell<FileCache>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    now: Instant,
) -> StaticResponse {
    if let Some(answer) = cache.borrow_mut().fresh(files, method, path, headers, now) {
        return answer;
    }
    let stale = cache.borrow_mut().stale_contents(path);
    let resolved = load(files, path, stale).await;
    let mut cache = cache.borrow_mut();
    serve(cache.insert(path, resolved, now), files, method, headers)
}

/// Resolves `path` afresh. A small file that `stale` already holds and that is
/// unchanged on disk (same path, size, modification time and inode: its ETag) keeps the
/// bytes read before: revalidating a busy page once per TTL costs a `stat`, not an `open`
/// and a `read` of the whole file.
async fn load(files: &StaticFiles, path: &str, stale: Option<ResolvedFile>) -> Resolved {
    match locate_off_core(files, path).await.into_resolved(path) {
        Resolved::File(file) if file.len() <= CACHE_MAX_FILE => {
            if let Some(earlier) = stale {
                if file.unchanged_since(&earlier) {
                    return Resolved::File(earlier);
                }
            }
            match read_range(file.path(), 0, file.len()).await {
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

    /// The answer when it needs no file system: a method other than GET/HEAD, or a path
    /// resolved less than [`CACHE_TTL`] ago. `None`: resolve it (see [`respond`]).
    pub fn fresh(
        &mut self,
        files: &StaticFiles,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        now: Instant,
    ) -> Option<StaticResponse> {
        if method != Method::GET && method != Method::HEAD {
            return Some(super::method_not_allowed());
        }
        let at = self.find(path)?;
        let entry = &self.entries[at];
        (now.saturating_duration_since(entry.at) < CACHE_TTL)
            .then(|| serve(&entry.resolved, files, method, headers))
    }

    /// The cached small file at `path` with its bytes, to keep them if it is unchanged.
    fn stale_contents(&mut self, path: &str) -> Option<ResolvedFile> {
        let at = self.find(path)?;
        match &self.entries[at].resolved {
            Resolved::File(file) if file.contents.is_some() => Some(file.clone()),
            _ => None,
        }
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
    use bytes::Bytes;
    use http::{header, HeaderValue, StatusCode};
    use std::future::Future;

    fn temp_root(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("h2ring-cache-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Runs `test` on a glommio executor: the cache resolves on its blocking thread and
    /// reads through its io_uring, as on a server core.
    fn on_core<F: Future<Output = ()>>(test: impl FnOnce() -> F) {
        glommio::LocalExecutorBuilder::default()
            .make()
            .unwrap()
            .run(test());
    }

    async fn get_with(
        cache: &RefCell<FileCache>,
        files: &StaticFiles,
        path: &str,
        headers: &HeaderMap,
        at: Instant,
    ) -> StaticResponse {
        respond(files, cache, &Method::GET, path, headers, at).await
    }

    async fn get(
        cache: &RefCell<FileCache>,
        files: &StaticFiles,
        path: &str,
        at: Instant,
    ) -> StaticResponse {
        get_with(cache, files, path, &HeaderMap::new(), at).await
    }

    /// The body of a GET answered from memory.
    async fn cached_body(
        cache: &RefCell<FileCache>,
        files: &StaticFiles,
        path: &str,
        at: Instant,
    ) -> Bytes {
        match get(cache, files, path, at).await.body {
            BodySource::Bytes(b) => b,
            other => panic!("{path}: not from memory: {other:?}"),
        }
    }

    #[test]
    fn a_cached_file_is_served_from_memory_until_the_ttl_passes() {
        on_core(|| async {
            let root = temp_root("ttl");
            std::fs::write(root.join("a.txt"), b"hello cache").unwrap();
            let files = StaticFiles::new(&root).unwrap();
            let cache = RefCell::new(FileCache::new());
            let t0 = Instant::now();
            let first = get(&cache, &files, "/a.txt", t0).await;
            assert_eq!(first.status, StatusCode::OK);
            assert_eq!(
                first.body,
                BodySource::Bytes(Bytes::from_static(b"hello cache"))
            );
            // The file goes away; within the TTL the cache still answers without the disk.
            std::fs::remove_file(root.join("a.txt")).unwrap();
            let again = cache.borrow_mut().fresh(
                &files,
                &Method::GET,
                "/a.txt",
                &HeaderMap::new(),
                t0 + CACHE_TTL / 2,
            );
            assert_eq!(again.map(|r| r.status), Some(StatusCode::OK));
            // After the TTL the file system is asked again.
            let later = get(&cache, &files, "/a.txt", t0 + CACHE_TTL).await;
            assert_eq!(later.status, StatusCode::NOT_FOUND);
            let _ = std::fs::remove_dir_all(&root);
        });
    }

    /// Revalidation after the TTL reads a file again only when it changed: an unchanged
    /// file keeps the very bytes read before (no `open`/`read` once per TTL per busy
    /// path), a rewritten one is read afresh.
    #[test]
    fn revalidation_rereads_only_a_changed_file() {
        on_core(|| async {
            let root = temp_root("reval");
            let file = root.join("page.html");
            std::fs::write(&file, b"first version").unwrap();
            let files = StaticFiles::new(&root).unwrap();
            let cache = RefCell::new(FileCache::new());
            let t0 = Instant::now();
            let first = cached_body(&cache, &files, "/page.html", t0).await;
            let revalidated = cached_body(&cache, &files, "/page.html", t0 + CACHE_TTL).await;
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
            let after_change = cached_body(&cache, &files, "/page.html", t0 + CACHE_TTL * 2).await;
            assert_eq!(&after_change[..], b"other version");
            let _ = std::fs::remove_dir_all(&root);
        });
    }

    /// The last-path shortcut answers for the path it remembers only: alternating and
    /// renewed paths each get their own bytes.
    #[test]
    fn each_path_gets_its_own_entry_through_the_last_path_shortcut() {
        on_core(|| async {
            let root = temp_root("last");
            std::fs::write(root.join("a.txt"), b"aaa").unwrap();
            std::fs::write(root.join("b.txt"), b"bbbb").unwrap();
            let files = StaticFiles::new(&root).unwrap();
            let cache = RefCell::new(FileCache::new());
            let t0 = Instant::now();
            for (path, want) in [
                ("/a.txt", &b"aaa"[..]),
                ("/a.txt", b"aaa"),
                ("/b.txt", b"bbbb"),
                ("/b.txt", b"bbbb"),
                ("/a.txt", b"aaa"),
                ("/b.txt", b"bbbb"),
            ] {
                assert_eq!(cached_body(&cache, &files, path, t0).await, want, "{path}");
            }
            // Renewed after the TTL with new contents, in place.
            std::fs::write(root.join("a.txt"), b"AAAAA").unwrap();
            let later = t0 + CACHE_TTL;
            for (path, want) in [
                ("/a.txt", &b"AAAAA"[..]),
                ("/b.txt", b"bbbb"),
                ("/a.txt", b"AAAAA"),
            ] {
                assert_eq!(
                    cached_body(&cache, &files, path, later).await,
                    want,
                    "{path}"
                );
            }
            assert_eq!(cache.borrow().len(), 2);
            let _ = std::fs::remove_dir_all(&root);
        });
    }

    #[test]
    fn ranges_and_conditionals_work_on_cached_bytes() {
        on_core(|| async {
            let root = temp_root("range");
            std::fs::write(root.join("b.txt"), b"0123456789").unwrap();
            let files = StaticFiles::new(&root).unwrap();
            let cache = RefCell::new(FileCache::new());
            let now = Instant::now();
            let full = get(&cache, &files, "/b.txt", now).await;
            let etag = full.header("etag").unwrap().clone();
            let mut range = HeaderMap::new();
            range.insert(header::RANGE, HeaderValue::from_static("bytes=2-4"));
            let partial = get_with(&cache, &files, "/b.txt", &range, now).await;
            assert_eq!(partial.status, StatusCode::PARTIAL_CONTENT);
            assert_eq!(partial.body, BodySource::Bytes(Bytes::from_static(b"234")));
            let mut cond = HeaderMap::new();
            cond.insert(header::IF_NONE_MATCH, etag);
            let not_modified = get_with(&cache, &files, "/b.txt", &cond, now).await;
            assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
            // Refusals are cached answers too.
            let refused = get(&cache, &files, "/../etc/passwd", now).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN);
            assert_eq!(cache.borrow().len(), 2);
            let _ = std::fs::remove_dir_all(&root);
        });
    }

    #[test]
    fn large_files_are_not_kept_in_memory_and_the_cache_is_bounded() {
        on_core(|| async {
            let root = temp_root("big");
            std::fs::write(root.join("big.bin"), vec![7u8; CACHE_MAX_FILE as usize + 1]).unwrap();
            let files = StaticFiles::new(&root).unwrap();
            let cache = RefCell::new(FileCache::new());
            let now = Instant::now();
            let big = get(&cache, &files, "/big.bin", now).await;
            assert!(
                matches!(big.body, BodySource::File { .. }),
                "{:?}",
                big.body
            );
            assert_eq!(cache.borrow().bytes, 0);
            for i in 0..CACHE_MAX_ENTRIES + 10 {
                get(&cache, &files, &format!("/missing-{i}"), now).await;
            }
            assert!(cache.borrow().len() <= CACHE_MAX_ENTRIES);
            let _ = std::fs::remove_dir_all(&root);
        });
    }
}
