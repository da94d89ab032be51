use super::*;

type Reqs = Vec<Vec<Vec<u8>>>;

fn auth() -> ParseLimits {
    ParseLimits::default()
}

fn unauth() -> ParseLimits {
    ParseLimits { authenticated: false, ..ParseLimits::default() }
}

/// Simulates a connection: appends each chunk to a buffer, parses every
/// complete request, drops consumed bytes. Returns the requests (empty ones
/// included) and the protocol error that stopped it, if any.
fn feed(chunks: &[&[u8]], limits: &ParseLimits) -> (Reqs, Option<String>) {
    let mut parser = RequestParser::new();
    let mut req = Request::new();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match parser.parse(&buf, limits, &mut req) {
                Ok(Parse::Complete { consumed }) => {
                    assert!(consumed > 0 && consumed <= buf.len());
                    out.push(req.args(&buf).iter().map(<[u8]>::to_vec).collect());
                    buf.drain(..consumed);
                }
                Ok(Parse::Incomplete) => break,
                Err(e) => return (out, Some(e.0)),
            }
        }
    }
    (out, None)
}

fn one_shot(input: &[u8], limits: &ParseLimits) -> (Reqs, Option<String>) {
    feed(&[input], limits)
}

fn byte_by_byte(input: &[u8], limits: &ParseLimits) -> (Reqs, Option<String>) {
    let chunks: Vec<&[u8]> = input.chunks(1).collect();
    feed(&chunks, limits)
}

fn reqs(items: &[&[&[u8]]]) -> Reqs {
    items.iter().map(|r| r.iter().map(|a| a.to_vec()).collect()).collect()
}

fn error_of(input: &[u8], limits: &ParseLimits) -> String {
    let (_, err) = one_shot(input, limits);
    let err = err.expect("expected a protocol error");
    // The same error arrives when the bytes come one at a time.
    assert_eq!(byte_by_byte(input, limits).1.as_deref(), Some(err.as_str()));
    err
}

fn parse_once(input: &[u8]) -> Result<Parse, ProtocolError> {
    RequestParser::new().parse(input, &auth(), &mut Request::new())
}

#[test]
fn multibulk_request() {
    let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
    let mut parser = RequestParser::new();
    let mut req = Request::new();
    let r = parser.parse(input, &auth(), &mut req).unwrap();
    assert_eq!(r, Parse::Complete { consumed: input.len() });
    assert_eq!(req.argc(), 3);
    assert!(!req.is_inline());
    let args = req.args(input);
    assert_eq!(&args[0], b"SET");
    assert_eq!(&args[1], b"key");
    assert_eq!(&args[2], b"value");
}

#[test]
fn binary_and_empty_bulks() {
    let input = b"*3\r\n$0\r\n\r\n$4\r\n\r\n\x00\xff\r\n$1\r\n*\r\n";
    assert_eq!(one_shot(input, &auth()), (reqs(&[&[b"", b"\r\n\x00\xff", b"*"]]), None));
}

#[test]
fn pipelined_requests() {
    let mut input = Vec::new();
    for i in 0..100 {
        let key = format!("key:{i}");
        input.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).as_bytes());
    }
    input.extend_from_slice(b"PING\r\n*1\r\n$4\r\nQUIT\r\n");
    let (got, err) = one_shot(&input, &auth());
    assert_eq!(err, None);
    assert_eq!(got.len(), 102);
    assert_eq!(got[7], vec![b"GET".to_vec(), b"key:7".to_vec()]);
    assert_eq!(got[100], vec![b"PING".to_vec()]);
    assert_eq!(got[101], vec![b"QUIT".to_vec()]);
    assert_eq!(byte_by_byte(&input, &auth()), (got, None));
}

#[test]
fn parse_reports_only_the_first_request() {
    let input = b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n";
    assert_eq!(parse_once(input), Ok(Parse::Complete { consumed: 14 }));
}

