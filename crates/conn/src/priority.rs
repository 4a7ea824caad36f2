//! RFC 9218 priority signals: the `priority` header field and the PRIORITY_UPDATE
//! Priority Field Value, parsed as an RFC 8941 Structured Fields Dictionary.
//!
//! The parser is allocation-free, iterative (Structured Fields never nest deeper
//! than an inner list, so there is no recursion) and linear in the input length:
//! every loop iteration consumes at least one byte.

use std::fmt;

/// Response urgency: 0 (highest) ..= 7 (lowest). Default 3 (RFC 9218 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Urgency(u8);

impl Urgency {
    /// The most urgent level, 0.
    pub const HIGHEST: Urgency = Urgency(0);
    /// The least urgent level, 7.
    pub const LOWEST: Urgency = Urgency(7);
    /// RFC 9218 §4.1: "The default urgency is 3."
    pub const DEFAULT: Urgency = Urgency(3);
    /// Number of distinct urgency levels (8), e.g. for per-level tables.
    pub const LEVELS: usize = Urgency::LOWEST.0 as usize + 1;

    /// Returns the urgency `u`, or `None` if it is outside 0..=7.
    pub const fn new(u: u8) -> Option<Urgency> {
        if u <= Urgency::LOWEST.0 {
            Some(Urgency(u))
        } else {
            None
        }
    }

    /// The numeric level, 0..=7.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// The level as a table index, always `< Urgency::LEVELS`.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl Default for Urgency {
    fn default() -> Self {
        Urgency::DEFAULT
    }
}

/// A stream's priority parameters (RFC 9218 §4). `Default` is `u=3`, not incremental.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Priority {
    /// RFC 9218 §4.1 `u`.
    pub urgency: Urgency,
    /// RFC 9218 §4.2 `i`: the response can be used as it arrives, so it may be
    /// interleaved with other responses of the same urgency. Default false.
    pub incremental: bool,
}

/// The Priority Field Value is not a syntactically valid RFC 8941 Dictionary.
///
/// RFC 9218 §7: for a PRIORITY_UPDATE frame this MAY be treated as a connection
/// error of type PROTOCOL_ERROR; for the header field, the field is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidFieldValue;

impl fmt::Display for InvalidFieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("priority field value is not a valid structured fields dictionary")
    }
}

impl std::error::Error for InvalidFieldValue {}

impl Priority {
    /// Builds a priority from its two parameters.
    pub const fn new(urgency: Urgency, incremental: bool) -> Priority {
        Priority {
            urgency,
            incremental,
        }
    }

    /// The priority a request's fields ask for (RFC 9218 §5): its `priority` field, else
    /// the default. Looked up by a prebuilt name: a `&str` key is parsed and validated
    /// again on every lookup, and this runs once per request.
    pub fn of_request(headers: &http::HeaderMap) -> Priority {
        const PRIORITY: http::HeaderName = http::HeaderName::from_static("priority");
        if headers.is_empty() {
            return Priority::default();
        }
        match headers.get(&PRIORITY) {
            Some(value) => Priority::parse(value.as_bytes()),
            None => Priority::default(),
        }
    }

    /// Parses a `priority` header / PRIORITY_UPDATE Priority Field Value.
    ///
    /// Unknown keys, parameters, wrong types and out-of-range values are ignored
    /// (RFC 9218 §4); a syntactically invalid dictionary yields the default priority
    /// (RFC 8941 §4.2: a field that fails to parse is ignored as a whole).
    pub fn parse(field_value: &[u8]) -> Priority {
        Priority::parse_with_base(field_value, Priority::default())
    }

    /// Parses a Priority Field Value that replaces `base` (e.g. a PRIORITY_UPDATE
    /// arriving after the request's `priority` header).
    ///
    /// Choice, following RFC 9218 §7 to the letter: "A PRIORITY_UPDATE frame
    /// communicates a complete set of all priority parameters [...] Omitting a
    /// priority parameter is a signal to use its default value." So a *valid* value
    /// is applied as an assignment: parameters it omits (or that are ignored as
    /// unknown-typed/out-of-range) take the RFC defaults, NOT `base`'s values.
    /// `base` survives only when the value is syntactically invalid, i.e. when the
    /// signal as a whole is ignored. Callers that prefer to treat that case as a
    /// PROTOCOL_ERROR use [`Priority::try_parse`].
    pub fn parse_with_base(field_value: &[u8], base: Priority) -> Priority {
        Priority::try_parse(field_value).unwrap_or(base)
    }

