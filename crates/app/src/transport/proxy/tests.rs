use super::*;
use ppp::v2::{Builder, Protocol, Type, Version};
use proptest::prelude::*;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn v2(command: Command, addresses: (SocketAddr, SocketAddr), tlvs: &[(u8, &[u8])]) -> Vec<u8> {
    let mut builder = Builder::with_addresses(Version::Two | command, Protocol::Stream, addresses);
    for &(kind, value) in tlvs {
        builder = builder.write_tlv(kind, value).unwrap();
    }
    builder.build().unwrap()
}

#[test]
fn v1_tcp4_tcp6_and_unknown() {
    let line = b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n";
    assert_eq!(
        parse(line),
        Parsed::Header {
            len: line.len() - b"GET / HTTP/1.1\r\n".len(),
            source: Source::Client(addr("192.0.2.7:56324"))
        }
    );
    let line = b"PROXY TCP6 2001:db8::7 2001:db8::1 40000 8443\r\n";
    assert_eq!(
        parse(line),
        Parsed::Header {
            len: line.len(),
            source: Source::Client(addr("[2001:db8::7]:40000"))
        }
    );
    let line = b"PROXY UNKNOWN\r\n";
    assert_eq!(
        parse(line),
        Parsed::Header {
            len: line.len(),
            source: Source::Unnamed
        }
    );
}

#[test]
fn v2_proxy_with_tlvs_and_local() {
    let header = v2(
        Command::Proxy,
        (addr("203.0.113.9:1234"), addr("10.0.0.1:80")),
        &[
            (Type::ALPN as u8, b"h2"),
            (Type::Authority as u8, b"example.com"),
            (0xEA, b"vpce-0123456789abcdef0"),
        ],
    );
    let mut read = header.clone();
    read.extend_from_slice(b"PRI * HTTP/2.0\r\n");
    assert_eq!(
        parse(&read),
        Parsed::Header {
            len: header.len(),
            source: Source::Client(addr("203.0.113.9:1234"))
        }
    );
    let header = v2(
        Command::Proxy,
        (addr("[2001:db8::9]:1"), addr("[2001:db8::1]:2")),
        &[],
    );
    assert!(
        matches!(parse(&header), Parsed::Header { source: Source::Client(a), .. } if a == addr("[2001:db8::9]:1"))
    );
    let local = v2(
        Command::Local,
        (addr("127.0.0.1:1"), addr("127.0.0.1:2")),
        &[],
    );
    assert_eq!(
        parse(&local),
        Parsed::Header {
            len: local.len(),
            source: Source::Unnamed
        }
    );
}

#[test]
fn every_prefix_of_a_header_asks_for_more() {
    let v1 = b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n".to_vec();
    let v2 = v2(
        Command::Proxy,
        (addr("203.0.113.9:1234"), addr("10.0.0.1:80")),
        &[(Type::NoOp as u8, &[0; 40])],
    );
    for header in [v1, v2] {
        for end in 0..header.len() {
            assert_eq!(parse(&header[..end]), Parsed::Incomplete, "{end} octets");
        }
    }
}

#[test]
fn refusals() {
    for bad in [
        &b"GET / HTTP/1.1\r\n"[..],
        b"PRI * HTTP/2.0\r\n",
        b"\x16\x03\x01\x02\x00",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
        b"PROXY TCP4 ::1 ::1 1 2\r\n",
        b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
        b"\r\n\r\nX",
    ] {
        assert!(matches!(parse(bad), Parsed::Invalid(_)), "{bad:?}");
    }
    // v1 without its CRLF by 107 octets.
    let mut long = b"PROXY TCP6 ".to_vec();
    long.resize(MAX_V1_HEADER, b'1');
    assert!(matches!(parse(&long), Parsed::Invalid(_)));
    // v2 version 1, command 2.
    let mut header = v2(Command::Proxy, (addr("1.1.1.1:1"), addr("2.2.2.2:2")), &[]);
    header[12] = 0x11;
    assert!(matches!(parse(&header), Parsed::Invalid(_)));
    header[12] = 0x22;
    assert!(matches!(parse(&header), Parsed::Invalid(_)));
}