#[test]
fn empty_requests() {
    for (input, consumed) in
        [(&b"*0\r\n"[..], 4), (b"*-1\r\n", 5), (b"*-100\r\n", 7), (b"\r\n", 2), (b"\n", 1), (b"   \t \r\n", 7)]
    {
        let mut req = Request::new();
        let r = RequestParser::new().parse(input, &auth(), &mut req);
        assert_eq!(r, Ok(Parse::Complete { consumed }), "{input:?}");
        assert_eq!(req.argc(), 0);
    }
    assert_eq!(one_shot(b"*0\r\n\r\nPING\r\n", &auth()), (reqs(&[&[], &[], &[b"PING"]]), None));
}

#[test]
fn incomplete_inputs() {
    for input in [
        &b""[..],
        b"*",
        b"*1",
        b"*1\r",
        b"*1\r\n",
        b"*1\r\n$",
        b"*1\r\n$3",
        b"*1\r\n$3\r",
        b"*1\r\n$3\r\nfo",
        b"*1\r\n$3\r\nfoo",
        b"*1\r\n$3\r\nfoo\r",
        b"*2147483647\r\n",
        b"PING",
        b"PING\r",
    ] {
        assert_eq!(parse_once(input), Ok(Parse::Incomplete), "{input:?}");
    }
}

#[test]
fn line_ends_are_skipped_unchecked_like_redis() {
    // Redis skips the byte after a length line's '\r' and the two bytes
    // after bulk data without looking at them.
    assert_eq!(one_shot(b"*1\rX$3\rYfooAB*1\r\n$1\r\nx\r\n", &auth()), (reqs(&[&[b"foo"], &[b"x"]]), None));
}

#[test]
fn inline_requests() {
    let input = b"set key \"hello world\"\r\nget 'k\\'ey'\nECHO \"a\\x41\\n\"\r\n";
    let (got, err) = one_shot(input, &auth());
    assert_eq!(err, None);
    assert_eq!(got, reqs(&[&[b"set", b"key", b"hello world"], &[b"get", b"k'ey"], &[b"ECHO", b"aA\n"],]));
    assert_eq!(byte_by_byte(input, &auth()), (got, None));

    let mut req = Request::new();
    let line = b"PING extra\r\n";
    RequestParser::new().parse(line, &auth(), &mut req).unwrap();
    assert!(req.is_inline());
    // An inline request's arguments live in the Request: any buffer works.
    assert_eq!(&req.args(b"")[1], b"extra");
}

#[test]
fn inline_only_strips_one_cr() {
    assert_eq!(one_shot(b"a b\r\r\n", &auth()), (reqs(&[&[b"a", b"b"]]), None));
}

#[test]
fn error_too_big_inline_request() {
    let mut input = vec![b'a'; INLINE_MAX_SIZE];
    assert_eq!(parse_once(&input), Ok(Parse::Incomplete));
    input.push(b'a');
    assert_eq!(parse_once(&input).unwrap_err().0, "ERR Protocol error: too big inline request");
    // With its newline in the same read, a long line is fine (as in Redis).
    input.push(b'\n');
    assert!(matches!(parse_once(&input), Ok(Parse::Complete { .. })));
}

#[test]
fn error_unbalanced_quotes() {
    for input in [&b"set k \"v\r\n"[..], b"set k 'v\n", b"set k \"v\"x\r\n"] {
        assert_eq!(error_of(input, &auth()), "ERR Protocol error: unbalanced quotes in request");
    }
}

#[test]
fn error_too_big_mbulk_count_string() {
    let mut input = b"*".to_vec();
    input.resize(input.len() + INLINE_MAX_SIZE - 1, b'1');
    assert_eq!(parse_once(&input), Ok(Parse::Incomplete));
    input.push(b'1');
    assert_eq!(parse_once(&input).unwrap_err().0, "ERR Protocol error: too big mbulk count string");
}

