//! `date` and `server` on response heads (RFC 9110 §6.6.1): set by the caller, added to
//! every final head that has none of its own, counted against the peer's
//! MAX_HEADER_LIST_SIZE.

mod support;

use h2ring_conn::{Config, SendError};
use h2ring_frame::{ErrorCode, Setting};
use http::{HeaderMap, HeaderValue, StatusCode};
use support::*;

const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

fn stamped(c: &mut Client) {
    c.conn
        .set_response_date(Some(&HeaderValue::from_static(DATE)));
    c.conn
        .set_server_header(Some(&HeaderValue::from_static("h2ring")));
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn final_heads_get_date_and_server_interim_and_own_ones_do_not() {
    let mut c = Client::connected(Config::default());
    stamped(&mut c);
    let now = c.now;
    c.request(1, "GET", "/", true);
    c.conn
        .send_response(
            sid(1),
            StatusCode::EARLY_HINTS,
            &HeaderMap::new(),
            false,
            now,
        )
        .unwrap();
    c.conn
        .send_response(sid(1), StatusCode::OK, &HeaderMap::new(), true, now)
        .unwrap();
    let frames = c.frames();
    assert_eq!(c.fields_of(&frames[0]), pairs(&[(":status", "103")]));
    assert_eq!(
        c.fields_of(&frames[1]),
        pairs(&[(":status", "200"), ("date", DATE), ("server", "h2ring")])
    );
    // The handler's own fields win; nothing is doubled.
    c.request(3, "GET", "/", true);
    let mut own = HeaderMap::new();
    own.insert(
        "date",
        HeaderValue::from_static("Mon, 07 Nov 1994 08:49:37 GMT"),
    );
    own.insert("server", HeaderValue::from_static("mine"));
    c.conn
        .send_sized_response(sid(3), StatusCode::NOT_FOUND, &own, 0, true, now)
        .unwrap();
    let frames = c.frames();
    assert_eq!(
        c.fields_of(&frames[0]),
        pairs(&[
            (":status", "404"),
            ("date", "Mon, 07 Nov 1994 08:49:37 GMT"),
            ("server", "mine"),
            ("content-length", "0"),
        ])
    );
    // Off again: nothing added.
    c.conn.set_response_date(None);
    c.conn.set_server_header(None);
    c.request(5, "GET", "/", true);
    c.respond(5, 200, true);
    let frames = c.frames();
    assert_eq!(c.fields_of(&frames[0]), pairs(&[(":status", "200")]));
}

/// RFC 9113 §6.5.2: the stamped fields count against the peer's advisory limit.
#[test]
fn stamped_fields_count_against_the_peer_header_list_limit() {
    // `:status` 200 is 42; `date` 4 + 29 + 32 = 65; `server` 6 + 6 + 32 = 44.
    let limit = 42 + 65 + 44;
    let mut c = Client::connected_with(Config::default(), vec![Setting::MaxHeaderListSize(limit)]);
    stamped(&mut c);
    let now = c.now;
    c.request(1, "GET", "/", true);
    c.respond(1, 200, true);
    let frames = c.frames();
    assert_eq!(c.fields_of(&frames[0]).len(), 3);
    // Any further field and the head no longer fits.
    c.request(3, "GET", "/", true);
    let mut headers = HeaderMap::new();
    headers.insert("x", HeaderValue::from_static(""));
    assert_eq!(
        c.conn
            .send_response(sid(3), StatusCode::OK, &headers, true, now),
        Err(SendError::HeaderListTooLarge)
    );
    c.expect_resets(&[(3, ErrorCode::InternalError)]);
}