#[test]
fn v2_bounds_and_tlv_framing() {
    // A declared length over the bound is refused from the fixed part alone.
    let mut over = V2_SIGNATURE.to_vec();
    over.extend_from_slice(&[0x21, 0x11]);
    over.extend_from_slice(
        &u16::try_from(MAX_V2_HEADER - V2_FIXED + 1)
            .unwrap()
            .to_be_bytes(),
    );
    assert!(matches!(parse(&over), Parsed::Invalid(_)));
    // Exactly at the bound is accepted.
    let filler = vec![0u8; MAX_V2_HEADER - V2_FIXED - 12 - 3];
    let at = v2(
        Command::Proxy,
        (addr("1.1.1.1:1"), addr("2.2.2.2:2")),
        &[(Type::NoOp as u8, &filler)],
    );
    assert_eq!(at.len(), MAX_V2_HEADER);
    assert!(matches!(parse(&at), Parsed::Header { len, .. } if len == MAX_V2_HEADER));
    // A TLV claiming more than the block holds, and a stray octet after the last one.
    let mut header = v2(
        Command::Proxy,
        (addr("1.1.1.1:1"), addr("2.2.2.2:2")),
        &[(Type::ALPN as u8, b"h2")],
    );
    let last = header.len() - 3;
    header[last] = 9;
    assert!(matches!(parse(&header), Parsed::Invalid(_)));
    let mut header = v2(Command::Proxy, (addr("1.1.1.1:1"), addr("2.2.2.2:2")), &[]);
    header[15] += 1;
    header.push(0);
    assert!(matches!(parse(&header), Parsed::Invalid(_)));
    // An address block shorter than its family needs.
    let mut short = V2_SIGNATURE.to_vec();
    short.extend_from_slice(&[0x21, 0x11, 0, 4, 1, 2, 3, 4]);
    assert!(matches!(parse(&short), Parsed::Invalid(_)));
}

proptest! {
    /// Hostile input: any octets, never a panic, never a length past the input, and never
    /// a wait for more past the largest header.
    #[test]
    fn any_octets_are_decided_safely(read in prop::collection::vec(any::<u8>(), 0..300)) {
        match parse(&read) {
            Parsed::Header { len, .. } => prop_assert!(len <= read.len()),
            Parsed::Incomplete => prop_assert!(read.len() < MAX_V2_HEADER),
            Parsed::Invalid(_) => {}
        }
    }

    /// Octets behind a valid signature (the parser's deeper paths).
    #[test]
    fn any_v2_body_is_decided_safely(
        fixed in prop::collection::vec(any::<u8>(), 4),
        body in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut read = V2_SIGNATURE.to_vec();
        read.extend_from_slice(&fixed);
        read.extend_from_slice(&body);
        match parse(&read) {
            Parsed::Header { len, .. } => prop_assert!(len <= read.len()),
            Parsed::Incomplete => prop_assert!(read.len() < MAX_V2_HEADER),
            Parsed::Invalid(_) => {}
        }
    }

    /// A v1 line with mangled fields: decided the same whether it came whole or in two
    /// pieces, as a connection's reads may split it.
    #[test]
    fn v1_split_anywhere_decides_alike(
        line in "PROXY (TCP4|TCP6|UNKNOWN|TCP) [0-9a-f.:]{0,40} [0-9a-f.:]{0,40} [0-9]{0,6} [0-9]{0,6}\r\n",
        cut in 0usize..120,
    ) {
        let whole = parse(line.as_bytes());
        let cut = cut.min(line.len());
        let first = parse(&line.as_bytes()[..cut]);
        if cut < line.len() {
            prop_assert!(matches!(first, Parsed::Incomplete) || first == whole || matches!((first, whole), (Parsed::Invalid(_), Parsed::Invalid(_))));
        }
    }
}
