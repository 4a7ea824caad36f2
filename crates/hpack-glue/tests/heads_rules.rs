//! One test per RFC 9113 §8 validation rule: a real HPACK block in, the exact `HeadError` out.

mod heads_support;

use h2ring_hpack::{reason, BlockKind, DecodedBlock, HeadDecoder, HeadError, HeadLimits};
use heads_support::*;

#[test]
fn missing_request_pseudo_headers() {
    let full = get_with(&[]);
    let without =
        |name: &str| -> Vec<_> { full.iter().copied().filter(|(n, _)| *n != name).collect() };
    assert_eq!(
        malformed(request(&without(":method"))),
        reason::MISSING_METHOD
    );
    assert_eq!(
        malformed(request(&without(":scheme"))),
        reason::MISSING_SCHEME
    );
    assert_eq!(malformed(request(&without(":path"))), reason::MISSING_PATH);
    // :authority is optional outside CONNECT.
    let head = request(&without(":authority")).unwrap();
    assert_eq!(head.authority, None);
}

#[test]
fn duplicate_pseudo_headers() {
    for (name, value) in [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/"),
    ] {
        let mut fields = get_with(&[]);
        fields.insert(4, (name, value));
        assert_eq!(
            malformed(request(&fields)),
            reason::DUPLICATE_PSEUDO,
            "{name}"
        );
    }
}

#[test]
fn pseudo_header_after_regular_field() {
    let fields = [
        (":method", "GET"),
        (":scheme", "https"),
        ("accept", "*/*"),
        (":path", "/"),
    ];
    assert_eq!(malformed(request(&fields)), reason::PSEUDO_AFTER_REGULAR);
}

#[test]
fn unknown_and_response_pseudo_headers() {
    let mut fields = get_with(&[]);
    fields.insert(1, (":foo", "bar"));
    assert_eq!(malformed(request(&fields)), reason::UNKNOWN_PSEUDO);
    let mut fields = get_with(&[]);
    fields.insert(1, (":status", "200"));
    assert_eq!(
        malformed(request(&fields)),
        reason::RESPONSE_PSEUDO_IN_REQUEST
    );
}

#[test]
fn path_rules() {
    let with_path = |method: &'static str, path: &'static str| {
        vec![(":method", method), (":scheme", "https"), (":path", path)]
    };
    assert_eq!(
        malformed(request(&with_path("GET", ""))),
        reason::EMPTY_PATH
    );
    assert_eq!(
        malformed(request(&with_path("GET", "index.html"))),
        reason::PATH_NOT_ABSOLUTE
    );
    assert_eq!(
        malformed(request(&with_path("GET", "*"))),
        reason::ASTERISK_NOT_OPTIONS
    );
    let options = request(&with_path("OPTIONS", "*")).unwrap();
    assert_eq!(options.path.unwrap().as_str(), "*");
    assert_eq!(
        malformed(request(&with_path("GET", "/a\u{1}b"))),
        reason::INVALID_PATH
    );
    assert_eq!(
        malformed(request(&with_path("GET", "/a#frag"))),
        reason::INVALID_PATH
    );
}

#[test]
fn invalid_pseudo_header_values() {
    let replace = |name: &str, value: &'static str| -> Vec<_> {
        get_with(&[])
            .into_iter()
            .map(|(n, v)| if n == name { (n, value) } else { (n, v) })
            .collect()
    };
    assert_eq!(
        malformed(request(&replace(":method", "GE T"))),
        reason::INVALID_METHOD
    );
    assert_eq!(
        malformed(request(&replace(":scheme", "ht tp"))),
        reason::INVALID_SCHEME
    );
    assert_eq!(
        malformed(request(&replace(":authority", "a b"))),
        reason::INVALID_AUTHORITY
    );
    assert_eq!(
        malformed(request(&replace(":authority", "user:pw@example.com"))),
        reason::INVALID_AUTHORITY
    );
    assert_eq!(
        malformed(request(&replace(":path", "/a b"))),
        reason::INVALID_PATH
    );
}

