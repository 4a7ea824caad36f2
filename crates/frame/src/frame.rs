//! Owns the `Frame` sum type: per-frame dispatch of stream id, type and encoding.

use bytes::BytesMut;

use crate::{
    Continuation, Data, FrameType, GoAway, Headers, Ping, Priority, PriorityUpdate, PushPromise,
    RstStream, Settings, StreamId, Unknown, WindowUpdate,
};

/// One decoded (or to-be-encoded) HTTP/2 frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// DATA (§6.1).
    Data(Data),
    /// HEADERS (§6.2).
    Headers(Headers),
    /// PRIORITY (§6.3).
    Priority(Priority),
    /// RST_STREAM (§6.4).
    RstStream(RstStream),
    /// SETTINGS (§6.5).
    Settings(Settings),
    /// PUSH_PROMISE (§6.6).
    PushPromise(PushPromise),
    /// PING (§6.7).
    Ping(Ping),
    /// GOAWAY (§6.8).
    GoAway(GoAway),
    /// WINDOW_UPDATE (§6.9).
    WindowUpdate(WindowUpdate),
    /// CONTINUATION (§6.10).
    Continuation(Continuation),
    /// PRIORITY_UPDATE (RFC 9218 §7.1).
    PriorityUpdate(PriorityUpdate),
    /// A frame of unknown type, payload discarded (§5.5).
    Unknown(Unknown),
}

impl Frame {
    /// The stream identifier from the frame header (0 for connection-level frames).
    pub fn stream_id(&self) -> StreamId {
        match self {
            Frame::Data(f) => f.stream_id,
            Frame::Headers(f) => f.stream_id,
            Frame::Priority(f) => f.stream_id,
            Frame::RstStream(f) => f.stream_id,
            Frame::PushPromise(f) => f.stream_id,
            Frame::WindowUpdate(f) => f.stream_id,
            Frame::Continuation(f) => f.stream_id,
            Frame::Unknown(f) => f.stream_id,
            Frame::Settings(_) | Frame::Ping(_) | Frame::GoAway(_) | Frame::PriorityUpdate(_) => {
                StreamId::ZERO
            }
        }
    }

    /// The frame's type; `None` for [`Frame::Unknown`].
    pub fn frame_type(&self) -> Option<FrameType> {
        Some(match self {
            Frame::Data(_) => FrameType::Data,
            Frame::Headers(_) => FrameType::Headers,
            Frame::Priority(_) => FrameType::Priority,
            Frame::RstStream(_) => FrameType::RstStream,
            Frame::Settings(_) => FrameType::Settings,
            Frame::PushPromise(_) => FrameType::PushPromise,
            Frame::Ping(_) => FrameType::Ping,
            Frame::GoAway(_) => FrameType::GoAway,
            Frame::WindowUpdate(_) => FrameType::WindowUpdate,
            Frame::Continuation(_) => FrameType::Continuation,
            Frame::PriorityUpdate(_) => FrameType::PriorityUpdate,
            Frame::Unknown(_) => return None,
        })
    }

    /// Appends the exact wire form (header + payload, incl. padding/priority as stored).
    /// An [`Unknown`] frame is written with `length` zero octets as its payload.
    ///
    /// # Panics
    /// If the payload exceeds 2^24-1 octets (see [`crate::encode_frame_header`]).
    pub fn encode(&self, dst: &mut BytesMut) {
        match self {
            Frame::Data(f) => f.encode(dst),
            Frame::Headers(f) => f.encode(dst),
            Frame::Priority(f) => f.encode(dst),
            Frame::RstStream(f) => f.encode(dst),
            Frame::Settings(f) => f.encode(dst),
            Frame::PushPromise(f) => f.encode(dst),
            Frame::Ping(f) => f.encode(dst),
            Frame::GoAway(f) => f.encode(dst),
            Frame::WindowUpdate(f) => f.encode(dst),
            Frame::Continuation(f) => f.encode(dst),
            Frame::PriorityUpdate(f) => f.encode(dst),
            Frame::Unknown(f) => f.encode(dst),
        }
    }
}

/// `impl From<$ty> for Frame` for every frame struct.
macro_rules! frame_from {
    ($($variant:ident),* $(,)?) => {
        $(impl From<$variant> for Frame {
            fn from(f: $variant) -> Frame {
                Frame::$variant(f)
            }
        })*
    };
}

frame_from!(
    Data,
    Headers,
    Priority,
    RstStream,
    Settings,
    PushPromise,
    Ping,
    GoAway,
    WindowUpdate,
    Continuation,
    PriorityUpdate,
    Unknown,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn stream_id_and_type_dispatch() {
        let rst = Frame::from(RstStream {
            stream_id: StreamId::new(9),
            code: ErrorCode::Cancel,
        });
        assert_eq!(rst.stream_id(), StreamId::new(9));
        assert_eq!(rst.frame_type(), Some(FrameType::RstStream));
        let ping = Frame::from(Ping::new([0; 8]));
        assert_eq!(ping.stream_id(), StreamId::ZERO);
        let unknown = Frame::from(Unknown {
            kind: 0xfa,
            flags: 0,
            stream_id: StreamId::new(4),
            length: 0,
        });
        assert_eq!(unknown.frame_type(), None);
        assert_eq!(unknown.stream_id(), StreamId::new(4));
    }
}