#[test]
fn error_invalid_multibulk_length() {
    for input in [
        &b"*abc\r\n"[..],
        b"*\r\n",
        b"*2147483648\r\n",
        b"*01\r\n",
        b"*+1\r\n",
        b"* 1\r\n",
        b"*1 \r\n",
        b"*-0\r\n",
        b"*99999999999999999999\r\n",
        b"*1\x00\r\n",
    ] {
        assert_eq!(error_of(input, &auth()), "ERR Protocol error: invalid multibulk length", "{input:?}");
    }
}

#[test]
fn error_unauthenticated_multibulk_length() {
    assert_eq!(error_of(b"*11\r\n", &unauth()), "ERR Protocol error: unauthenticated multibulk length");
    // Up to 10 is fine, and the check needs authentication to be missing.
    assert_eq!(parse_once(b"*11\r\n"), Ok(Parse::Incomplete));
    let mut req = Request::new();
    let r = RequestParser::new().parse(b"*10\r\n", &unauth(), &mut req);
    assert_eq!(r, Ok(Parse::Incomplete));
    // An invalid count is reported as such even when unauthenticated.
    assert_eq!(error_of(b"*x\r\n", &unauth()), "ERR Protocol error: invalid multibulk length");
}

#[test]
fn error_expected_dollar() {
    let cases: [(&[u8], &str); 5] = [
        (b"*1\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'"),
        (b"*2\r\n$1\r\na\r\nfoo\r\n", "ERR Protocol error: expected '$', got 'f'"),
        // '\r' and '\n' become spaces, as Redis maps them in error replies.
        (b"*1\r\n\r\n", "ERR Protocol error: expected '$', got ' '"),
        (b"*1\r\n\n\r\n", "ERR Protocol error: expected '$', got ' '"),
        // A NUL ends the C string Redis formats the message into.
        (b"*1\r\n\x00\r\n", "ERR Protocol error: expected '$', got '"),
    ];
    for (input, want) in cases {
        assert_eq!(error_of(input, &auth()), want, "{input:?}");
    }
    assert_eq!(error_of(b"*1\r\n\xff\r\n", &auth()), "ERR Protocol error: expected '$', got '\u{ff}'");
    // The header is only looked at once its whole line has arrived.
    assert_eq!(parse_once(b"*1\r\nxyz"), Ok(Parse::Incomplete));
}

#[test]
fn error_too_big_bulk_count_string() {
    let mut input = b"*1\r\n$".to_vec();
    input.resize(input.len() + INLINE_MAX_SIZE - 1, b'9');
    assert_eq!(parse_once(&input), Ok(Parse::Incomplete));
    input.push(b'9');
    assert_eq!(parse_once(&input).unwrap_err().0, "ERR Protocol error: too big bulk count string");
    // Not an error when the line end came in the same read: then the length
    // itself is invalid.
    input.extend_from_slice(b"\r\n");
    assert_eq!(parse_once(&input).unwrap_err().0, "ERR Protocol error: invalid bulk length");
}

#[test]
fn error_invalid_bulk_length() {
    for input in [
        &b"*1\r\n$-1\r\n"[..],
        b"*1\r\n$abc\r\n",
        b"*1\r\n$\r\n",
        b"*1\r\n$ 3\r\n",
        b"*1\r\n$03\r\n",
        b"*1\r\n$+3\r\n",
        b"*1\r\n$536870913\r\n",
        b"*1\r\n$9223372036854775808\r\n",
        b"*2\r\n$1\r\na\r\n$x\r\n",
    ] {
        assert_eq!(error_of(input, &auth()), "ERR Protocol error: invalid bulk length", "{input:?}");
    }
    let small = ParseLimits { max_bulk_len: 10, authenticated: true };
    assert_eq!(error_of(b"*1\r\n$11\r\n", &small), "ERR Protocol error: invalid bulk length");
    assert_eq!(one_shot(b"*1\r\n$10\r\n0123456789\r\n", &small), (reqs(&[&[b"0123456789"]]), None));
    // The default limit is 512 MiB exactly.
    assert_eq!(parse_once(b"*1\r\n$536870912\r\n"), Ok(Parse::Incomplete));
}

