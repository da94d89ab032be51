//! Lua scripting over TCP: EVAL/EVALSHA/SCRIPT, the seeds' lock patterns, conversions, the
//! bundled libraries, the sandbox, and busy scripts (-BUSY, SCRIPT KILL, SHUTDOWN NOSAVE).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{free_conn, RawConn, TestServer};

const LOCK: &str = "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0";
const UNLOCK: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

fn eval(raw: &mut RawConn, script: &str, keys: &[&str], args: &[&str]) -> Vec<u8> {
    let n = keys.len().to_string();
    let mut cmd: Vec<&[u8]> = vec![b"EVAL", script.as_bytes(), n.as_bytes()];
    cmd.extend(keys.iter().map(|k| k.as_bytes()));
    cmd.extend(args.iter().map(|a| a.as_bytes()));
    raw.cmd(&cmd)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Waits until PING on `c` answers -BUSY.
fn wait_busy(c: &mut RawConn) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = c.cmd(&[b"PING"]);
        if r.starts_with(b"-BUSY") {
            return;
        }
        assert!(Instant::now() < deadline, "script never became busy: {}", text(&r));
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn single_flight_lock_lets_exactly_one_of_fifty_loaders_through() {
    let srv = Arc::new(TestServer::start());
    let loads = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for i in 0..50 {
        let (srv, loads) = (srv.clone(), loads.clone());
        threads.push(std::thread::spawn(move || {
            let mut c = srv.client();
            let token = format!("loader-{i}");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let cached: Option<String> = redis::cmd("GET").arg("page:1").query(&mut c).expect("get");
                if let Some(v) = cached {
                    return v;
                }
                let got: i64 = redis::cmd("EVAL")
                    .arg(LOCK)
                    .arg(1)
                    .arg("lock:page:1")
                    .arg(&token)
                    .arg(5000)
                    .query(&mut c)
                    .expect("lock");
                if got == 1 {
                    // Double-checked: another loader may have filled the cache between this
                    // loader's GET and its lock (single-flight code re-reads under the lock).
                    let filled: Option<String> = redis::cmd("GET").arg("page:1").query(&mut c).expect("get");
                    if filled.is_none() {
                        // The slow loader: only the lock holder reaches the backend.
                        loads.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(200));
                        let _: () = redis::cmd("SET").arg("page:1").arg("rendered").query(&mut c).expect("set");
                    }
                    let released: i64 = redis::cmd("EVAL")
                        .arg(UNLOCK)
                        .arg(1)
                        .arg("lock:page:1")
                        .arg(&token)
                        .query(&mut c)
                        .expect("unlock");
                    assert_eq!(released, 1);
                } else {
                    std::thread::sleep(Duration::from_millis(10));
                }
                assert!(Instant::now() < deadline, "loader {i} starved");
            }
        }));
    }
    for t in threads {
        assert_eq!(t.join().expect("loader thread"), "rendered");
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1, "the slow loader ran more than once");
}

#[test]
fn compare_and_delete_releases_only_the_owners_lock() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    assert_eq!(eval(&mut raw, LOCK, &["lock"], &["owner", "10000"]), b":1\r\n");
    assert_eq!(eval(&mut raw, LOCK, &["lock"], &["other", "10000"]), b":0\r\n");
    assert_eq!(eval(&mut raw, UNLOCK, &["lock"], &["other"]), b":0\r\n");
    assert_eq!(raw.cmd(&[b"GET", b"lock"]), b"$5\r\nowner\r\n");
    let pttl = text(&raw.cmd(&[b"PTTL", b"lock"]));
    assert!(pttl.starts_with(':') && !pttl.starts_with(":-"), "lock without its expiry: {pttl}");
    assert_eq!(eval(&mut raw, UNLOCK, &["lock"], &["owner"]), b":1\r\n");
    assert_eq!(raw.cmd(&[b"EXISTS", b"lock"]), b":0\r\n");
    // EVALSHA of the cached lock script.
    let sha = raw.cmd(&[b"SCRIPT", b"LOAD", LOCK.as_bytes()]);
    let sha = &sha[sha.len() - 42..sha.len() - 2];
    assert_eq!(raw.cmd(&[b"EVALSHA", sha, b"1", b"lock", b"t", b"1000"]), b":1\r\n");
}

