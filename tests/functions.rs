//! FUNCTION and FCALL over TCP: loading libraries, calling, listing, deleting, dumping and
//! restoring them, flags, the load sandbox, and FUNCTION KILL / FUNCTION STATS.

mod common;

use std::time::{Duration, Instant};

use common::{free_conn, RawConn, TestServer};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn load(raw: &mut RawConn, code: &str) -> String {
    text(&raw.cmd(&[b"FUNCTION", b"LOAD", code.as_bytes()]))
}

fn load_replace(raw: &mut RawConn, code: &str) -> String {
    text(&raw.cmd(&[b"FUNCTION", b"LOAD", b"REPLACE", code.as_bytes()]))
}

const LIB: &str = "#!lua name=mylib\n\
    local function incr(keys, args) return redis.call('INCRBY', keys[1], args[1]) end\n\
    redis.register_function('my_incr', incr)\n\
    redis.register_function{function_name='my_get', callback=function(keys) return redis.call('GET', keys[1]) end, \
    flags={'no-writes'}, description='reads a key'}";

#[test]
fn load_call_list_delete() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    assert_eq!(load(&mut raw, LIB), "$5\r\nmylib\r\n");
    assert_eq!(raw.cmd(&[b"FCALL", b"my_incr", b"1", b"counter", b"5"]), b":5\r\n");
    assert_eq!(raw.cmd(&[b"FCALL", b"MY_INCR", b"1", b"counter", b"2"]), b":7\r\n");
    assert_eq!(raw.cmd(&[b"FCALL_RO", b"my_get", b"1", b"counter"]), b"$1\r\n7\r\n");
    assert_eq!(
        raw.cmd(&[b"FCALL_RO", b"my_incr", b"1", b"counter", b"1"]),
        b"-ERR Can not execute a script with write flag using *_ro command.\r\n"
    );
    assert_eq!(raw.cmd(&[b"FCALL", b"nosuch", b"0"]), b"-ERR Function not found\r\n");
    assert_eq!(raw.cmd(&[b"FCALL", b"my_get", b"x"]), b"-ERR Bad number of keys provided\r\n");
    assert_eq!(
        raw.cmd(&[b"FCALL", b"my_get", b"3", b"a"]),
        b"-ERR Number of keys can't be greater than number of args\r\n"
    );
    assert_eq!(raw.cmd(&[b"FCALL", b"my_get", b"-1"]), b"-ERR Number of keys can't be negative\r\n");
    let list = raw.cmd(&[b"FUNCTION", b"LIST"]);
    let want = "*1\r\n*6\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*2\r\n\
                *6\r\n$4\r\nname\r\n$7\r\nmy_incr\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n\
                *6\r\n$4\r\nname\r\n$6\r\nmy_get\r\n$11\r\ndescription\r\n$11\r\nreads a key\r\n$5\r\nflags\r\n*1\r\n+no-writes\r\n";
    assert_eq!(text(&list), want);
    let with_code = text(&raw.cmd(&[b"FUNCTION", b"LIST", b"WITHCODE", b"LIBRARYNAME", b"my*"]));
    assert!(with_code.contains("library_code") && with_code.contains("#!lua name=mylib"), "{with_code}");
    assert_eq!(raw.cmd(&[b"FUNCTION", b"LIST", b"LIBRARYNAME", b"other*"]), b"*0\r\n");
    assert_eq!(raw.cmd(&[b"FUNCTION", b"LIST", b"BAD"]), b"-ERR Unknown argument BAD\r\n");
    assert_eq!(raw.cmd(&[b"FUNCTION", b"LIST", b"LIBRARYNAME"]), b"-ERR library name argument was not given\r\n");
    assert_eq!(load(&mut raw, LIB), "-ERR Library 'mylib' already exists\r\n");
    assert_eq!(load_replace(&mut raw, LIB), "$5\r\nmylib\r\n");
    let clash = "#!lua name=other\nredis.register_function('my_get', function() return 1 end)";
    assert_eq!(load(&mut raw, clash), "-ERR Function my_get already exists\r\n");
    assert_eq!(raw.cmd(&[b"FUNCTION", b"DELETE", b"mylib"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"FUNCTION", b"DELETE", b"mylib"]), b"-ERR Library not found\r\n");
    assert_eq!(raw.cmd(&[b"FCALL", b"my_get", b"0"]), b"-ERR Function not found\r\n");
    assert_eq!(load(&mut raw, clash), "$5\r\nother\r\n");
    assert_eq!(raw.cmd(&[b"FUNCTION", b"FLUSH"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"FUNCTION", b"LIST"]), b"*0\r\n");
}