#[test]
fn plain_connect() {
    let head = request(&[(":method", "CONNECT"), (":authority", "proxy.test:443")]).unwrap();
    assert!(head.is_plain_connect());
    assert_eq!(head.scheme, None);
    assert_eq!(head.path, None);
    assert_eq!(head.uri().authority().unwrap().as_str(), "proxy.test:443");
    assert_eq!(
        malformed(request(&[(":method", "CONNECT")])),
        reason::MISSING_AUTHORITY
    );
    assert_eq!(
        malformed(request(&[
            (":method", "CONNECT"),
            (":authority", "h:1"),
            (":path", "/")
        ])),
        reason::CONNECT_WITH_SCHEME_OR_PATH
    );
    assert_eq!(
        malformed(request(&[
            (":method", "CONNECT"),
            (":scheme", "https"),
            (":authority", "h:1")
        ])),
        reason::CONNECT_WITH_SCHEME_OR_PATH
    );
}

const WEBSOCKET: [(&str, &str); 6] = [
    (":method", "CONNECT"),
    (":protocol", "websocket"),
    (":scheme", "https"),
    (":authority", "chat.test"),
    (":path", "/socket"),
    ("sec-websocket-version", "13"),
];

fn extended() -> HeadLimits {
    HeadLimits {
        extended_connect: true,
        ..HeadLimits::default()
    }
}

#[test]
fn extended_connect() {
    let head = request_with(extended(), &WEBSOCKET).unwrap();
    assert_eq!(head.method, http::Method::CONNECT);
    assert_eq!(head.protocol.as_deref(), Some("websocket"));
    assert!(!head.is_plain_connect());
    assert_eq!(head.uri(), "https://chat.test/socket");
    assert_eq!(head.headers["sec-websocket-version"], "13");
}

#[test]
fn extended_connect_rules() {
    assert_eq!(malformed(request(&WEBSOCKET)), reason::PROTOCOL_NOT_ENABLED);
    let without = |name: &str| -> Vec<_> {
        WEBSOCKET
            .iter()
            .copied()
            .filter(|(n, _)| *n != name)
            .collect()
    };
    assert_eq!(
        malformed(request_with(extended(), &without(":scheme"))),
        reason::MISSING_SCHEME
    );
    assert_eq!(
        malformed(request_with(extended(), &without(":path"))),
        reason::MISSING_PATH
    );
    assert_eq!(
        malformed(request_with(extended(), &without(":authority"))),
        reason::MISSING_AUTHORITY
    );
    let mut on_get = WEBSOCKET.to_vec();
    on_get[0] = (":method", "GET");
    assert_eq!(
        malformed(request_with(extended(), &on_get)),
        reason::PROTOCOL_WITHOUT_CONNECT
    );
}

#[test]
fn field_name_rules() {
    assert_eq!(
        malformed(request(&get_with(&[("Accept", "*/*")]))),
        reason::UPPERCASE_NAME
    );
    assert_eq!(
        malformed(request(&get_with(&[("", "x")]))),
        reason::EMPTY_NAME
    );
    assert_eq!(
        malformed(request(&get_with(&[("x y", "1")]))),
        reason::INVALID_NAME
    );
    assert_eq!(
        malformed(request(&get_with(&[("x\u{1}", "1")]))),
        reason::INVALID_NAME
    );
    assert_eq!(
        malformed(request(&get_with(&[("x\u{7f}", "1")]))),
        reason::INVALID_NAME
    );
    assert_eq!(
        malformed(request(&get_with(&[("x\u{e9}", "1")]))),
        reason::INVALID_NAME
    );
}

#[test]
fn field_value_rules() {
    for bad in ["a\0b", "a\rb", "a\nb"] {
        assert_eq!(
            malformed(request(&get_with(&[("x", bad)]))),
            reason::FORBIDDEN_VALUE_CHAR
        );
    }
    for bad in [" a", "a ", "\ta", "a\t"] {
        assert_eq!(
            malformed(request(&get_with(&[("x", bad)]))),
            reason::VALUE_SURROUNDING_WHITESPACE
        );
    }
    // Pseudo-header values obey the same rule.
    let fields = [(":method", "GET"), (":scheme", "https"), (":path", "/a\nb")];
    assert_eq!(malformed(request(&fields)), reason::FORBIDDEN_VALUE_CHAR);
    let head = request(&get_with(&[("x", "inner space\tand tab")])).unwrap();
    assert_eq!(head.headers["x"], "inner space\tand tab");
}

#[test]
fn connection_specific_fields() {
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
    ] {
        assert_eq!(
            malformed(request(&get_with(&[(name, "x")]))),
            reason::CONNECTION_SPECIFIC,
            "{name}"
        );
    }
    assert_eq!(
        malformed(request(&get_with(&[("te", "gzip")]))),
        reason::TE_NOT_TRAILERS
    );
    let head = request(&get_with(&[("te", "trailers")])).unwrap();
    assert_eq!(head.headers["te"], "trailers");
}