#[test]
fn script_cache_and_argument_errors() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let reply = raw.cmd(&[b"SCRIPT", b"LOAD", b"return 'cached'"]);
    assert_eq!(reply.len(), 47, "{}", text(&reply));
    let sha = reply[5..45].to_vec();
    assert_eq!(raw.cmd(&[b"EVALSHA", &sha, b"0"]), b"$6\r\ncached\r\n");
    assert_eq!(raw.cmd(&[b"EVALSHA", &sha.to_ascii_uppercase(), b"0"]), b"$6\r\ncached\r\n");
    assert_eq!(
        raw.cmd(&[b"SCRIPT", b"EXISTS", &sha, b"0000000000000000000000000000000000000000"]),
        b"*2\r\n:1\r\n:0\r\n"
    );
    assert_eq!(raw.cmd(&[b"SCRIPT", b"FLUSH"]), b"+OK\r\n");
    let noscript = b"-NOSCRIPT No matching script. Please use EVAL.\r\n".to_vec();
    assert_eq!(raw.cmd(&[b"EVALSHA", &sha, b"0"]), noscript);
    assert_eq!(raw.cmd(&[b"EVALSHA", b"short", b"0"]), noscript);
    assert_eq!(raw.cmd(&[b"SCRIPT", b"FLUSH", b"LATER"]), b"-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n");
    assert_eq!(
        raw.cmd(&[b"EVAL", b"return 1", b"2", b"a"]),
        b"-ERR Number of keys can't be greater than number of args\r\n"
    );
    assert_eq!(raw.cmd(&[b"EVAL", b"return 1", b"-1"]), b"-ERR Number of keys can't be negative\r\n");
    assert_eq!(raw.cmd(&[b"EVAL", b"return 1", b"x"]), b"-ERR value is not an integer or out of range\r\n");
    assert_eq!(raw.cmd(&[b"EVAL", b"return 1"]), b"-ERR wrong number of arguments for 'eval' command\r\n");
    assert_eq!(raw.cmd(&[b"SCRIPT", b"KILL"]), b"-NOTBUSY No scripts in execution right now.\r\n");
    let compile = text(&raw.cmd(&[b"EVAL", b"return +", b"0"]));
    assert!(compile.starts_with("-ERR Error compiling script (new function): user_script:1:"), "{compile}");
    // KEYS and ARGV.
    let r = eval(&mut raw, "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", &["a", "b"], &["c", "d"]);
    assert_eq!(r, b"*6\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n:2\r\n:2\r\n");
}

#[test]
fn lua_values_become_replies() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let cases: &[(&str, &[u8])] = &[
        ("return 100.5", b":100\r\n"),
        ("return -3.9", b":-3\r\n"),
        ("return 'x'", b"$1\r\nx\r\n"),
        ("return true", b":1\r\n"),
        ("return false", b"$-1\r\n"),
        ("return nil", b"$-1\r\n"),
        ("return {ok='fine'}", b"+fine\r\n"),
        ("return {err='MYCODE broken'}", b"-MYCODE broken\r\n"),
        ("return {1, 'a', {2, 3}, nil, 4}", b"*3\r\n:1\r\n$1\r\na\r\n*2\r\n:2\r\n:3\r\n"),
        ("return redis.status_reply('PONG')", b"+PONG\r\n"),
        ("return redis.error_reply('MY_ERR custom')", b"-MY_ERR custom\r\n"),
        ("return redis.error_reply('no code')", b"-no code\r\n"),
        ("return {double=3.5}", b"$3\r\n3.5\r\n"),
        ("return {map={a=1}}", b"*2\r\n$1\r\na\r\n:1\r\n"),
        ("return {set={a=true}}", b"*1\r\n$1\r\na\r\n"),
        ("return {big_number='123456789012345678901234567890'}", b"$30\r\n123456789012345678901234567890\r\n"),
    ];
    for (script, want) in cases {
        assert_eq!(text(&eval(&mut raw, script, &[], &[])), text(want), "{script}");
    }
}

#[test]
fn replies_become_lua_values() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.cmd(&[b"SET", b"n", b"41"]);
    raw.cmd(&[b"RPUSH", b"l", b"a", b"b"]);
    let script = "return {type(redis.call('INCR', 'n')), type(redis.call('GET', 'missing')), \
                  redis.call('SET', 'x', 'y').ok, redis.pcall('LPUSH', 'n', 'v').err, \
                  #redis.call('LRANGE', 'l', 0, -1), tostring(redis.call('GET', 'missing'))}";
    let want = "*6\r\n$6\r\nnumber\r\n$7\r\nboolean\r\n$2\r\nOK\r\n\
                $65\r\nWRONGTYPE Operation against a key holding the wrong kind of value\r\n:2\r\n$5\r\nfalse\r\n";
    assert_eq!(text(&eval(&mut raw, script, &[], &[])), want);
    // Arguments: numbers are formatted as Redis formats doubles, integers stay integers.
    assert_eq!(
        eval(&mut raw, "redis.call('SET', 'f', 3.5, 'EX', 100) return redis.call('GET', 'f')", &[], &[]),
        b"$3\r\n3.5\r\n"
    );
    let err = text(&eval(&mut raw, "return redis.call('SET', 'f', {})", &[], &[]));
    assert!(err.starts_with("-ERR Lua redis lib command arguments must be strings or integers script:"), "{err}");
    let err = text(&eval(&mut raw, "return redis.call()", &[], &[]));
    assert!(err.starts_with("-ERR Please specify at least one argument for this redis lib call script:"), "{err}");
}

