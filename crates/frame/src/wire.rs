//! Owns bounds-checked reads from network payloads, so no frame parser indexes or panics.

use bytes::Bytes;

/// Big-endian u32 at `at`, or `None` when `buf` is too short.
pub(crate) fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let octets: [u8; 4] = buf.get(at..end)?.try_into().ok()?;
    Some(u32::from_be_bytes(octets))
}

/// Big-endian u16 at `at`, or `None` when `buf` is too short.
pub(crate) fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    let octets: [u8; 2] = buf.get(at..end)?.try_into().ok()?;
    Some(u16::from_be_bytes(octets))
}

/// Splits the first `n` octets off `payload` (zero-copy), or `None` when it is shorter.
pub(crate) fn split_front(payload: &mut Bytes, n: usize) -> Option<Bytes> {
    if payload.len() < n {
        return None;
    }
    Some(payload.split_to(n))
}

/// A payload length as the 32-bit value the frame header needs, saturating so an
/// absurd length trips the header's range check instead of wrapping.
pub(crate) fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked() {
        let b = [0x80, 0, 0, 5, 9];
        assert_eq!(u32_at(&b, 0), Some(0x8000_0005));
        assert_eq!(u32_at(&b, 1), Some(0x0000_0509));
        assert_eq!(u32_at(&b, 2), None);
        assert_eq!(u32_at(&b, usize::MAX), None);
        assert_eq!(u16_at(&b, 3), Some(0x0509));
        assert_eq!(u16_at(&b, 4), None);
    }

    #[test]
    fn split_front_checks_length() {
        let mut p = Bytes::from_static(b"abcdef");
        assert_eq!(split_front(&mut p, 7), None);
        assert_eq!(split_front(&mut p, 2).as_deref(), Some(&b"ab"[..]));
        assert_eq!(&p[..], b"cdef");
    }
}
