//! Content types by file extension: `mime_guess`'s table (about 1 300 extensions, from
//! the Apache and nginx lists), with a few corrections, and `charset=utf-8` on text.
//!
//! Text types say `charset=utf-8` because a browser otherwise guesses the encoding of a
//! text response (RFC 9110 §8.3.2 leaves the default to the media type, and for most
//! `text/*` types it is US-ASCII or a sniff): the files a web server serves are UTF-8.

use http::HeaderValue;

/// Content type for files whose extension is in no table.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Where the de facto type differs from `mime_guess`'s first guess, or `mime_guess` has
/// none. Checked first.
const OVERRIDES: &[(&str, &str)] = &[
    // RFC 9239 §6: text/javascript is the one JavaScript type (mime_guess: application/).
    ("mjs", "text/javascript; charset=utf-8"),
    ("cjs", "text/javascript; charset=utf-8"),
    // Source maps are JSON (mime_guess: text/plain).
    ("map", "application/json"),
    // RFC 8216 §4: HLS playlists (mime_guess: audio/x-mpegurl).
    ("m3u8", "application/vnd.apple.mpegurl"),
    // ISO BMFF media segments of DASH and HLS (IANA: video/iso.segment); mime_guess has none.
    ("m4s", "video/iso.segment"),
    // RFC 7303 §4.1: application/xml is preferred to text/xml (mime_guess: text/xml).
    ("xml", "application/xml"),
    ("ico", "image/x-icon"),
];

/// The content type for `path`, by its extension (case-insensitive).
pub fn content_type_for(path: &std::path::Path) -> HeaderValue {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return HeaderValue::from_static(DEFAULT_CONTENT_TYPE);
    };
    if let Some((_, ty)) = OVERRIDES.iter().find(|(e, _)| e.eq_ignore_ascii_case(ext)) {
        return HeaderValue::from_static(ty);
    }
    let Some(guess) = mime_guess::from_ext(ext).first_raw() else {
        return HeaderValue::from_static(DEFAULT_CONTENT_TYPE);
    };
    if guess.starts_with("text/") {
        // Made once per file resolution (the file cache keeps it), not per request.
        return HeaderValue::from_str(&format!("{guess}; charset=utf-8"))
            .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
    }
    HeaderValue::from_static(guess)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn known_extensions_map_to_their_types() {
        let cases = [
            ("a.html", "text/html; charset=utf-8"),
            ("a.htm", "text/html; charset=utf-8"),
            ("a.CSS", "text/css; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("app.mjs", "text/javascript; charset=utf-8"),
            ("a.txt", "text/plain; charset=utf-8"),
            ("a.md", "text/markdown; charset=utf-8"),
            ("a.csv", "text/csv; charset=utf-8"),
            ("d.json", "application/json"),
            ("d.xml", "application/xml"),
            ("i.png", "image/png"),
            ("i.JPG", "image/jpeg"),
            ("i.svg", "image/svg+xml"),
            ("i.ico", "image/x-icon"),
            ("m.wasm", "application/wasm"),
            ("f.woff2", "font/woff2"),
            ("v.mp4", "video/mp4"),
            ("x.pdf", "application/pdf"),
            ("site.webmanifest", "application/manifest+json"),
            ("app.js.map", "application/json"),
            ("live.m3u8", "application/vnd.apple.mpegurl"),
            ("seg-1.m4s", "video/iso.segment"),
            ("i.avif", "image/avif"),
            ("i.webp", "image/webp"),
            ("a.ics", "text/calendar; charset=utf-8"),
        ];
        for (name, ty) in cases {
            assert_eq!(content_type_for(Path::new(name)), ty, "{name}");
        }
    }

    #[test]
    fn unknown_or_missing_extension_is_octet_stream() {
        for name in ["Makefile", "x.unknown", ".html", "x.", "x.\u{e9}"] {
            assert_eq!(
                content_type_for(Path::new(name)),
                DEFAULT_CONTENT_TYPE,
                "{name}"
            );
        }
    }
}