#[test]
fn resp3_conversions_follow_setresp_and_the_callers_protocol() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.cmd(&[b"HSET", b"h", b"f", b"v"]);
    let hgetall = "redis.setresp(3) return redis.call('HGETALL', KEYS[1])";
    // RESP2 caller: maps flatten, doubles are bulk strings, RESP3 booleans are integers.
    assert_eq!(eval(&mut raw, hgetall, &["h"], &[]), b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(eval(&mut raw, "redis.setresp(3) return true", &[], &[]), b":1\r\n");
    assert_eq!(eval(&mut raw, "redis.setresp(3) return false", &[], &[]), b":0\r\n");
    assert!(raw.cmd(&[b"HELLO", b"3"]).starts_with(b"%"));
    assert_eq!(eval(&mut raw, hgetall, &["h"], &[]), b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(eval(&mut raw, "redis.setresp(3) return true", &[], &[]), b"#t\r\n");
    assert_eq!(eval(&mut raw, "return false", &[], &[]), b"_\r\n");
    assert_eq!(eval(&mut raw, "return {double=1.5}", &[], &[]), b",1.5\r\n");
    assert_eq!(eval(&mut raw, "return {map={k='v'}}", &[], &[]), b"%1\r\n$1\r\nk\r\n$1\r\nv\r\n");
    let inner =
        "redis.setresp(3) local m = redis.call('HGETALL', KEYS[1]) return {m.map.f, type(redis.call('GET', 'nokey'))}";
    assert_eq!(eval(&mut raw, inner, &["h"], &[]), b"*2\r\n$1\r\nv\r\n$3\r\nnil\r\n");
    let bad = text(&eval(&mut raw, "redis.setresp(4)", &[], &[]));
    assert!(bad.starts_with("-ERR RESP version must be 2 or 3. script:"), "{bad}");
}

#[test]
fn script_errors_carry_redis_texts() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let sha = "03c387736bb5cc009ff35151572cee04677aa374";
    assert_eq!(
        text(&eval(&mut raw, "return x", &[], &[])),
        format!("-ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: {sha}, on @user_script:1.\r\n")
    );
    let cases: &[(&str, &str)] = &[
        ("return redis.call('NOSUCH')", "-ERR Unknown Redis command called from script script:"),
        ("return redis.call('GET')", "-ERR Wrong number of args calling Redis command from script script:"),
        ("return redis.call('MULTI')", "-ERR This Redis command is not allowed from script script:"),
        ("return redis.call('EVAL', 'return 1', 0)", "-ERR This Redis command is not allowed from script script:"),
        ("redis.call('SET', 'k', 'v') return redis.call('LPUSH', 'k', 'x')", "-WRONGTYPE Operation against a key"),
        ("error('boom')", "-ERR user_script:1: boom script:"),
        ("error({err='CUSTOM failure'})", "-CUSTOM failure script:"),
        ("local t = nil; return t.x", "-ERR user_script:1: attempt to index local 't' (a nil value) script:"),
        (
            "#!lua flags=no-writes\nreturn redis.call('SET', 'k', 'v')",
            "-ERR Write commands are not allowed from read-only scripts. script:",
        ),
        ("#!lua flags=bogus\nreturn 1", "-ERR Unexpected flag in script shebang: bogus\r\n"),
        ("#!perl\nreturn 1", "-ERR Unexpected engine in script shebang: #!perl\r\n"),
        ("#!lua x=1\nreturn 1", "-ERR Unknown lua shebang option: x=1\r\n"),
    ];
    for (script, want) in cases {
        let got = text(&eval(&mut raw, script, &[], &[]));
        assert!(got.starts_with(want), "{script}: {got}");
    }
    // The line of the failing call is reported.
    let got = text(&eval(&mut raw, "local a = 1\nlocal b = 2\nreturn redis.call('NOSUCH')", &[], &[]));
    assert!(got.ends_with(", on @user_script:3.\r\n"), "{got}");
    let got = text(&raw.cmd(&[b"EVAL_RO", b"return redis.call('DEL', KEYS[1])", b"1", b"k"]));
    assert!(got.starts_with("-ERR Write commands are not allowed from read-only scripts."), "{got}");
    let got = text(&raw.cmd(&[b"EVAL_RO", b"#!lua\nreturn 1", b"0"]));
    assert_eq!(got, "-ERR Can not execute a script with write flag using *_ro command.\r\n");
    assert_eq!(raw.cmd(&[b"EVAL_RO", b"#!lua flags=no-writes\nreturn redis.call('GET', 'k')", b"0"]), b"$1\r\nv\r\n");
    // redis.pcall returns the error instead of raising it.
    assert_eq!(
        eval(&mut raw, "local e = redis.pcall('NOSUCH') return e.err", &[], &[]),
        b"$44\r\nERR Unknown Redis command called from script\r\n"
    );
    assert_eq!(
        eval(&mut raw, "local ok, e = pcall(redis.call, 'NOSUCH') return e", &[], &[]),
        b"$44\r\nERR Unknown Redis command called from script\r\n"
    );
}