#[test]
fn content_length_rules() {
    let head = request(&get_with(&[("content-length", "1024")])).unwrap();
    assert_eq!(head.content_length, Some(1024));
    assert_eq!(head.headers["content-length"], "1024");
    let same = request(&get_with(&[
        ("content-length", "7"),
        ("content-length", "7"),
    ]))
    .unwrap();
    assert_eq!(same.content_length, Some(7));
    assert_eq!(
        malformed(request(&get_with(&[("content-length", "12a")]))),
        reason::INVALID_CONTENT_LENGTH
    );
    assert_eq!(
        malformed(request(&get_with(&[("content-length", "-1")]))),
        reason::INVALID_CONTENT_LENGTH
    );
    assert_eq!(
        malformed(request(&get_with(&[
            ("content-length", "7"),
            ("content-length", "8")
        ]))),
        reason::CONFLICTING_CONTENT_LENGTH
    );
    assert_eq!(request(&get_with(&[])).unwrap().content_length, None);
}

#[test]
fn cookie_crumbs_are_joined() {
    let head = request(&get_with(&[
        ("cookie", "a=1"),
        ("accept", "*/*"),
        ("cookie", "b=2"),
        ("cookie", "c=3"),
    ]))
    .unwrap();
    let cookies: Vec<_> = head.headers.get_all("cookie").iter().collect();
    assert_eq!(cookies, ["a=1; b=2; c=3"]);
}

#[test]
fn host_must_match_authority() {
    let head = request(&get_with(&[("host", "example.com")])).unwrap();
    assert_eq!(head.headers["host"], "example.com");
    assert_eq!(
        malformed(request(&get_with(&[("host", "other.example")]))),
        reason::HOST_MISMATCH
    );
    // Without :authority, host stands in for it in the URI.
    let fields = [
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/p"),
        ("host", "h.test"),
    ];
    assert_eq!(request(&fields).unwrap().uri(), "http://h.test/p");
}

#[test]
fn expect_continue() {
    assert!(
        request(&get_with(&[("expect", "100-Continue")]))
            .unwrap()
            .expect_continue
    );
    assert!(!request(&get_with(&[])).unwrap().expect_continue);
}

#[test]
fn header_list_over_limit_is_too_large() {
    let limits = HeadLimits {
        max_header_list_size: 252,
        ..HeadLimits::default()
    };
    // Pseudo-headers: 42 + 44 + 53 + 38 = 177 octets; x-a adds 3 + 40 + 32 = 75.
    let fits = get_with(&[("x-a", "0123456789012345678901234567890123456789")]);
    assert!(
        request_with(limits, &fits).is_ok(),
        "exactly 252 octets fits"
    );
    let over = get_with(&[("x-a", "0123456789012345678901234567890123456789a")]);
    assert_eq!(
        request_with(limits, &over).unwrap_err(),
        HeadError::TooLarge
    );
}

fn trailers(fields: &[(&str, &str)]) -> Result<http::HeaderMap, HeadError> {
    let mut enc = hpack::Encoder::new();
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    match decode_block(&mut dec, BlockKind::Trailers, &encode(&mut enc, fields))? {
        DecodedBlock::Trailers(map) => Ok(map),
        DecodedBlock::Request(_) => panic!("trailers decoded as a request"),
    }
}

#[test]
fn trailer_rules() {
    let map = trailers(&[("grpc-status", "0"), ("grpc-message", "ok")]).unwrap();
    assert_eq!(map.len(), 2);
    assert_eq!(map["grpc-status"], "0");
    assert_eq!(
        trailers(&[("grpc-status", "0"), (":path", "/")]).unwrap_err(),
        HeadError::Malformed(reason::PSEUDO_IN_TRAILERS)
    );
    assert_eq!(
        trailers(&[(":status", "200")]).unwrap_err(),
        HeadError::Malformed(reason::PSEUDO_IN_TRAILERS)
    );
    assert_eq!(
        trailers(&[("Grpc-Status", "0")]).unwrap_err(),
        HeadError::Malformed(reason::UPPERCASE_NAME)
    );
    assert_eq!(
        trailers(&[("connection", "close")]).unwrap_err(),
        HeadError::Malformed(reason::CONNECTION_SPECIFIC)
    );
    assert_eq!(
        trailers(&[("x", "a\rb")]).unwrap_err(),
        HeadError::Malformed(reason::FORBIDDEN_VALUE_CHAR)
    );
}