#[test]
fn error_unauthenticated_bulk_length() {
    assert_eq!(error_of(b"*1\r\n$16385\r\n", &unauth()), "ERR Protocol error: unauthenticated bulk length");
    let mut req = Request::new();
    let r = RequestParser::new().parse(b"*1\r\n$16384\r\n", &unauth(), &mut req);
    assert_eq!(r, Ok(Parse::Incomplete));
    assert_eq!(parse_once(b"*1\r\n$16385\r\n"), Ok(Parse::Incomplete));
}

#[test]
fn state_resets_after_error_and_complete() {
    let mut parser = RequestParser::new();
    let mut req = Request::new();
    assert!(parser.parse(b"*1\r\n$x\r\n", &auth(), &mut req).is_err());
    assert_eq!(req.argc(), 0);
    let ok = b"*1\r\n$4\r\nPING\r\n";
    assert_eq!(parser.parse(ok, &auth(), &mut req), Ok(Parse::Complete { consumed: 14 }));
    assert_eq!(parser.parse(b"PING\r\n", &auth(), &mut req), Ok(Parse::Complete { consumed: 6 }));
    assert_eq!(&req.args(b"")[0], b"PING");
}

#[test]
fn shorter_buffer_after_incomplete_does_not_panic() {
    let mut parser = RequestParser::new();
    let mut req = Request::new();
    let long = b"*2\r\n$3\r\nGET\r\n$5\r\nab";
    assert_eq!(parser.parse(long, &auth(), &mut req), Ok(Parse::Incomplete));
    // Contract broken: a shorter buffer. The parser starts over.
    assert_eq!(parser.parse(b"*1", &auth(), &mut req), Ok(Parse::Incomplete));
    let whole = b"*1\r\n$1\r\nx\r\n";
    assert_eq!(parser.parse(whole, &auth(), &mut req), Ok(Parse::Complete { consumed: 11 }));
}

#[test]
fn large_bulk_byte_by_byte() {
    let value: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let mut input = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", value.len()).into_bytes();
    input.extend_from_slice(&value);
    input.extend_from_slice(b"\r\nPING\r\n");
    let whole = one_shot(&input, &auth());
    assert_eq!(whole.0.len(), 2);
    assert_eq!(whole.0[0][2], value);
    assert_eq!(byte_by_byte(&input, &auth()), whole);
}