#[test]
fn sandbox_escapes_are_refused() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let readonly = "Attempt to modify a readonly table";
    for script in [
        "x = 1",
        "_G.x = 1",
        "setmetatable(_G, {})",
        "getmetatable(_G).__index = {}",
        "rawset(_G, 'x', 1)",
        "redis.call = function() return 1 end",
        "cjson.encode = nil",
        "string.upper = nil",
        "getmetatable('').__index.upper = nil",
        "table.insert(redis, 1)",
        "getfenv(tostring).x = 1",
        "math.random = nil",
    ] {
        let got = text(&eval(&mut raw, script, &[], &[]));
        assert!(got.contains(readonly), "{script}: {got}");
    }
    for name in ["os", "io", "loadfile", "dofile", "print", "require", "module", "debug", "package"] {
        let got = text(&eval(&mut raw, &format!("return {name}"), &[], &[]));
        assert!(got.contains(&format!("nonexistent global variable '{name}'")), "{name}: {got}");
    }
    let got = text(&eval(&mut raw, "return loadstring(string.dump(function() return 1 end))()", &[], &[]));
    assert!(got.contains("attempt to call a nil value"), "{got}");
    // Reading through the protection still works: iteration, length of KEYS, string methods.
    let r = eval(
        &mut raw,
        "local n = 0 for k in pairs(redis) do n = n + 1 end return {n > 5, ('ab'):upper(), #KEYS}",
        &["k"],
        &[],
    );
    assert_eq!(r, b"*3\r\n:1\r\n$2\r\nAB\r\n:1\r\n");
    // Nothing leaked into the next script.
    assert!(text(&eval(&mut raw, "return x", &[], &[])).contains("nonexistent global variable 'x'"));
}

#[test]
fn scripts_touch_undeclared_keys_across_shards_and_databases() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    // Sidekiq-style: move a job between lists and write per-job keys the script builds itself.
    raw.cmd(&[b"LPUSH", b"queue:default", b"job-1"]);
    let fetch = "local job = redis.call('RPOPLPUSH', 'queue:default', 'queue:working') \
                 if not job then return false end \
                 redis.call('HSET', 'job:' .. job, 'state', 'working', 'at', ARGV[1]) \
                 redis.call('ZADD', 'schedule', ARGV[1], job) \
                 redis.call('INCR', 'stat:processed') \
                 return job";
    assert_eq!(eval(&mut raw, fetch, &[], &["1700000000"]), b"$5\r\njob-1\r\n");
    assert_eq!(eval(&mut raw, fetch, &[], &["1700000001"]), b"$-1\r\n");
    assert_eq!(raw.cmd(&[b"HGET", b"job:job-1", b"state"]), b"$7\r\nworking\r\n");
    // BullMQ-style: keys derived from a prefix, spread over every shard.
    let fill = "for i = 1, 200 do redis.call('SET', ARGV[1] .. i, i) end return redis.call('DBSIZE')";
    assert_eq!(eval(&mut raw, fill, &[], &["bull:q:"]), b":204\r\n");
    let sum = "local s = 0 for i = 1, 200 do s = s + tonumber(redis.call('GET', ARGV[1] .. i)) end return s";
    assert_eq!(eval(&mut raw, sum, &[], &["bull:q:"]), b":20100\r\n");
    // SELECT inside a script changes only the script's database.
    let other_db = "redis.call('SELECT', 3) redis.call('SET', 'in3', 'yes') return redis.call('DBSIZE')";
    assert_eq!(eval(&mut raw, other_db, &[], &[]), b":1\r\n");
    assert_eq!(raw.cmd(&[b"EXISTS", b"in3"]), b":0\r\n");
    assert_eq!(raw.cmd(&[b"SELECT", b"3"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"GET", b"in3"]), b"$3\r\nyes\r\n");
    // Scripts run in the caller's database.
    assert_eq!(eval(&mut raw, "return redis.call('GET', 'in3')", &[], &[]), b"$3\r\nyes\r\n");
}

