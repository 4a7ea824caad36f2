//! One access-log line, formatted straight into a core's buffer: Common Log Format,
//! Combined (CLF plus referer and user agent, as Apache and nginx write them) or one JSON
//! object per line. No allocation: numbers and the time are written from stack arrays,
//! and the time is formatted once per second ([`Clock`]).

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use http::{Method, Uri, Version};

use super::AccessLogFormat;

/// What one line says.
pub(crate) struct Line<'a> {
    pub(crate) peer: IpAddr,
    pub(crate) method: &'a Method,
    pub(crate) target: &'a Uri,
    pub(crate) version: Version,
    pub(crate) status: u16,
    pub(crate) body_bytes: u64,
    pub(crate) referer: Option<&'a [u8]>,
    pub(crate) user_agent: Option<&'a [u8]>,
    pub(crate) duration: Duration,
}

impl Line<'_> {
    /// An upper bound of the octets this line takes, so the buffer can be handed off
    /// before a line that would make it grow.
    pub(crate) fn max_len(&self) -> usize {
        // Escaping turns one octet into at most six (`\u00XX`).
        let escaped = |n: usize| n * 6;
        let target = request_target(self.target).len();
        256 + escaped(self.method.as_str().len() + target)
            + escaped(self.referer.map_or(0, <[u8]>::len))
            + escaped(self.user_agent.map_or(0, <[u8]>::len))
    }
}

/// The wall-clock second of this core's lines, formatted once per second, and the last
/// client address formatted (a connection's requests come in runs).
pub(crate) struct Clock {
    peer: Option<IpAddr>,
    /// `peer` as text: an IPv6 address takes at most 39 octets, 45 with an IPv4 tail.
    peer_text: [u8; 48],
    peer_len: usize,
    /// When the formatted second ends, on the monotonic clock.
    until: Option<Instant>,
    /// `10/Oct/2000:13:55:36 +0000` (CLF's `%t`, always UTC).
    clf: [u8; 26],
    /// `2000-10-10T13:55:36Z` (RFC 3339).
    rfc3339: [u8; 20],
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            peer: None,
            peer_text: [0; 48],
            peer_len: 0,
            until: None,
            clf: [b'0'; 26],
            rfc3339: [b'0'; 20],
        }
    }

    /// Formats the current second if `now` is past the one formatted.
    fn refresh(&mut self, now: Instant) {
        if self.until.is_some_and(|until| now < until) {
            return;
        }
        let since_epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        self.set(since_epoch.as_secs());
        let into_second = Duration::from_nanos(u64::from(since_epoch.subsec_nanos()));
        self.until = Some(now + (Duration::from_secs(1) - into_second));
    }

    /// `ip` as text, formatted only when it differs from the last one.
    fn peer(&mut self, ip: IpAddr) -> &[u8] {
        if self.peer != Some(ip) {
            let mut cursor = std::io::Cursor::new(&mut self.peer_text[..]);
            write_ip(&mut cursor, ip);
            self.peer_len = cursor.position() as usize;
            self.peer = Some(ip);
        }
        &self.peer_text[..self.peer_len]
    }

    fn set(&mut self, unix: u64) {
        let (year, month, day) = civil_from_days((unix / 86_400) as i64);
        let secs = unix % 86_400;
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        const MONTHS: [&[u8; 3]; 12] = [
            b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
            b"Dec",
        ];
        let two = |n: u64| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
        let y = year.clamp(0, 9999) as u64;
        let four = [
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
        ];
        let c = &mut self.clf;
        c[0..2].copy_from_slice(&two(day));
        c[2] = b'/';
        c[3..6].copy_from_slice(MONTHS[(month - 1) as usize]);
        c[6] = b'/';
        c[7..11].copy_from_slice(&four);
        c[11] = b':';
        c[12..14].copy_from_slice(&two(h));
        c[14] = b':';
        c[15..17].copy_from_slice(&two(m));
        c[17] = b':';
        c[18..20].copy_from_slice(&two(s));
        c[20..26].copy_from_slice(b" +0000");
        let r = &mut self.rfc3339;
        r[0..4].copy_from_slice(&four);
        r[4] = b'-';
        r[5..7].copy_from_slice(&two(month));
        r[7] = b'-';
        r[8..10].copy_from_slice(&two(day));
        r[10] = b'T';
        r[11..13].copy_from_slice(&two(h));
        r[13] = b':';
        r[14..16].copy_from_slice(&two(m));
        r[16] = b':';
        r[17..19].copy_from_slice(&two(s));
        r[19] = b'Z';
    }
}

