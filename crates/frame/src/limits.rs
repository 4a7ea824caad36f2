//! Owns the protocol-wide sizes and defaults (RFC 9113 §4.1, §6.5.2, §6.9).

/// Length of the fixed frame header (§4.1).
pub const FRAME_HEADER_LEN: usize = 9;
/// Initial SETTINGS_MAX_FRAME_SIZE (§6.5.2), also its smallest legal value.
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;
/// Largest legal SETTINGS_MAX_FRAME_SIZE, 2^24-1 (§6.5.2).
pub const MAX_MAX_FRAME_SIZE: u32 = 16_777_215;
/// Initial SETTINGS_INITIAL_WINDOW_SIZE (§6.5.2).
pub const DEFAULT_INITIAL_WINDOW_SIZE: u32 = 65_535;
/// Largest legal flow-control window, 2^31-1 (§6.9.1).
pub const MAX_WINDOW_SIZE: u32 = (1 << 31) - 1;
/// Initial SETTINGS_HEADER_TABLE_SIZE (§6.5.2).
pub const DEFAULT_HEADER_TABLE_SIZE: u32 = 4_096;

/// Clamps a frame size into the legal SETTINGS_MAX_FRAME_SIZE range (§6.5.2).
pub(crate) const fn clamp_frame_size(n: u32) -> u32 {
    if n < DEFAULT_MAX_FRAME_SIZE {
        DEFAULT_MAX_FRAME_SIZE
    } else if n > MAX_MAX_FRAME_SIZE {
        MAX_MAX_FRAME_SIZE
    } else {
        n
    }
}
