//! HTTP/2 frame codec (RFC 9113 §4, §6, plus RFC 9218 §7.1 PRIORITY_UPDATE).
//!
//! [`Decoder`] turns bytes at the front of a [`bytes::BytesMut`] into [`Frame`]s,
//! validating everything that can be judged from a single frame (sizes, stream-0
//! rules, padding, setting values) and reporting violations as [`FrameError`]s
//! with their RFC 9113 §5.4 kind. Sequencing rules (stream states, header-block
//! continuity, flow-control windows) belong to the connection, not here.
//! Payloads are zero-copy slices of the input buffer.
//!
//! Encoding goes the other way: [`Frame::encode`] writes any frame exactly as
//! stored, and [`encode_header_block`] / [`encode_push_promise`] /
//! [`encode_data_header`] serve the connection's send path.
//!
//! ```
//! use bytes::BytesMut;
//! use h2ring_frame::{Decoder, Frame, StreamId, WindowUpdate};
//!
//! // WINDOW_UPDATE on stream 1, increment 1024, followed by half of another frame.
//! let mut src = BytesMut::from(&[0, 0, 4, 0x8, 0, 0, 0, 0, 1, 0, 0, 4, 0, 0, 0, 8][..]);
//! let mut decoder = Decoder::new();
//! let frame = decoder.decode(&mut src).unwrap();
//! assert_eq!(
//!     frame,
//!     Some(Frame::WindowUpdate(WindowUpdate { stream_id: StreamId::new(1), increment: 1024 }))
//! );
//! // The partial frame stays in the buffer until the rest arrives.
//! assert_eq!(decoder.decode(&mut src).unwrap(), None);
//! assert_eq!(src.len(), 3);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod continuation;
mod data;
mod decoder;
mod encode;
mod error;
mod frame;
mod frame_type;
mod goaway;
mod head;
mod headers;
mod limits;
mod padding;
mod ping;
mod preface;
mod priority;
mod priority_update;
mod push_promise;
mod rst_stream;
mod settings;
mod stream_id;
#[cfg(test)]
mod test_util;
mod unknown;
mod window_update;
mod wire;

pub use continuation::Continuation;
pub use data::{encode_data_header, Data};
pub use decoder::Decoder;
pub use encode::{encode_header_block, encode_push_promise, frame_header_block_in_place};
pub use error::{ErrorCode, FrameError};
pub use frame::Frame;
pub use frame_type::{Flags, FrameType};
pub use goaway::GoAway;
pub use head::{encode_frame_header, FrameHead};
pub use headers::Headers;
pub use limits::{
    DEFAULT_HEADER_TABLE_SIZE, DEFAULT_INITIAL_WINDOW_SIZE, DEFAULT_MAX_FRAME_SIZE,
    FRAME_HEADER_LEN, MAX_MAX_FRAME_SIZE, MAX_WINDOW_SIZE,
};
pub use ping::Ping;
pub use preface::{check_preface, BadPreface, PrefaceStatus, PREFACE};
pub use priority::{Priority, PrioritySpec};
pub use priority_update::PriorityUpdate;
pub use push_promise::PushPromise;
pub use rst_stream::RstStream;
pub use settings::{Setting, SettingId, Settings, SettingsIter};
pub use stream_id::StreamId;
pub use unknown::Unknown;
pub use window_update::WindowUpdate;