#[test]
fn load_errors_carry_redis_texts() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let cases: &[(&str, &str)] = &[
        ("return 1", "-ERR Missing library metadata\r\n"),
        ("#!lua name=x", "-ERR Invalid library metadata\r\n"),
        ("#!lua\nreturn 1", "-ERR Library name was not given\r\n"),
        ("#!lua name=a foo=bar\n", "-ERR Invalid metadata value given: foo=bar\r\n"),
        ("#!lua name=bad-name\n", "-ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long\r\n"),
        ("#!py name=x\n", "-ERR Engine 'py' not found\r\n"),
        ("#!lua name=x\nreturn 1", "-ERR No functions registered\r\n"),
        ("#!lua name=x\nreturn +", "-ERR Error compiling function: user_function:2:"),
        ("#!lua name=x\nreturn math.random()", "-ERR Error registering functions:"),
        ("#!lua name=x\na = 1", "-ERR Error registering functions:"),
        ("#!lua name=x\nredis.register_function('f')", "-ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."),
        ("#!lua name=x\nredis.register_function('f', function() end, 3)", "-ERR Error registering functions: ERR wrong number of arguments to redis.register_function"),
        ("#!lua name=x\nredis.register_function('f', 1)", "-ERR Error registering functions: ERR second argument to redis.register_function must be a function"),
        ("#!lua name=x\nredis.register_function{function_name='f'}", "-ERR Error registering functions: ERR redis.register_function must get a callback argument"),
        ("#!lua name=x\nredis.register_function{function_name='f', callback=function() end, flags={'bad'}}", "-ERR Error registering functions: ERR unknown flag given"),
        ("#!lua name=x\nredis.register_function('f', function() end) redis.register_function('f', function() end)", "-ERR Error registering functions: ERR Function already exists in the library"),
        ("#!lua name=x\nwhile true do end", "-ERR Error registering functions: ERR FUNCTION LOAD timeout"),
    ];
    for (code, want) in cases {
        let got = load(&mut raw, code);
        assert!(got.starts_with(want), "{code}: {got}");
    }
    assert!(load(&mut raw, "#!lua name=x\nreturn math.random()").contains("nonexistent global variable 'math'"));
    assert!(load(&mut raw, "#!lua name=x\na = 1").contains("Attempt to modify a readonly table"));
    assert!(load(&mut raw, "#!lua name=x\nredis.call('ping')").contains("nonexistent global variable 'call'"));
    assert_eq!(raw.cmd(&[b"FUNCTION", b"LOAD", b"BAD", b"x"]), b"-ERR Unknown option given: BAD\r\n");
    assert_eq!(raw.cmd(&[b"FUNCTION", b"FLUSH", b"NOW"]), b"-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n");
    // register_function outside FUNCTION LOAD, and the runtime sandbox.
    let code = "#!lua name=rt\nlocal lib = redis\n\
                redis.register_function('f1', function() lib.register_function('f3', function() end) end)\n\
                redis.register_function('f2', function() lib.x = 1 end)";
    assert_eq!(load(&mut raw, code), "$2\r\nrt\r\n");
    assert!(text(&raw.cmd(&[b"FCALL", b"f1", b"0"])).contains("can only be called on FUNCTION LOAD command"));
    assert!(text(&raw.cmd(&[b"FCALL", b"f2", b"0"])).contains("Attempt to modify a readonly table"));
}

