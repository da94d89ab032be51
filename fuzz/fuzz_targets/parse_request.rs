//! Feeds arbitrary bytes to the request parser, split at pseudo-random
//! points, and checks that it never panics and that the requests it finds do
//! not depend on how the bytes were split into reads.
//!
//! Input layout: byte 0 selects the limits, bytes 1..9 seed the split
//! points, the rest is what the "client" sends.
#![no_main]

use larder_resp::{split_args, Parse, ParseLimits, Reply, Request, RequestParser};
use libfuzzer_sys::fuzz_target;

type Requests = Vec<Vec<Vec<u8>>>;

/// Parses `chunks` as successive reads of one connection. Returns every
/// request (empty ones included) and the error that ended it, if any.
fn run(chunks: &[&[u8]], limits: &ParseLimits) -> (Requests, Option<String>) {
    let mut parser = RequestParser::new();
    let mut req = Request::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match parser.parse(&buf, limits, &mut req) {
                Ok(Parse::Complete { consumed }) => {
                    assert!(consumed > 0, "a complete request consumes bytes");
                    assert!(consumed <= buf.len(), "consumed past the buffer");
                    let args = req.args(&buf);
                    assert_eq!(args.len(), req.argc());
                    out.push(args.iter().map(<[u8]>::to_vec).collect());
                    buf.drain(..consumed);
                }
                Ok(Parse::Incomplete) => break,
                Err(e) => {
                    assert!(e.0.starts_with("ERR Protocol error: "), "{}", e.0);
                    return (out, Some(e.0));
                }
            }
        }
    }
    (out, None)
}

/// Re-encodes a request as a multibulk request and parses it back.
fn round_trip(args: &[Vec<u8>]) {
    let mut wire = Vec::new();
    let mut reply = Reply::new(&mut wire, false);
    reply.array(args.len());
    for a in args {
        reply.bulk(a);
    }
    let mut req = Request::new();
    let r = RequestParser::new().parse(&wire, &ParseLimits::default(), &mut req);
    assert_eq!(
        r,
        Ok(Parse::Complete {
            consumed: wire.len()
        })
    );
    let back: Vec<Vec<u8>> = req.args(&wire).iter().map(<[u8]>::to_vec).collect();
    assert_eq!(back, args);
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let flags = data[0];
    let mut seed = u64::from_le_bytes(data[1..9].try_into().unwrap()) | 1;
    let input = &data[9..];
    let limits = ParseLimits {
        max_bulk_len: if flags & 2 != 0 {
            16
        } else {
            512 * 1024 * 1024
        },
        authenticated: flags & 1 == 0,
    };

    let whole = run(&[input], &limits);

    // The same bytes in reads of pseudo-random sizes.
    let mut chunks = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let max = if flags & 4 != 0 { 3 } else { 64 };
        let n = (seed % max) as usize + 1;
        let (a, b) = rest.split_at(n.min(rest.len()));
        chunks.push(a);
        rest = b;
    }
    let split = run(&chunks, &limits);

    let too_big = |e: &Option<String>| e.as_deref().is_some_and(|e| e.contains("too big"));
    if too_big(&whole.1) || too_big(&split.1) {
        // Whether a line longer than 64 KiB is an error depends on whether
        // its end arrived in the same read (as in Redis): only the requests
        // before that point must agree.
        let n = whole.0.len().min(split.0.len());
        assert_eq!(whole.0[..n], split.0[..n]);
    } else {
        assert_eq!(whole, split);
    }

    for args in &whole.0 {
        round_trip(args);
    }
    let _ = split_args(input);
});