#[test]
fn scripts_do_not_block_and_wake_blocked_clients() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    assert_eq!(eval(&mut raw, "return redis.call('BLPOP', 'empty', 0)", &[], &[]), b"$-1\r\n");
    let mut waiter = srv.raw();
    waiter.send(&common::encode(&[b"BLPOP", b"jobs", b"0"]));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(eval(&mut raw, "return redis.call('LPUSH', 'jobs', 'j1')", &[], &[]), b":1\r\n");
    assert_eq!(waiter.read_reply(), b"*2\r\n$4\r\njobs\r\n$2\r\nj1\r\n");
    // Inside MULTI/EXEC.
    assert_eq!(raw.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"EVAL", b"return redis.call('INCR', KEYS[1])", b"1", b"c"]), b"+QUEUED\r\n");
    assert_eq!(raw.cmd(&[b"EVAL", b"return redis.call('INCR', KEYS[1])", b"1", b"c"]), b"+QUEUED\r\n");
    assert_eq!(raw.cmd(&[b"EXEC"]), b"*2\r\n:1\r\n:2\r\n");
}

#[test]
fn bundled_libraries() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let cases: &[(&str, &str)] = &[
        ("return cjson.encode({a={1,2,3}})", "$13\r\n{\"a\":[1,2,3]}\r\n"),
        ("return cjson.encode({})", "$2\r\n{}\r\n"),
        ("return cjson.encode('a/b')", "$6\r\n\"a\\/b\"\r\n"),
        ("return cjson.encode(0.1)", "$3\r\n0.1\r\n"),
        ("local t = cjson.decode('{\"k\":[1,\"x\",null,true]}') return {t.k[1], t.k[2], t.k[3] == cjson.null, t.k[4]}", "*4\r\n:1\r\n$1\r\nx\r\n:1\r\n:1\r\n"),
        ("return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')", "$26\r\n0 -5000 -1 0.0003 1023.2 0\r\n"),
        ("local ok = pcall(cjson.decode, '{bad') return ok", "$-1\r\n"),
        ("local m = cmsgpack.pack({1, 2, {a='b'}}) local t = cmsgpack.unpack(m) return {#m, t[3].a}", "*2\r\n:8\r\n$1\r\nb\r\n"),
        ("local h = '' for c in cmsgpack.pack(0.1):gmatch('.') do h = h .. string.format('%02x', c:byte()) end return h", "$18\r\ncb3fb999999999999a\r\n"),
        ("return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(1, 3), bit.lshift(1, 31), bit.tohex(255), bit.bnot(0)}", "*6\r\n:15\r\n:7\r\n:2\r\n:-2147483648\r\n$8\r\n000000ff\r\n:-1\r\n"),
        ("return {bit.tobit(4294967297), bit.arshift(-16, 2), bit.rol(1, 33), bit.bswap(0x01020304)}", "*4\r\n:1\r\n:-4\r\n:2\r\n:67305985\r\n"),
        ("return {struct.unpack('>I2 i4 s', struct.pack('>I2 i4 s', 513, -7, 'hi'))}", "*4\r\n:513\r\n:-7\r\n$2\r\nhi\r\n:10\r\n"),
        ("return struct.size('>i4 !4 b i4')", ":12\r\n"),
        ("return redis.sha1hex('')", "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"),
        ("math.randomseed(7) local a = math.random(100) math.randomseed(7) return a == math.random(100)", ":1\r\n"),
        ("return redis.REDIS_VERSION_NUM > 0x00070000", ":1\r\n"),
    ];
    for (script, want) in cases {
        assert_eq!(text(&eval(&mut raw, script, &[], &[])), *want, "{script}");
    }
    let got = text(&eval(&mut raw, "return cjson.encode(function() end)", &[], &[]));
    assert!(got.starts_with("-ERR user_script:1: Cannot serialise function: type not supported script:"), "{got}");
    let got = text(&eval(&mut raw, "return cjson.decode('[1,')", &[], &[]));
    assert!(got.contains("Expected value but found T_END at character 4"), "{got}");
}