/// Year, month (1..=12), day (1..=31) of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The request-target as the request line carried it (RFC 9112 §3.2): path and query
/// (origin form, and what an HTTP/2 request's `:path` holds), else the authority
/// (CONNECT).
fn request_target(uri: &Uri) -> &str {
    match uri.path_and_query() {
        Some(pq) => pq.as_str(),
        None => uri.authority().map_or("-", |a| a.as_str()),
    }
}

/// How the protocol is named in the request line (`HTTP/2.0` as Apache and nginx log it).
fn protocol_name(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "-",
    }
}

/// Appends `line` to `buf` in `format`, with the time of `now` (from `clock`).
pub(crate) fn write_line(
    buf: &mut Vec<u8>,
    clock: &mut Clock,
    now: Instant,
    format: AccessLogFormat,
    line: &Line<'_>,
) {
    clock.refresh(now);
    if format == AccessLogFormat::Json {
        buf.extend_from_slice(b"{\"remote_addr\":\"");
    }
    buf.extend_from_slice(clock.peer(line.peer));
    match format {
        AccessLogFormat::Common => write_clf(buf, clock, line, false),
        AccessLogFormat::Combined => write_clf(buf, clock, line, true),
        AccessLogFormat::Json => write_json(buf, clock, line),
    }
    buf.push(b'\n');
}

/// `%h - - [%t] "%r" %>s %b`, then ` "%{Referer}i" "%{User-agent}i"` for Combined. The
/// body size is written as a number, 0 included (nginx's `$body_bytes_sent`).
/// After the client address.
fn write_clf(buf: &mut Vec<u8>, clock: &Clock, line: &Line<'_>, combined: bool) {
    buf.extend_from_slice(b" - - [");
    buf.extend_from_slice(&clock.clf);
    buf.extend_from_slice(b"] \"");
    clf_escaped(buf, line.method.as_str().as_bytes());
    buf.push(b' ');
    clf_escaped(buf, request_target(line.target).as_bytes());
    buf.push(b' ');
    buf.extend_from_slice(protocol_name(line.version).as_bytes());
    buf.extend_from_slice(b"\" ");
    push_u64(buf, u64::from(line.status));
    buf.push(b' ');
    push_u64(buf, line.body_bytes);
    if combined {
        for field in [line.referer, line.user_agent] {
            buf.extend_from_slice(b" \"");
            match field {
                Some(value) => clf_escaped(buf, value),
                None => buf.push(b'-'),
            }
            buf.push(b'"');
        }
    }
}

/// After the client address, which is the first field's value.
fn write_json(buf: &mut Vec<u8>, clock: &Clock, line: &Line<'_>) {
    buf.extend_from_slice(b"\",\"time\":\"");
    buf.extend_from_slice(&clock.rfc3339);
    buf.extend_from_slice(b"\",\"method\":\"");
    json_escaped(buf, line.method.as_str().as_bytes());
    buf.extend_from_slice(b"\",\"target\":\"");
    json_escaped(buf, request_target(line.target).as_bytes());
    buf.extend_from_slice(b"\",\"protocol\":\"");
    buf.extend_from_slice(protocol_name(line.version).as_bytes());
    buf.extend_from_slice(b"\",\"status\":");
    push_u64(buf, u64::from(line.status));
    buf.extend_from_slice(b",\"body_bytes\":");
    push_u64(buf, line.body_bytes);
    buf.extend_from_slice(b",\"duration_us\":");
    push_u64(
        buf,
        u64::try_from(line.duration.as_micros()).unwrap_or(u64::MAX),
    );
    for (name, field) in [
        (&b",\"referer\":"[..], line.referer),
        (&b",\"user_agent\":"[..], line.user_agent),
    ] {
        buf.extend_from_slice(name);
        match field {
            Some(value) => {
                buf.push(b'"');
                json_escaped(buf, value);
                buf.push(b'"');
            }
            None => buf.extend_from_slice(b"null"),
        }
    }
    buf.push(b'}');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// As nginx escapes a log field: `"`, `\`, controls and octets above 0x7e become `\xHH`,
/// so a client cannot end a field or forge a line.
fn clf_escaped(buf: &mut Vec<u8>, value: &[u8]) {
    let clean = |b: &u8| *b != b'"' && *b != b'\\' && (0x20..0x7f).contains(b);
    // Most values need no escape: one copy for the run before the first that does.
    let run = value.iter().position(|b| !clean(b)).unwrap_or(value.len());
    buf.extend_from_slice(&value[..run]);
    for &b in &value[run..] {
        if !clean(&b) {
            buf.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
        } else {
            buf.push(b);
        }
    }
}

/// A JSON string's content (RFC 8259 §7): `"` and `\` escaped, controls and every octet
/// above 0x7e written as `\u00XX`, each octet read as a Latin-1 character. Field values
/// are octets, not necessarily UTF-8 (RFC 9110 §5.5), and this keeps every line valid
/// JSON whatever the client sent.
fn json_escaped(buf: &mut Vec<u8>, value: &[u8]) {
    let clean = |b: &u8| *b != b'"' && *b != b'\\' && (0x20..0x7f).contains(b);
    let run = value.iter().position(|b| !clean(b)).unwrap_or(value.len());
    buf.extend_from_slice(&value[..run]);
    for &b in &value[run..] {
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            0x20..=0x7e => buf.push(b),
            _ => buf.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]),
        }
    }
}

fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[at..]);
}

/// Writes `ip` (an IPv4-mapped IPv6 address, from a dual-stack listener, as IPv4).
fn write_ip(out: &mut impl std::io::Write, ip: IpAddr) {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    // Formatted on the stack, into room enough for any address.
    let _ = write!(out, "{ip}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(method: &'a Method, target: &'a Uri) -> Line<'a> {
        Line {
            peer: "127.0.0.1".parse().unwrap(),
            method,
            target,
            version: Version::HTTP_2,
            status: 200,
            body_bytes: 1234,
            referer: Some(b"https://example.com/\"x\""),
            user_agent: Some(b"curl/8.5 \x01\xe9"),
            duration: Duration::from_micros(1500),
        }
    }

    fn formatted(format: AccessLogFormat, l: &Line<'_>) -> String {
        let mut clock = Clock::new();
        clock.set(971_186_136); // 2000-10-10T13:55:36Z, the Apache docs' example second.
        clock.until = Some(Instant::now() + Duration::from_secs(3600));
        let mut buf = Vec::new();
        write_line(&mut buf, &mut clock, Instant::now(), format, l);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn the_three_formats() {
        let (m, u) = (Method::GET, Uri::from_static("https://h/a%20b?q=1"));
        let l = line(&m, &u);
        assert_eq!(
            formatted(AccessLogFormat::Common, &l),
            "127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET /a%20b?q=1 HTTP/2.0\" 200 1234\n"
        );
        assert_eq!(
            formatted(AccessLogFormat::Combined, &l),
            "127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET /a%20b?q=1 HTTP/2.0\" 200 1234 \
             \"https://example.com/\\x22x\\x22\" \"curl/8.5 \\x01\\xe9\"\n"
        );
        assert_eq!(
            formatted(AccessLogFormat::Json, &l),
            "{\"remote_addr\":\"127.0.0.1\",\"time\":\"2000-10-10T13:55:36Z\",\"method\":\"GET\",\
             \"target\":\"/a%20b?q=1\",\"protocol\":\"HTTP/2.0\",\"status\":200,\"body_bytes\":1234,\
             \"duration_us\":1500,\"referer\":\"https://example.com/\\\"x\\\"\",\
             \"user_agent\":\"curl/8.5 \\u0001\\u00e9\"}\n"
        );
    }

    #[test]
    fn absent_fields_and_mapped_addresses() {
        let (m, u) = (Method::CONNECT, Uri::from_static("example.com:443"));
        let mut l = line(&m, &u);
        l.referer = None;
        l.user_agent = None;
        l.peer = "::ffff:10.1.2.3".parse().unwrap();
        l.version = Version::HTTP_11;
        l.body_bytes = 0;
        let combined = formatted(AccessLogFormat::Combined, &l);
        assert!(
            combined.starts_with("10.1.2.3 - - [")
                && combined.ends_with("\"CONNECT example.com:443 HTTP/1.1\" 200 0 \"-\" \"-\"\n"),
            "{combined}"
        );
        let json = formatted(AccessLogFormat::Json, &l);
        assert!(
            json.ends_with("\"referer\":null,\"user_agent\":null}\n"),
            "{json}"
        );
        assert!(l.max_len() >= json.len());
    }

    #[test]
    fn dates_across_the_calendar() {
        let mut clock = Clock::new();
        for (unix, clf, rfc) in [
            (0, "01/Jan/1970:00:00:00 +0000", "1970-01-01T00:00:00Z"),
            (
                951_782_400,
                "29/Feb/2000:00:00:00 +0000",
                "2000-02-29T00:00:00Z",
            ),
            (
                1_798_761_599,
                "31/Dec/2026:23:59:59 +0000",
                "2026-12-31T23:59:59Z",
            ),
        ] {
            clock.set(unix);
            assert_eq!(std::str::from_utf8(&clock.clf).unwrap(), clf);
            assert_eq!(std::str::from_utf8(&clock.rfc3339).unwrap(), rfc);
        }
    }
}
