//! File I/O that never blocks the core. A core runs every connection it accepted, so one
//! `open` or `read` that waits on a slow disk, a network file system or a leased file would
//! stall all of them (Go runs each request on its own goroutine; we have one thread).
//!
//! - Path resolution (`realpath`, `stat`) cannot go through io_uring; it runs on the
//!   core's blocking thread (glommio's `spawn_blocking`: one thread per executor, pinned
//!   to the core's CPU, sleeping while a call blocks), which the request's task awaits.
//! - Files are opened, read and closed through io_uring (glommio's `BufferedFile`): a
//!   read that misses the page cache, or an `open` that has to wait, is punted by the
//!   kernel to its io-wq workers, and the core serves other requests meanwhile. The
//!   kernel reads straight into the memory the response's `Bytes` own (no copy out of a
//!   glommio buffer).
//! - A streamed response keeps one descriptor for its whole length and reads the next
//!   piece while the current one is being sent.

use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_lite::future::zip;
use glommio::io::BufferedFile;

use super::{locate, Located, StaticFiles, Target};
use crate::service::BodyWriter;

/// Bytes read and handed to the stream at a time. Equal to the default per-stream send
/// buffer: with the one piece read ahead, a stream stalled by a client that never opens
/// its window holds at most about three pieces (CVE-2019-9517).
pub(crate) const FILE_CHUNK: u64 = 64 * 1024;

/// [`locate`] on the core's blocking thread: the request's task waits, the core does not.
pub(crate) async fn locate_off_core(files: &StaticFiles, path: &str) -> Located {
    match files.target(path) {
        Target::Located(located) => located,
        Target::Root(root, relative, dir_slash) => {
            glommio::executor()
                .spawn_blocking(move || locate(&root, &relative, dir_slash))
                .await
        }
    }
}

/// Reads `len` bytes of the file at `path` from `offset`: open, read, close, each through
/// io_uring. Fails if the file ends before `len` bytes (it shrank since its `stat`).
pub(crate) async fn read_range(path: &Path, offset: u64, len: u64) -> io::Result<Bytes> {
    let file = BufferedFile::open(path).await.map_err(io::Error::from)?;
    let read = read_piece(&file, offset, len).await;
    let _ = file.close().await;
    let bytes = read?;
    if (bytes.len() as u64) < len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(bytes)
}

/// Up to `len` bytes at `offset` (fewer at the end of the file, none past it), read by
/// the kernel straight into the memory the `Bytes` then owns (`BufferedFile::read_into`,
/// the fork's change 17: no copy out of a glommio buffer). Short reads are continued.
async fn read_piece(file: &BufferedFile, offset: u64, len: u64) -> io::Result<Bytes> {
    let want = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut buf = Vec::with_capacity(want);
    while buf.len() < want {
        let before = buf.len();
        buf = file
            .read_into(offset + before as u64, buf)
            .await
            .map_err(io::Error::from)?;
        if buf.len() == before {
            break;
        }
    }
    // `with_capacity` may give more room than asked, and the read fills all of it.
    buf.truncate(want);
    Ok(Bytes::from(buf))
}

/// Streams `len` bytes of `path` from `offset` into `writer` in [`FILE_CHUNK`] pieces,
/// through one descriptor, reading each piece while the one before is sent. A file that
/// cannot be opened, or ends before `len` bytes, resets the stream (its `content-length`
/// promised more); a client that goes away ends the task.
pub(crate) async fn stream_file(path: PathBuf, offset: u64, len: u64, mut writer: BodyWriter) {
    let Ok(file) = BufferedFile::open(&path).await else {
        writer.abort();
        return;
    };
    let end = offset.saturating_add(len);
    let piece = |at: u64| read_piece(&file, at, FILE_CHUNK.min(end - at));
    let mut at = offset;
    let mut current = piece(at).await;
    let complete = loop {
        let chunk = match current {
            Ok(chunk) if !chunk.is_empty() => chunk,
            _ => break false,
        };
        at += chunk.len() as u64;
        if at >= end {
            break writer.send(chunk).await.is_ok();
        }
        // The next read runs in the kernel while this piece waits for window.
        let (sent, next) = zip(writer.send(chunk), piece(at)).await;
        if sent.is_err() {
            // The client went away or reset the stream: nothing more to send.
            let _ = file.close().await;
            return;
        }
        current = next;
    };
    let _ = file.close().await;
    if complete {
        let _ = writer.finish().await;
    } else {
        writer.abort();
    }
}
