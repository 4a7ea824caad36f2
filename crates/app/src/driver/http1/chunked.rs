//! The chunked transfer coding (RFC 9112 §7.1): an incremental request-body decoder (with
//! trailers) and the response-side encoding helpers.

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::parse::MAX_HEAD_BYTES;

/// Longest chunk-size line (size, extensions, CRLF) accepted.
pub const MAX_CHUNK_LINE: usize = 1024;

/// One step of decoded body.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// Body octets.
    Data(Bytes),
    /// The last chunk, with trailers if any were sent.
    End(Option<HeaderMap>),
}

/// The body is malformed: answer 400 and close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkError(pub &'static str);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    Done,
}

/// Incremental chunked decoder.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder { state: State::Size }
    }
}

/// Position of the CRLF ending the first line of `buf`; a bare LF is an error.
fn line_end(buf: &[u8], limit: usize) -> Result<Option<usize>, ChunkError> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(0) => Err(ChunkError("bare LF in chunked body")),
        Some(i) if buf[i - 1] != b'\r' => Err(ChunkError("bare LF in chunked body")),
        Some(i) if i > limit => Err(ChunkError("chunk line too long")),
        Some(i) => Ok(Some(i - 1)),
        None if buf.len() > limit => Err(ChunkError("chunk line too long")),
        None => Ok(None),
    }
}

fn parse_size(line: &[u8]) -> Result<u64, ChunkError> {
    // chunk-ext is ignored (RFC 9112 §7.1.1), but the size must be 1*HEXDIG.
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let digits = line[..end].strip_suffix(b" ").unwrap_or(&line[..end]);
    if digits.is_empty() || digits.len() > 16 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(ChunkError("invalid chunk size"));
    }
    let text = std::str::from_utf8(digits).map_err(|_| ChunkError("invalid chunk size"))?;
    u64::from_str_radix(text, 16).map_err(|_| ChunkError("invalid chunk size"))
}

impl ChunkedDecoder {
    /// True once the last chunk and trailers were read.
    #[cfg(test)]
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes the next piece from the front of `buf`; `Ok(None)` when more input is
    /// needed. At most `max` data octets are returned at once.
    pub fn decode(&mut self, buf: &mut BytesMut, max: usize) -> Result<Option<Piece>, ChunkError> {
        loop {
            match self.state {
                State::Size => {
                    let Some(end) = line_end(buf, MAX_CHUNK_LINE)? else {
                        return Ok(None);
                    };
                    let size = parse_size(&buf[..end])?;
                    let _ = buf.split_to(end + 2);
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(left) => {
                    if buf.is_empty() || max == 0 {
                        return Ok(None);
                    }
                    let take = (buf.len() as u64).min(left).min(max as u64) as usize;
                    let data = buf.split_to(take).freeze();
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    return Ok(Some(Piece::Data(data)));
                }
                State::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(None);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(ChunkError("chunk data not followed by CRLF"));
                    }
                    let _ = buf.split_to(2);
                    self.state = State::Size;
                }
                State::Trailers => return self.trailers(buf),
                State::Done => return Ok(None),
            }
        }
    }

    /// Reads the trailer section up to its empty line.
    fn trailers(&mut self, buf: &mut BytesMut) -> Result<Option<Piece>, ChunkError> {
        let mut at = 0;
        let mut fields = HeaderMap::new();
        loop {
            let Some(end) = line_end(&buf[at..], MAX_HEAD_BYTES)? else {
                if buf.len() > MAX_HEAD_BYTES {
                    return Err(ChunkError("trailer section too large"));
                }
                return Ok(None);
            };
            let line = &buf[at..at + end];
            at += end + 2;
            if line.is_empty() {
                break;
            }
            let (name, value) = split_field(line)?;
            fields.append(name, value);
        }
        let _ = buf.split_to(at);
        self.state = State::Done;
        Ok(Some(Piece::End((!fields.is_empty()).then_some(fields))))
    }
}

fn split_field(line: &[u8]) -> Result<(HeaderName, HeaderValue), ChunkError> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(ChunkError("malformed trailer field"))?;
    let name = HeaderName::from_bytes(&line[..colon])
        .map_err(|_| ChunkError("malformed trailer field"))?;
    let value = line[colon + 1..].trim_ascii();
    let value =
        HeaderValue::from_bytes(value).map_err(|_| ChunkError("malformed trailer field"))?;
    Ok((name, value))
}

/// Appends one chunk (`data` must not be empty).
pub fn encode_chunk(out: &mut BytesMut, data: &[u8]) {
    out.put_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

/// Appends the last chunk, with `trailers` if given.
pub fn encode_last(out: &mut BytesMut, trailers: Option<&HeaderMap>) {
    out.put_slice(b"0\r\n");
    for (name, value) in trailers.into_iter().flatten() {
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], split: usize) -> Result<(Vec<u8>, Option<HeaderMap>), ChunkError> {
        let mut dec = ChunkedDecoder::default();
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        for part in input.chunks(split) {
            buf.extend_from_slice(part);
            while let Some(piece) = dec.decode(&mut buf, 1 << 20)? {
                match piece {
                    Piece::Data(d) => body.extend_from_slice(&d),
                    Piece::End(t) => {
                        assert!(dec.is_done());
                        return Ok((body, t));
                    }
                }
            }
        }
        Err(ChunkError("incomplete"))
    }

    #[test]
    fn decodes_in_any_split() {
        let input = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 9\r\n\r\n";
        for split in 1..input.len() {
            let (body, trailers) = decode_all(input, split).unwrap();
            assert_eq!(body, b"hello world");
            assert_eq!(trailers.unwrap()["x-sum"], "9");
        }
        let (body, trailers) = decode_all(b"A\r\n0123456789\r\n0\r\n\r\n", 3).unwrap();
        assert_eq!(body, b"0123456789");
        assert!(trailers.is_none());
    }

    #[test]
    fn rejects_malformed_bodies() {
        for bad in [
            &b"5\nhello\r\n0\r\n\r\n"[..],
            b"5\r\nhelloXX0\r\n\r\n",
            b"-5\r\nhello\r\n0\r\n\r\n",
            b"g\r\n",
            b"\r\n",
            b"11111111111111111\r\n",
            b"0\r\nbad trailer\r\n\r\n",
        ] {
            assert!(
                decode_all(bad, 64).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn encodes() {
        let mut out = BytesMut::new();
        encode_chunk(&mut out, b"hello world, 26 octets lng");
        let mut t = HeaderMap::new();
        t.insert("x-sum", HeaderValue::from_static("1"));
        encode_last(&mut out, Some(&t));
        assert_eq!(
            &out[..],
            b"1a\r\nhello world, 26 octets lng\r\n0\r\nx-sum: 1\r\n\r\n"
        );
    }
}
