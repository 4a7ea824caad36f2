//! Limits applied while decoding header blocks, as advertised in our SETTINGS.

/// Default SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce: 16 KiB (RFC 9113 §6.5.2).
pub const DEFAULT_MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;

/// Limits for decoding one header block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Our SETTINGS_MAX_HEADER_LIST_SIZE: the largest header list (name + value + 32 per
    /// field, pseudo-headers included, RFC 9113 §6.5.2) we accept. Default
    /// [`DEFAULT_MAX_HEADER_LIST_SIZE`] (16 KiB).
    pub max_header_list_size: u32,
    /// Whether we sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 and so accept `:protocol`
    /// (RFC 8441 §3). Default `false`.
    pub extended_connect: bool,
}

impl Default for HeadLimits {
    fn default() -> Self {
        HeadLimits {
            max_header_list_size: DEFAULT_MAX_HEADER_LIST_SIZE,
            extended_connect: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let l = HeadLimits::default();
        assert_eq!(l.max_header_list_size, 16384);
        assert!(!l.extended_connect);
    }
}