#[test]
fn script_kill_stops_an_endless_script_while_others_get_busy() {
    let srv = TestServer::start_with(&["--busy-reply-threshold", "100"]);
    let mut runner = srv.raw();
    runner.send(&common::encode(&[b"EVAL", b"while true do end", b"0"]));
    std::thread::sleep(Duration::from_millis(50));
    let mut other = free_conn(&srv);
    wait_busy(&mut other);
    assert_eq!(
        other.cmd(&[b"GET", b"k"]),
        b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
    );
    assert_eq!(
        other.cmd(&[b"FUNCTION", b"KILL"]),
        b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
    );
    assert_eq!(other.cmd(&[b"SCRIPT", b"KILL"]), b"+OK\r\n");
    let killed = text(&runner.read_reply());
    assert!(killed.starts_with("-ERR Script killed by user with SCRIPT KILL..."), "{killed}");
    assert_eq!(other.cmd(&[b"PING"]), b"+PONG\r\n");
    // A script that catches the kill with pcall is stopped all the same.
    runner.send(&common::encode(&[b"EVAL", b"while true do pcall(function() while true do end end) end", b"0"]));
    std::thread::sleep(Duration::from_millis(50));
    wait_busy(&mut other);
    assert_eq!(other.cmd(&[b"SCRIPT", b"KILL"]), b"+OK\r\n");
    assert!(text(&runner.read_reply()).contains("Script killed by user"));
    assert_eq!(runner.cmd(&[b"PING"]), b"+PONG\r\n");
}

