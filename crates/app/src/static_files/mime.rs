//! Content types by file extension: a small built-in table.

/// Content type for files whose extension is not in the table.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

const TABLE: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("txt", "text/plain; charset=utf-8"),
    ("md", "text/markdown; charset=utf-8"),
    ("xml", "application/xml"),
    ("csv", "text/csv; charset=utf-8"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("svg", "image/svg+xml"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("ico", "image/x-icon"),
    ("wasm", "application/wasm"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("pdf", "application/pdf"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("mp3", "audio/mpeg"),
    ("ogg", "audio/ogg"),
    ("wav", "audio/wav"),
];

/// The content type for `path`, by its extension (case-insensitive).
pub fn content_type_for(path: &std::path::Path) -> &'static str {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return DEFAULT_CONTENT_TYPE;
    };
    TABLE
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(ext))
        .map(|(_, ty)| *ty)
        .unwrap_or(DEFAULT_CONTENT_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn known_extensions_map_to_their_types() {
        let cases = [
            ("a.html", "text/html; charset=utf-8"),
            ("a.CSS", "text/css; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("d.json", "application/json"),
            ("i.png", "image/png"),
            ("i.JPG", "image/jpeg"),
            ("i.svg", "image/svg+xml"),
            ("m.wasm", "application/wasm"),
            ("f.woff2", "font/woff2"),
            ("v.mp4", "video/mp4"),
            ("x.pdf", "application/pdf"),
        ];
        for (name, ty) in cases {
            assert_eq!(content_type_for(Path::new(name)), ty, "{name}");
        }
    }

    #[test]
    fn unknown_or_missing_extension_is_octet_stream() {
        assert_eq!(
            content_type_for(Path::new("Makefile")),
            DEFAULT_CONTENT_TYPE
        );
        assert_eq!(
            content_type_for(Path::new("x.unknown")),
            DEFAULT_CONTENT_TYPE
        );
        assert_eq!(content_type_for(Path::new(".html")), DEFAULT_CONTENT_TYPE);
    }
}
