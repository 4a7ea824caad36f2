//! Frame decoding: a buffer of typical client frames (HEADERS, DATA, WINDOW_UPDATE, PING)
//! decoded in one pass, as the connection does per read.

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use h2ring_frame::{Data, Decoder, Frame, Headers, Ping, StreamId, WindowUpdate};

fn frames() -> BytesMut {
    let mut buf = BytesMut::new();
    for i in 0..64u32 {
        let id = StreamId::new(2 * i + 1);
        Frame::Headers(Headers {
            stream_id: id,
            fragment: Bytes::from_static(&[0x82, 0x86, 0x84, 0xbe, 0xbf]),
            end_stream: false,
            end_headers: true,
            priority: None,
            pad_len: None,
        })
        .encode(&mut buf);
        Frame::Data(Data {
            stream_id: id,
            data: Bytes::from(vec![b'x'; 1024]),
            end_stream: true,
            pad_len: None,
        })
        .encode(&mut buf);
        Frame::WindowUpdate(WindowUpdate {
            stream_id: StreamId::ZERO,
            increment: 1024,
        })
        .encode(&mut buf);
        Frame::Ping(Ping {
            ack: false,
            payload: [0; 8],
        })
        .encode(&mut buf);
    }
    buf
}

fn decode(c: &mut Criterion) {
    let input = frames();
    let mut group = c.benchmark_group("frame");
    group.throughput(Throughput::Elements(256));
    group.bench_function("decode_256_frames", |b| {
        b.iter(|| {
            let mut buf = input.clone();
            let mut decoder = Decoder::new();
            let mut n = 0;
            while let Ok(Some(frame)) = decoder.decode(&mut buf) {
                std::hint::black_box(&frame);
                n += 1;
            }
            assert_eq!(n, 256);
        })
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