#[test]
fn a_script_that_wrote_is_unkillable_and_shutdown_nosave_stops_the_server() {
    let mut srv = TestServer::start_with(&["--busy-reply-threshold", "100"]);
    let mut runner = srv.raw();
    runner.send(&common::encode(&[b"EVAL", b"redis.call('SET', 'x', 1) while true do end", b"0"]));
    std::thread::sleep(Duration::from_millis(50));
    let mut other = free_conn(&srv);
    wait_busy(&mut other);
    let got = text(&other.cmd(&[b"SCRIPT", b"KILL"]));
    assert!(
        got.starts_with("-UNKILLABLE Sorry the script already executed write commands against the dataset."),
        "{got}"
    );
    other.send(&common::encode(&[b"SHUTDOWN", b"NOSAVE"]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while srv.alive() {
        assert!(Instant::now() < deadline, "server still running after SHUTDOWN NOSAVE");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn info_memory_reports_scripts_and_libraries() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let field = |c: &mut redis::Connection, name: &str| -> i64 {
        let info: String = redis::cmd("INFO").arg("memory").query(c).expect("info");
        info.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).and_then(|v| v.trim().parse().ok()).unwrap_or(-1)
    };
    assert_eq!(field(&mut c, "number_of_cached_scripts"), 0);
    let _: String = redis::cmd("SCRIPT").arg("LOAD").arg("return 1").query(&mut c).expect("load");
    let _: String = redis::cmd("SCRIPT").arg("LOAD").arg("return 2").query(&mut c).expect("load");
    assert_eq!(field(&mut c, "number_of_cached_scripts"), 2);
    assert!(field(&mut c, "used_memory_vm_eval") > 0);
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut c).expect("flush");
    assert_eq!(field(&mut c, "number_of_cached_scripts"), 0);
    let lib = "#!lua name=mylib\nredis.register_function('f', function() return 1 end)";
    let _: String = redis::cmd("FUNCTION").arg("LOAD").arg(lib).query(&mut c).expect("function load");
    assert_eq!(field(&mut c, "number_of_libraries"), 1);
    assert_eq!(field(&mut c, "number_of_functions"), 1);
}

/// With one worker thread, every client shares the busy script's thread: they are served from
/// the script's hook, as Redis serves clients between a busy script's instructions.
#[test]
fn clients_on_the_busy_scripts_own_thread_get_busy_and_can_kill_it() {
    let srv = TestServer::start_with(&["--busy-reply-threshold", "100", "--io-threads", "1"]);
    let mut before = srv.raw();
    assert_eq!(before.cmd(&[b"SET", b"xx", b"1"]), b"+OK\r\n");
    assert_eq!(before.cmd(&[b"MULTI"]), b"+OK\r\n");
    let mut runner = srv.raw();
    runner.send(&common::encode(&[b"EVAL", b"while true do end", b"0"]));
    // A connection accepted while the script runs is served too.
    let mut late = srv.raw();
    wait_busy(&mut late);
    let busy: &[u8] = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
    assert_eq!(late.cmd(&[b"GET", b"xx"]), busy);
    // A command queued in MULTI during the busy time is refused, which aborts the transaction.
    assert_eq!(before.cmd(&[b"INCR", b"xx"]), busy);
    // Pipelined requests each get their reply.
    late.send(&[common::encode(&[b"PING"]), common::encode(&[b"GET", b"xx"])].concat());
    assert_eq!(late.read_reply(), busy);
    assert_eq!(late.read_reply(), busy);
    // EXEC during the busy time ends the transaction, naming the reason.
    let exec = text(&before.cmd(&[b"EXEC"]));
    assert_eq!(exec, format!("-EXECABORT Transaction discarded because of: {}", &text(busy)[1..]));
    assert_eq!(before.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(late.cmd(&[b"SCRIPT", b"KILL"]), b"+OK\r\n");
    let killed = text(&runner.read_reply());
    assert!(killed.starts_with("-ERR Script killed by user with SCRIPT KILL..."), "{killed}");
    assert_eq!(before.cmd(&[b"EXEC"]), b"*0\r\n");
    assert_eq!(before.cmd(&[b"GET", b"xx"]), b"$1\r\n1\r\n");
    // The script's own connection works again, including what it sent during the script.
    runner.send(
        &[
            common::encode(&[b"EVAL", b"local i = 0 while i < 3000000 do i = i + 1 end return i", b"0"]),
            common::encode(&[b"PING"]),
        ]
        .concat(),
    );
    assert_eq!(runner.read_reply(), b":3000000\r\n");
    assert_eq!(runner.read_reply(), b"+PONG\r\n");
    assert_eq!(late.cmd(&[b"PING"]), b"+PONG\r\n");
}

/// A function past the threshold on the only worker: FUNCTION KILL from a client of the same
/// thread stops it.
#[test]
fn function_kill_from_the_busy_functions_own_thread() {
    let srv = TestServer::start_with(&["--busy-reply-threshold", "100", "--io-threads", "1"]);
    let mut runner = srv.raw();
    let lib = b"#!lua name=spin\nredis.register_function('spin', function() while true do end end)";
    assert_eq!(runner.cmd(&[b"FUNCTION", b"LOAD", lib]), b"$4\r\nspin\r\n");
    runner.send(&common::encode(&[b"FCALL", b"spin", b"0"]));
    let mut other = srv.raw();
    wait_busy(&mut other);
    assert_eq!(other.cmd(&[b"FUNCTION", b"KILL"]), b"+OK\r\n");
    let killed = text(&runner.read_reply());
    assert!(killed.contains("killed"), "{killed}");
    assert_eq!(runner.cmd(&[b"PING"]), b"+PONG\r\n");
}

/// A standalone server answers cluster commands as Redis without cluster-enabled does, and a
/// script may not call CLUSTER RESET.
#[test]
fn cluster_commands_report_cluster_support_disabled() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let disabled: &[u8] = b"-ERR This instance has cluster support disabled\r\n";
    assert_eq!(c.cmd(&[b"CLUSTER", b"INFO"]), disabled);
    assert_eq!(c.cmd(&[b"CLUSTER", b"KEYSLOT", b"foo"]), disabled);
    assert_eq!(c.cmd(&[b"READONLY"]), disabled);
    assert_eq!(c.cmd(&[b"READWRITE"]), disabled);
    let got = text(&c.cmd(&[b"CLUSTER", b"NOPE"]));
    assert!(got.starts_with("-ERR unknown subcommand 'NOPE'"), "{got}");
    let got = text(&eval(&mut c, "return redis.pcall('cluster', 'reset', 'hard')", &[], &[]));
    assert!(got.contains("This Redis command is not allowed from script"), "{got}");
    let got = text(&eval(&mut c, "return redis.pcall('cluster', 'info')", &[], &[]));
    assert!(got.contains("cluster support disabled"), "{got}");
}

/// `min-replicas-to-write` with no replica refuses writes with -NOREPLICAS: plain writes,
/// writes inside scripts, and scripts declaring they may write; reads still work.
#[test]
fn min_replicas_to_write_refuses_writes_without_replicas() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"SET", b"x", b"v"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"min-replicas-to-write", b"1"]), b"+OK\r\n");
    let norep: &[u8] = b"-NOREPLICAS Not enough good replicas to write.\r\n";
    assert_eq!(c.cmd(&[b"SET", b"x", b"w"]), norep);
    assert_eq!(c.cmd(&[b"GET", b"x"]), b"$1\r\nv\r\n");
    assert_eq!(eval(&mut c, "#!lua flags=no-writes\nreturn redis.call('get','x')", &["x"], &[]), b"$1\r\nv\r\n");
    assert_eq!(eval(&mut c, "return redis.call('get','x')", &["x"], &[]), b"$1\r\nv\r\n");
    assert_eq!(eval(&mut c, "#!lua\nreturn redis.call('get','x')", &["x"], &[]), norep);
    let got = text(&eval(&mut c, "return redis.call('set','x','w')", &["x"], &[]));
    assert!(got.starts_with("-NOREPLICAS Not enough good replicas to write."), "{got}");
    // min-replicas-max-lag 0 turns the check off, as in Redis.
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"min-replicas-max-lag", b"0"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"SET", b"x", b"w"]), b"+OK\r\n");
}