    /// Parses a Priority Field Value, reporting a syntactically invalid dictionary.
    ///
    /// A valid dictionary always yields a priority: omitted or ignored parameters
    /// take their defaults (RFC 9218 §4, §7).
    pub fn try_parse(field_value: &[u8]) -> Result<Priority, InvalidFieldValue> {
        let mut priority = Priority::default();
        parse_dictionary(field_value, |key, value| match key {
            // RFC 8941 §4.2.2: a duplicate key overwrites the earlier value, so the
            // last `u` decides, even if it is then ignored as invalid.
            b"u" => priority.urgency = urgency_from(value),
            b"i" => priority.incremental = incremental_from(value),
            // RFC 9218 §4: unknown parameters MUST be ignored.
            _ => {}
        })?;
        Ok(priority)
    }
}

/// RFC 9218 §4.1: `u` is an Integer 0..=7; anything else is ignored (→ default).
fn urgency_from(value: Value) -> Urgency {
    match value {
        Value::Integer(n) => u8::try_from(n)
            .ok()
            .and_then(Urgency::new)
            .unwrap_or_default(),
        _ => Urgency::DEFAULT,
    }
}

/// RFC 9218 §4.2: `i` is a Boolean; anything else is ignored (→ false).
fn incremental_from(value: Value) -> bool {
    match value {
        Value::Boolean(b) => b,
        _ => false,
    }
}

/// The member values the priority parameters care about; everything else is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Value {
    Integer(i64),
    Boolean(bool),
    /// Decimal, String, Token, Byte Sequence, Date or Inner List.
    Other,
}

/// RFC 8941 §3.3.1: an Integer has at most 15 digits.
const MAX_INTEGER_DIGITS: usize = 15;
/// RFC 8941 §3.3.2: a Decimal has at most 12 integer digits.
const MAX_DECIMAL_INTEGER_DIGITS: usize = 12;
/// RFC 8941 §3.3.2: a Decimal has at most 3 fractional digits.
const MAX_DECIMAL_FRACTION_DIGITS: usize = 3;

/// RFC 8941 §4.2 + §4.2.2: parses a whole field value as a Dictionary, calling
/// `on_member` for every member in order (duplicates included).
fn parse_dictionary(
    input: &[u8],
    mut on_member: impl FnMut(&[u8], Value),
) -> Result<(), InvalidFieldValue> {
    let mut c = Cursor { input, pos: 0 };
    c.skip_sp();
    while !c.at_end() {
        let key = c.parse_key()?;
        let value = if c.eat(b'=') {
            c.parse_item_or_inner_list()?
        } else {
            // A bare key is Boolean true (with optional parameters).
            c.parse_parameters()?;
            Value::Boolean(true)
        };
        on_member(key, value);
        c.skip_ows();
        if c.at_end() {
            return Ok(());
        }
        c.expect(b',')?;
        c.skip_ows();
        if c.at_end() {
            // Trailing comma.
            return Err(InvalidFieldValue);
        }
    }
    Ok(())
}