#[test]
fn dump_and_restore_follow_their_policies() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let a = "#!lua name=a\nredis.register_function('fa', function() return 'a1' end)";
    let a2 = "#!lua name=a\nredis.register_function('fa', function() return 'a2' end)";
    let b = "#!lua name=b\nredis.register_function('fb', function() return 'b' end)";
    load(&mut raw, a);
    let dump = raw.cmd(&[b"FUNCTION", b"DUMP"]);
    let header_end = dump.iter().position(|&c| c == b'\n').expect("bulk header") + 1;
    let payload = dump[header_end..dump.len() - 2].to_vec();
    assert_eq!(payload[0], 245, "RDB function opcode");
    assert_eq!(raw.cmd(&[b"FUNCTION", b"RESTORE", &payload]), b"-ERR Library a already exists\r\n");
    raw.cmd(&[b"FUNCTION", b"FLUSH"]);
    assert_eq!(raw.cmd(&[b"FUNCTION", b"RESTORE", &payload]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"FCALL", b"fa", b"0"]), b"$2\r\na1\r\n");
    load_replace(&mut raw, a2);
    load(&mut raw, b);
    assert_eq!(raw.cmd(&[b"FUNCTION", b"RESTORE", &payload, b"REPLACE"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"FCALL", b"fa", b"0"]), b"$2\r\na1\r\n");
    assert_eq!(raw.cmd(&[b"FCALL", b"fb", b"0"]), b"$1\r\nb\r\n");
    assert_eq!(raw.cmd(&[b"FUNCTION", b"RESTORE", &payload, b"FLUSH"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"FCALL", b"fb", b"0"]), b"-ERR Function not found\r\n");
    assert_eq!(
        raw.cmd(&[b"FUNCTION", b"RESTORE", b"bad_payload"]),
        b"-ERR DUMP payload version or checksum are wrong\r\n"
    );
    assert_eq!(
        raw.cmd(&[b"FUNCTION", b"RESTORE", &payload, b"MERGE"]),
        b"-ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.\r\n"
    );
    assert_eq!(
        raw.cmd(&[b"FUNCTION", b"RESTORE", b"a", b"b", b"c"]),
        b"-ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP.\r\n"
    );
    assert_eq!(raw.cmd(&[b"FCALL", b"fa", b"0"]), b"$2\r\na1\r\n");
}

#[test]
fn flags_and_read_only_calls() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let code = "#!lua name=f\n\
                redis.register_function{function_name='ro_write', callback=function() return redis.call('SET', 'k', 'v') end, flags={'no-writes'}}\n\
                redis.register_function('rw', function(keys, args) return redis.call('SET', keys[1], args[1]) end)\n\
                redis.register_function('ro_read', function(keys) return redis.call('GET', keys[1]) end)";
    load(&mut raw, code);
    let got = text(&raw.cmd(&[b"FCALL", b"ro_write", b"0"]));
    assert!(
        got.starts_with(
            "-ERR Write commands are not allowed from read-only scripts. script: ro_write, on @user_function:2."
        ),
        "{got}"
    );
    assert_eq!(raw.cmd(&[b"FCALL", b"rw", b"1", b"k", b"v1"]), b"+OK\r\n");
    assert_eq!(
        raw.cmd(&[b"FCALL_RO", b"ro_read", b"1", b"k"]),
        b"-ERR Can not execute a script with write flag using *_ro command.\r\n"
    );
    assert_eq!(raw.cmd(&[b"COMMAND", b"GETKEYS", b"FCALL", b"rw", b"1", b"k", b"v"]), b"*1\r\n$1\r\nk\r\n");
}

#[test]
fn function_kill_and_stats_while_a_function_is_busy() {
    let srv = TestServer::start_with(&["--busy-reply-threshold", "100"]);
    let mut raw = srv.raw();
    load(
        &mut raw,
        "#!lua name=slow\nredis.register_function('spin', function() local a = 1 while true do a = a + 1 end end)",
    );
    assert_eq!(
        raw.cmd(&[b"FUNCTION", b"STATS"]),
        b"*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:1\r\n"
    );
    raw.send(&common::encode(&[b"FCALL", b"spin", b"0"]));
    std::thread::sleep(Duration::from_millis(50));
    let mut other = free_conn(&srv);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !other.cmd(&[b"PING"]).starts_with(b"-BUSY") {
        assert!(Instant::now() < deadline, "function never became busy");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        other.cmd(&[b"PING"]),
        b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
    );
    let stats = text(&other.cmd(&[b"FUNCTION", b"STATS"]));
    assert!(stats.contains("$4\r\nspin\r\n") && stats.contains("duration_ms"), "{stats}");
    assert_eq!(
        other.cmd(&[b"SCRIPT", b"KILL"]),
        b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
    );
    assert_eq!(other.cmd(&[b"FUNCTION", b"KILL"]), b"+OK\r\n");
    assert!(text(&raw.read_reply()).starts_with("-ERR Script killed by user with SCRIPT KILL..."));
    assert_eq!(other.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(other.cmd(&[b"FUNCTION", b"KILL"]), b"-NOTBUSY No scripts in execution right now.\r\n");
}
