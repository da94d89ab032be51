//! RESP2/RESP3 for Larder: an incremental request parser and a reply encoder.
//!
//! This crate knows nothing of sockets or of the keyspace. It turns bytes a
//! client sent into requests ([`RequestParser`], [`Request`], [`Args`]) and
//! replies into bytes ([`Reply`]); reading, writing and executing belong to
//! other crates. Behaviour, limits and error texts follow Redis 7.2.
//!
//! Reading order: [`parse`](RequestParser::parse) (requests),
//! [`Args`] (argument views), [`Reply`] (encoding), [`split_args`] (inline
//! and config lines), [`format_double`] (how doubles are printed).
//!
//! ```
//! use larder_resp::{Parse, ParseLimits, Reply, Request, RequestParser};
//!
//! let buf = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n";
//! let (mut parser, mut req) = (RequestParser::new(), Request::new());
//! let limits = ParseLimits::default();
//! let consumed = match parser.parse(buf, &limits, &mut req) {
//!     Ok(Parse::Complete { consumed }) => consumed,
//!     other => panic!("{other:?}"),
//! };
//! let args = req.args(buf);
//! assert_eq!((&args[0], &args[1]), (&b"GET"[..], &b"k"[..]));
//!
//! let mut out = Vec::new();
//! Reply::new(&mut out, false).null();
//! assert_eq!(out, b"$-1\r\n");
//! # let _ = consumed;
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod args;
mod double;
mod parse;
mod reply;
mod split;

pub use args::{Args, ArgsIter, OwnedArgs};
pub use double::format_double;
pub use parse::{Parse, ParseLimits, ProtocolError, Request, RequestParser, DEFAULT_MAX_BULK_LEN, INLINE_MAX_SIZE};
pub use reply::{Deferred, Reply};
pub use split::split_args;