/// A read position in the field value.
struct Cursor<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), InvalidFieldValue> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(InvalidFieldValue)
        }
    }

    /// Advances while `pred` holds.
    fn skip_while(&mut self, pred: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
    }

    fn skip_sp(&mut self) {
        self.skip_while(|b| b == b' ');
    }

    /// OWS = *( SP / HTAB ), allowed around dictionary commas.
    fn skip_ows(&mut self) {
        self.skip_while(|b| b == b' ' || b == b'\t');
    }

    /// RFC 8941 §4.2.3.3: key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )
    fn parse_key(&mut self) -> Result<&'a [u8], InvalidFieldValue> {
        let start = self.pos;
        match self.peek() {
            Some(b) if b.is_ascii_lowercase() || b == b'*' => {}
            _ => return Err(InvalidFieldValue),
        }
        self.skip_while(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.' | b'*')
        });
        Ok(&self.input[start..self.pos])
    }

    /// RFC 8941 §4.2.1.1: an Inner List or an Item, each with parameters.
    fn parse_item_or_inner_list(&mut self) -> Result<Value, InvalidFieldValue> {
        if self.peek() == Some(b'(') {
            self.parse_inner_list()?;
            return Ok(Value::Other);
        }
        let value = self.parse_bare_item()?;
        self.parse_parameters()?;
        Ok(value)
    }

    /// RFC 8941 §4.2.1.2: "(" *SP [ item *( 1*SP item ) *SP ] ")" parameters
    fn parse_inner_list(&mut self) -> Result<(), InvalidFieldValue> {
        self.expect(b'(')?;
        loop {
            self.skip_sp();
            if self.eat(b')') {
                return self.parse_parameters();
            }
            self.parse_bare_item()?;
            self.parse_parameters()?;
            // Items are separated by SP; anything else (or the end) is an error.
            match self.peek() {
                Some(b' ') | Some(b')') => {}
                _ => return Err(InvalidFieldValue),
            }
        }
    }

    /// RFC 8941 §4.2.3.2: *( ";" *SP key [ "=" bare-item ] ) — values are ignored.
    fn parse_parameters(&mut self) -> Result<(), InvalidFieldValue> {
        while self.eat(b';') {
            self.skip_sp();
            self.parse_key()?;
            if self.eat(b'=') {
                self.parse_bare_item()?;
            }
        }
        Ok(())
    }

    /// RFC 8941 §4.2.3.1, plus RFC 9651's Date (`@` integer) so a future member
    /// using it does not void the whole field.
    fn parse_bare_item(&mut self) -> Result<Value, InvalidFieldValue> {
        match self.peek() {
            Some(b'-') | Some(b'0'..=b'9') => self.parse_number(),
            Some(b'"') => self.parse_string().map(|()| Value::Other),
            Some(b) if b.is_ascii_alphabetic() || b == b'*' => {
                self.parse_token();
                Ok(Value::Other)
            }
            Some(b':') => self.parse_byte_sequence().map(|()| Value::Other),
            Some(b'?') => self.parse_boolean(),
            Some(b'@') => self.parse_date(),
            _ => Err(InvalidFieldValue),
        }
    }

    /// RFC 8941 §4.2.4: Integer or Decimal (decimals are reported as `Other`).
    fn parse_number(&mut self) -> Result<Value, InvalidFieldValue> {
        let negative = self.eat(b'-');
        if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
            return Err(InvalidFieldValue);
        }
        let mut magnitude: i64 = 0;
        let mut integer_digits = 0usize;
        let mut fraction_digits: Option<usize> = None;
        while let Some(b) = self.peek() {
            match (b, fraction_digits.as_mut()) {
                (b'0'..=b'9', None) => {
                    integer_digits += 1;
                    if integer_digits > MAX_INTEGER_DIGITS {
                        return Err(InvalidFieldValue);
                    }
                    // Cannot overflow: at most 15 decimal digits.
                    magnitude = magnitude * 10 + i64::from(b - b'0');
                }
                (b'0'..=b'9', Some(frac)) => {
                    *frac += 1;
                    if *frac > MAX_DECIMAL_FRACTION_DIGITS {
                        return Err(InvalidFieldValue);
                    }
                }
                (b'.', None) => {
                    if integer_digits > MAX_DECIMAL_INTEGER_DIGITS {
                        return Err(InvalidFieldValue);
                    }
                    fraction_digits = Some(0);
                }
                _ => break,
            }
            self.pos += 1;
        }
        match fraction_digits {
            None if negative => Ok(Value::Integer(-magnitude)),
            None => Ok(Value::Integer(magnitude)),
            // A Decimal must not end with ".".
            Some(0) => Err(InvalidFieldValue),
            Some(_) => Ok(Value::Other),
        }
    }

    /// RFC 8941 §4.2.5: DQUOTE *( unescaped / "\" ( DQUOTE / "\" ) ) DQUOTE
    fn parse_string(&mut self) -> Result<(), InvalidFieldValue> {
        self.expect(b'"')?;
        loop {
            match self.next() {
                Some(b'"') => return Ok(()),
                Some(b'\\') => match self.next() {
                    Some(b'"') | Some(b'\\') => {}
                    _ => return Err(InvalidFieldValue),
                },
                Some(0x20..=0x7e) => {}
                // Control characters, non-ASCII bytes, or an unterminated string.
                _ => return Err(InvalidFieldValue),
            }
        }
    }

    /// RFC 8941 §4.2.6: ( ALPHA / "*" ) *( tchar / ":" / "/" ); the caller checked
    /// the first byte.
    fn parse_token(&mut self) {
        self.pos += 1;
        self.skip_while(|b| is_tchar(b) || b == b':' || b == b'/');
    }

    /// RFC 8941 §4.2.7: ":" *base64 ":" (alphabet checked, padding not).
    fn parse_byte_sequence(&mut self) -> Result<(), InvalidFieldValue> {
        self.expect(b':')?;
        self.skip_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        self.expect(b':')
    }

    /// RFC 8941 §4.2.8: "?" ( "0" / "1" )
    fn parse_boolean(&mut self) -> Result<Value, InvalidFieldValue> {
        self.expect(b'?')?;
        match self.next() {
            Some(b'0') => Ok(Value::Boolean(false)),
            Some(b'1') => Ok(Value::Boolean(true)),
            _ => Err(InvalidFieldValue),
        }
    }

    /// RFC 9651 §4.2.9: "@" Integer (a Decimal is invalid).
    fn parse_date(&mut self) -> Result<Value, InvalidFieldValue> {
        self.expect(b'@')?;
        match self.parse_number()? {
            Value::Integer(_) => Ok(Value::Other),
            _ => Err(InvalidFieldValue),
        }
    }
}