/// A request CLIENT PAUSE holds back while a busy script runs on the same thread is run once
/// the pause ends.
#[test]
fn a_request_paused_during_a_busy_script_runs_after_unpause() {
    let srv = TestServer::start_with(&["--busy-reply-threshold", "100", "--io-threads", "1"]);
    let mut admin = srv.raw();
    assert_eq!(admin.cmd(&[b"CLIENT", b"PAUSE", b"60000", b"WRITE"]), b"+OK\r\n");
    let mut runner = srv.raw();
    runner.send(&common::encode(&[b"EVAL", b"#!lua flags=no-writes\nwhile true do end", b"0"]));
    let mut other = srv.raw();
    wait_busy(&mut other);
    let mut writer = srv.raw();
    writer.send(&common::encode(&[b"SET", b"k", b"v"]));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(other.cmd(&[b"SCRIPT", b"KILL"]), b"+OK\r\n");
    assert!(text(&runner.read_reply()).contains("killed"));
    assert_eq!(admin.cmd(&[b"CLIENT", b"UNPAUSE"]), b"+OK\r\n");
    assert_eq!(writer.read_reply(), b"+OK\r\n");
    assert_eq!(other.cmd(&[b"GET", b"k"]), b"$1\r\nv\r\n");
}

#[test]
fn redis_call_takes_thousands_of_unpacked_arguments() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    for f in ["call", "pcall"] {
        let script =
            format!("local a = {{}} for i=1,7999 do a[i] = 1 end return redis.{f}('lpush', KEYS[1], unpack(a))");
        assert_eq!(text(&eval(&mut c, &script, &[&format!("l-{f}")], &[])), ":7999\r\n");
    }
}

#[test]
fn collector_callbacks_calling_redis_during_a_reply_are_refused_cleanly() {
    // __gc metamethods (newproxy) run whenever the collector runs, also while redis.call is
    // pushing a reply: a redis.call from there is refused as recursive, an error from there
    // fails the script, and neither disturbs the server or later scripts.
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(
        text(&eval(&mut c, "for i=1,200 do redis.call('rpush', KEYS[1], i) end return 1", &["big"], &[])),
        ":1\r\n"
    );
    let churn = "local n = 0
        for round = 1, 50 do
            for i = 1, 200 do
                local p = newproxy(true)
                getmetatable(p).__gc = function() %GC% end
            end
            local ok, r = pcall(redis.call, 'lrange', KEYS[1], 0, -1)
            if ok then n = n + #r end
        end
        return n";
    // Outside a reply, a collector callback's redis.call runs normally.
    let r = eval(
        &mut c,
        "local p = newproxy(true) getmetatable(p).__gc = function() redis.call('set', 'from-gc', 'yes') end
         p = nil collectgarbage() return redis.call('get', 'from-gc')",
        &[],
        &[],
    );
    assert_eq!(text(&r), "$3\r\nyes\r\n");
    // Runs every pending finalizer (each failing one stops a collection) before going on.
    let drain = "for i = 1, 100000 do if pcall(collectgarbage) then return i end end return -1";
    for gc in ["redis.call('incr', 'gc-calls')", "error('boom')", "redis.pcall('incr', 'gc-calls')"] {
        let r = text(&eval(&mut c, &churn.replace("%GC%", gc), &["big"], &[]));
        assert!(r.starts_with(':') || r.starts_with('-'), "{gc}: {r}");
        assert_eq!(text(&c.cmd(&[b"PING"])), "+PONG\r\n", "{gc}");
        assert!(text(&eval(&mut c, drain, &[], &[])).starts_with(':'), "{gc}");
        // redis.call works again at once.
        assert_eq!(text(&eval(&mut c, "return redis.call('llen', KEYS[1])", &["big"], &[])), ":200\r\n", "{gc}");
    }
}

#[test]
fn redis_call_arguments_convert_like_lua_5_1_numbers() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let r = eval(
        &mut c,
        "redis.call('rpush', KEYS[1], 7, 3.5, 1e20, 2^53, 'x')
         return redis.call('lrange', KEYS[1], 0, -1)",
        &["nums"],
        &[],
    );
    assert_eq!(text(&r), "*5\r\n$1\r\n7\r\n$3\r\n3.5\r\n$5\r\n1e+20\r\n$16\r\n9007199254740992\r\n$1\r\nx\r\n");
    // Negative zero is not integral in Lua 5.1's sense (its own chunk: Lua shares the
    // constant with 0 otherwise).
    assert_eq!(text(&eval(&mut c, "return redis.call('echo', -0.0)", &[], &[])), "$2\r\n-0\r\n");
}
