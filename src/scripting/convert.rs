//! Conversion of a script's result into its reply, as Redis 7.2 does it (the other direction,
//! command replies into Lua values, is in `raw_call`).
//!
//! Lua → Redis (what a script returns): strings are bulk strings, numbers integers (truncated),
//! `true` is 1 and `false` null (RESP3 scripts: booleans), tables with `err`, `ok`, `double`,
//! `big_number`, `verbatim_string`, `map` or `set` fields the matching reply, other tables
//! arrays up to their first nil, anything else null.

use larder_resp::Reply;
use mlua::{Table, Value};

/// Deepest table nesting a script may return; deeper elements are replaced by an error, as
/// Redis does when its Lua stack runs out.
const MAX_REPLY_DEPTH: usize = 200;

/// An error the script's reply contains.
pub struct ReplyError {
    /// Its text (code first).
    pub text: Vec<u8>,
    /// True when the error was already counted where it happened (a command's error reply
    /// passed back from redis.pcall).
    pub counted: bool,
}

/// Writes the Lua value `v` as a reply in the caller's protocol. `script_resp3` is the
/// protocol the script chose with redis.setresp (it decides how booleans are returned).
/// Every error written is pushed to `errors`, in order.
pub fn lua_to_reply(
    v: &Value,
    out: &mut Vec<u8>,
    caller_resp3: bool,
    script_resp3: bool,
    errors: &mut Vec<ReplyError>,
) {
    let mut w = Writer { out, caller_resp3, script_resp3, errors };
    w.value(v, 0);
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    caller_resp3: bool,
    script_resp3: bool,
    errors: &'a mut Vec<ReplyError>,
}

fn field(t: &Table, name: &str) -> Value {
    t.raw_get::<Value>(name).unwrap_or(Value::Nil)
}

/// Status and big-number texts are one line: CR and LF become spaces, as Redis maps them.
fn one_line(b: &[u8]) -> Vec<u8> {
    b.iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }).collect()
}

impl Writer<'_> {
    fn reply(&mut self) -> Reply<'_> {
        Reply::new(self.out, self.caller_resp3)
    }

    fn error(&mut self, text: Vec<u8>, counted: bool) {
        self.reply().error(&text);
        self.errors.push(ReplyError { text, counted });
    }

    fn value(&mut self, v: &Value, depth: usize) {
        match v {
            Value::String(s) => self.reply().bulk(&s.as_bytes()),
            Value::Boolean(b) => {
                if self.script_resp3 {
                    self.reply().boolean(*b)
                } else if *b {
                    self.reply().int(1)
                } else {
                    self.reply().null()
                }
            }
            Value::Integer(i) => self.reply().int(*i),
            Value::Number(n) => self.reply().int(*n as i64),
            Value::Table(t) => {
                if depth >= MAX_REPLY_DEPTH {
                    self.error(b"ERR reached lua stack limit".to_vec(), false);
                } else {
                    self.table(t, depth)
                }
            }
            _ => self.reply().null(),
        }
    }

    fn table(&mut self, t: &Table, depth: usize) {
        if let Value::String(e) = field(t, "err") {
            let counted = matches!(field(t, "ignore_error_stats_update"), Value::Boolean(true));
            self.error(e.as_bytes().to_vec(), counted);
            return;
        }
        if let Value::String(s) = field(t, "ok") {
            let text = one_line(&s.as_bytes());
            self.reply().simple(&text);
            return;
        }
        match field(t, "double") {
            Value::Number(d) => return self.reply().double(d),
            Value::Integer(i) => return self.reply().double(i as f64),
            _ => {}
        }
        if let Value::String(s) = field(t, "big_number") {
            let text = one_line(&s.as_bytes());
            self.reply().big_number(&text);
            return;
        }
        if let Value::Table(vt) = field(t, "verbatim_string") {
            if let (Value::String(f), Value::String(s)) = (field(&vt, "format"), field(&vt, "string")) {
                let fb = f.as_bytes();
                let mut format = *b"txt";
                for (i, b) in fb.iter().take(3).enumerate() {
                    format[i] = *b;
                }
                self.reply().verbatim(&format, &s.as_bytes());
                return;
            }
        }
        if let Value::Table(m) = field(t, "map") {
            let d = self.reply().deferred();
            let mut n = 0;
            for (k, v) in m.pairs::<Value, Value>().flatten() {
                self.value(&k, depth + 1);
                self.value(&v, depth + 1);
                n += 1;
            }
            self.reply().finish_map(d, n);
            return;
        }
        if let Value::Table(s) = field(t, "set") {
            let d = self.reply().deferred();
            let mut n = 0;
            for (k, _) in s.pairs::<Value, Value>().flatten() {
                self.value(&k, depth + 1);
                n += 1;
            }
            self.reply().finish_set(d, n);
            return;
        }
        let d = self.reply().deferred();
        let mut n = 0usize;
        loop {
            let v: Value = t.raw_get(n + 1).unwrap_or(Value::Nil);
            if v.is_nil() {
                break;
            }
            self.value(&v, depth + 1);
            n += 1;
        }
        self.reply().finish_array(d, n);
    }
}