/// RFC 9110 §5.6.2 tchar.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(u: u8, incremental: bool) -> Priority {
        Priority::new(Urgency::new(u).unwrap(), incremental)
    }

    fn parse(s: &str) -> Priority {
        Priority::parse(s.as_bytes())
    }

    #[test]
    fn a_request_priority_comes_from_its_priority_field() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(Priority::of_request(&headers), Priority::default());
        headers.insert("user-agent", http::HeaderValue::from_static("x"));
        assert_eq!(Priority::of_request(&headers), Priority::default());
        headers.insert("Priority", http::HeaderValue::from_static("u=1, i"));
        assert_eq!(Priority::of_request(&headers), p(1, true));
    }

    #[test]
    fn urgency_range_and_default() {
        assert_eq!(Urgency::new(0), Some(Urgency::HIGHEST));
        assert_eq!(Urgency::new(7), Some(Urgency::LOWEST));
        assert_eq!(Urgency::new(8), None);
        assert_eq!(Urgency::new(255), None);
        assert_eq!(Urgency::default().get(), 3);
        assert_eq!(Urgency::LEVELS, 8);
        assert_eq!(Priority::default(), p(3, false));
    }

    #[test]
    fn rfc9218_examples() {
        assert_eq!(parse("u=5, i"), p(5, true));
        assert_eq!(parse("u=0"), p(0, false));
        assert_eq!(parse("i=?0"), p(3, false));
        assert_eq!(parse("i=?1"), p(3, true));
        assert_eq!(parse("i"), p(3, true));
        assert_eq!(parse("u=2, foo=bar"), p(2, false));
        assert_eq!(parse("u=7, i=?1"), p(7, true));
        assert_eq!(parse(""), p(3, false));
    }

    #[test]
    fn out_of_range_and_wrong_types_are_ignored() {
        assert_eq!(parse("u=8, i"), p(3, true));
        assert_eq!(parse("u=-1"), p(3, false));
        assert_eq!(parse("u=1.5"), p(3, false));
        assert_eq!(parse("u=\"3\""), p(3, false));
        assert_eq!(parse("u=?1"), p(3, false));
        assert_eq!(parse("u=abc"), p(3, false));
        assert_eq!(parse("u=:AAE=:"), p(3, false));
        assert_eq!(parse("u=(1 2)"), p(3, false));
        assert_eq!(parse("u=999999999999999"), p(3, false));
        assert_eq!(parse("u=1, i=1"), p(1, false));
        assert_eq!(parse("u=1, i=\"?1\""), p(1, false));
        assert_eq!(parse("u=1, i=?1, i=tok"), p(1, false));
    }

    #[test]
    fn integers_follow_rfc8941() {
        assert_eq!(parse("u=07"), p(7, false));
        assert_eq!(parse("u=-0"), p(0, false));
        assert_eq!(parse("u=000000000000001"), p(1, false));
    }

    #[test]
    fn duplicate_keys_last_one_wins() {
        assert_eq!(parse("u=1, u=6"), p(6, false));
        assert_eq!(parse("i, i=?0"), p(3, false));
        assert_eq!(parse("i=?0, i"), p(3, true));
        // The dictionary holds u=9 after overwriting, and that is ignored.
        assert_eq!(parse("u=2, u=9"), p(3, false));
    }

    #[test]
    fn parameters_and_unknown_members_are_ignored() {
        assert_eq!(parse("u=1;foo=bar, i;x;y=?0"), p(1, true));
        assert_eq!(parse("u=4;a=\"s\";b=1.5;c=:AA==:;d=@12"), p(4, false));
        assert_eq!(
            parse("foo=(a \"b\" 1.5 ?1;q);p=2, *x-y.z_=tok/en:x, u=4"),
            p(4, false)
        );
        assert_eq!(parse("d=@1659578233, u=6"), p(6, false));
        assert_eq!(parse("e=(), u=6"), p(6, false));
        assert_eq!(parse("e=(  1   2  ), i"), p(3, true));
        assert_eq!(parse("s=\"a\\\"b\\\\c\", u=2"), p(2, false));
        assert_eq!(parse("u=2; x"), p(2, false));
    }

    #[test]
    fn whitespace_rules() {
        assert_eq!(parse("   u=1 ,\ti   "), p(1, true));
        assert_eq!(parse("u=1,i"), p(1, true));
        assert_eq!(parse("u=1\t,\t\ti"), p(1, true));
    }

    #[test]
    fn malformed_dictionaries_yield_default() {
        let bad: &[&str] = &[
            "u=1, ,i",
            "u=1,",
            "u=1, i, ",
            "u=1 i",
            "U=1",
            "u=",
            "u==1",
            "=1",
            "1u=1",
            "u=1,,i",
            "\tu=1",
            "u=1.2345",
            "u=1.",
            "u=1234567890123.1",
            "u=1234567890123456",
            "u=-",
            "u=--1",
            "u=\"abc",
            "u=\"a\\qb\"",
            "u=\"\t\"",
            "u=:abc",
            "u=:a*b:",
            "u=(1 2",
            "u=(1,2)",
            "u=(1 2)x",
            "u=?2",
            "u=?",
            "u=@1.5",
            "u=%\"x\"",
            "u=1;",
            "u=1;U=2",
            "u=1; =2",
            "u=1 ;x",
            "u=1,\u{e9}=2",
            "u=\"\u{e9}\"",
        ];
        for s in bad {
            assert_eq!(
                Priority::try_parse(s.as_bytes()),
                Err(InvalidFieldValue),
                "{s:?} should be invalid"
            );
            assert_eq!(parse(s), Priority::default(), "{s:?}");
        }
    }

    #[test]
    fn parse_with_base_assigns_complete_value() {
        let base = p(1, true);
        // RFC 9218 §7: an omitted parameter takes its default, not the old value.
        assert_eq!(Priority::parse_with_base(b"u=5", base), p(5, false));
        assert_eq!(Priority::parse_with_base(b"i=?1", base), p(3, true));
        assert_eq!(Priority::parse_with_base(b"", base), p(3, false));
        assert_eq!(Priority::parse_with_base(b"u=9", base), p(3, false));
        // An unparseable signal is ignored as a whole: `base` stays.
        assert_eq!(Priority::parse_with_base(b"u=5,", base), base);
        assert_eq!(Priority::parse_with_base(b"u=(", base), base);
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Priority::try_parse(&bytes);
        }

        #[test]
        fn never_panics_on_sf_alphabet(s in "[ui=?01-9.,; ()\"\\\\:*@a-z\t]{0,40}") {
            let _ = Priority::try_parse(s.as_bytes());
        }

        #[test]
        fn valid_dictionaries_round_trip(
            u in 0u8..8,
            i in any::<bool>(),
            noise in proptest::collection::vec(("[a-h][a-z0-9]{0,4}", 0i64..1000), 0..4),
            i_first in any::<bool>(),
        ) {
            let mut members: Vec<String> = noise
                .iter()
                .filter(|(k, _)| k != "u" && k != "i")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let i_member = if i { "i".to_string() } else { "i=?0".to_string() };
            if i_first {
                members.insert(0, i_member);
                members.push(format!("u={u}"));
            } else {
                members.insert(0, format!("u={u}"));
                members.push(i_member);
            }
            let value = members.join(", ");
            prop_assert_eq!(Priority::try_parse(value.as_bytes()), Ok(p(u, i)));
        }
    }
}