#[test]
fn many_args_byte_by_byte() {
    let n = 20_000;
    let mut input = format!("*{}\r\n$5\r\nRPUSH\r\n", n + 1).into_bytes();
    for i in 0..n {
        let a = i.to_string();
        input.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    let whole = one_shot(&input, &auth());
    assert_eq!(whole.1, None);
    assert_eq!(whole.0.len(), 1);
    assert_eq!(whole.0[0].len(), n + 1);
    assert_eq!(whole.0[0][12345], b"12344");
    assert_eq!(byte_by_byte(&input, &auth()), whole);
}

#[test]
fn resuming_is_linear() {
    // 400k arguments in 16-byte reads: 250k parse calls. Rescanning from the
    // start on each call would take minutes; resuming takes well under one.
    let n = 400_000;
    let mut input = format!("*{n}\r\n").into_bytes();
    for _ in 0..n {
        input.extend_from_slice(b"$1\r\nx\r\n");
    }
    let mut parser = RequestParser::new();
    let mut req = Request::new();
    let mut len = 0;
    let mut calls = 0;
    let result = loop {
        len = (len + 16).min(input.len());
        calls += 1;
        match parser.parse(&input[..len], &auth(), &mut req).unwrap() {
            Parse::Incomplete => assert!(len < input.len()),
            done => break done,
        }
    };
    assert_eq!(result, Parse::Complete { consumed: input.len() });
    assert_eq!(req.argc(), n);
    assert!(calls > 100_000);
}

#[test]
fn warm_vectors_do_not_reallocate() {
    let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
    let mut parser = RequestParser::new();
    let mut req = Request::new();
    parser.parse(input, &auth(), &mut req).unwrap();
    parser.parse(input, &auth(), &mut req).unwrap();
    let mut ptrs = [req.spans.as_ptr(), parser.spans.as_ptr()];
    ptrs.sort();
    for _ in 0..100 {
        parser.parse(input, &auth(), &mut req).unwrap();
        let mut now = [req.spans.as_ptr(), parser.spans.as_ptr()];
        now.sort();
        assert_eq!(now, ptrs);
    }
}

#[test]
fn huge_count_does_not_preallocate() {
    let mut req = Request::new();
    let mut parser = RequestParser::new();
    let r = parser.parse(b"*2147483647\r\n$1\r\na\r\n", &auth(), &mut req);
    assert_eq!(r, Ok(Parse::Incomplete));
    assert!(parser.spans.capacity() <= PREALLOC_SPANS);
}

/// xorshift64*: deterministic pseudo-random numbers for the split tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_splits_match_one_read() {
    let pieces: [&[u8]; 12] = [
        b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n",
        b"PING\r\n",
        b"set a \"b c\"\r\n",
        b"*0\r\n",
        b"*1\r\n$0\r\n\r\n",
        b"*3\r\n$3\r\nSET\r\n$4\r\nk\r\nv\r\n$2\r\n\x00\x01\r\n",
        b"\r\n",
        b"*-1\r\n",
        b"*1\r\n$x\r\n",
        b"*1\r\n:5\r\n",
        b"'unbalanced\r\n",
        b"*12\r\n",
    ];
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..2000 {
        let mut input = Vec::new();
        for _ in 0..rng.below(6) + 1 {
            input.extend_from_slice(pieces[rng.below(pieces.len())]);
        }
        let limits = if rng.below(4) == 0 { unauth() } else { auth() };
        let whole = one_shot(&input, &limits);
        let mut chunks = Vec::new();
        let mut rest = &input[..];
        while !rest.is_empty() {
            let n = rng.below(rest.len().min(9)) + 1;
            let (a, b) = rest.split_at(n);
            chunks.push(a);
            rest = b;
        }
        assert_eq!(feed(&chunks, &limits), whole, "{input:?}");
    }
}

#[test]
fn strict_integers() {
    let ok: [(&[u8], i64); 6] = [
        (b"0", 0),
        (b"7", 7),
        (b"-7", -7),
        (b"1234567890", 1234567890),
        (b"9223372036854775807", i64::MAX),
        (b"-9223372036854775808", i64::MIN),
    ];
    for (s, v) in ok {
        assert_eq!(parse_i64_strict(s), Some(v));
    }
    for s in [
        &b""[..],
        b"-",
        b"-0",
        b"00",
        b"01",
        b"+1",
        b" 1",
        b"1 ",
        b"1a",
        b"9223372036854775808",
        b"-9223372036854775809",
        b"99999999999999999999",
        b"000000000000000000001",
    ] {
        assert_eq!(parse_i64_strict(s), None, "{s:?}");
    }
}

#[test]
fn find_byte_matches_naive_search() {
    let mut rng = Rng(42);
    for _ in 0..3000 {
        let len = rng.below(80);
        let hay: Vec<u8> = (0..len).map(|_| b"ab\r\n\x80\xff"[rng.below(6)]).collect();
        for needle in [b'\r', b'\n', 0x80, b'z'] {
            assert_eq!(find_byte(&hay, needle), hay.iter().position(|&b| b == needle), "{hay:?} {needle}");
        }
    }
}
