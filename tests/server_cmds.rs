//! Server commands: TIME, INFO, CONFIG, SLOWLOG, MONITOR, WAIT, COMMAND, DEBUG, SHUTDOWN.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{RawConn, TestServer};
use redis::Value;

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).expect("utf8 reply")
}

/// The body of a RESP2 bulk-string reply.
fn bulk_body(reply: Vec<u8>) -> String {
    let t = text(reply);
    assert!(t.starts_with('$'), "not a bulk string: {t}");
    t[t.find("\r\n").unwrap() + 2..t.len() - 2].to_string()
}

fn info(c: &mut RawConn, sections: &[&[u8]]) -> String {
    let mut args: Vec<&[u8]> = vec![b"INFO"];
    args.extend_from_slice(sections);
    bulk_body(c.cmd(&args))
}

/// `field:value` from INFO text.
fn info_field(info: &str, name: &str) -> Option<String> {
    info.split("\r\n").find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
}

fn q(con: &mut redis::Connection, args: &[&str]) -> Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn bulk(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        other => panic!("expected a string, got {other:?}"),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn arr(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) => a,
        other => panic!("expected an array, got {other:?}"),
    }
}

fn strings(v: &Value) -> Vec<String> {
    arr(v).iter().map(bulk).collect()
}

#[test]
fn time_command() {
    let srv = TestServer::start();
    let mut con = srv.client();
    let t = q(&mut con, &["TIME"]);
    let parts = strings(&t);
    assert_eq!(parts.len(), 2);
    let secs: u64 = parts[0].parse().unwrap();
    let micros: u64 = parts[1].parse().unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(secs.abs_diff(now) <= 5, "{secs} vs {now}");
    assert!(micros < 1_000_000);
    // Both are bulk strings on the wire.
    let mut c = srv.raw();
    let raw = text(c.cmd(&[b"TIME"]));
    assert!(raw.starts_with("*2\r\n$"), "{raw}");
    assert_eq!(c.cmd(&[b"TIME", b"x"]), b"-ERR wrong number of arguments for 'time' command\r\n");
}

#[test]
fn info_sections_and_fields() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let all = info(&mut c, &[]);
    for header in
        ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Keyspace"]
    {
        assert!(all.contains(&format!("{header}\r\n")), "missing {header}");
    }
    assert!(!all.contains("# Commandstats"), "commandstats only with all/everything");
    for f in [
        "redis_version",
        "larder_version",
        "process_id",
        "tcp_port",
        "uptime_in_seconds",
        "connected_clients",
        "maxclients",
        "used_memory",
        "used_memory_human",
        "used_memory_peak",
        "used_memory_peak_human",
        "mem_fragmentation_ratio",
        "maxmemory",
        "maxmemory_policy",
        "total_connections_received",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "keyspace_hits",
        "keyspace_misses",
        "expired_keys",
        "evicted_keys",
        "rejected_connections",
        "role",
        "used_cpu_sys",
        "rdb_changes_since_last_save",
    ] {
        assert!(info_field(&all, f).is_some(), "missing field {f}");
    }
    assert_eq!(info_field(&all, "redis_version").unwrap(), "7.2.4");
    assert_eq!(info_field(&all, "tcp_port").unwrap(), srv.port.to_string());
    assert_eq!(info_field(&all, "process_id").unwrap(), srv.pid().to_string());
    assert_eq!(info_field(&all, "maxmemory_policy").unwrap(), "noeviction");
    assert_eq!(info_field(&all, "role").unwrap(), "master");
    assert!(info_field(&all, "used_memory").unwrap().parse::<u64>().unwrap() > 0);
    assert!(info_field(&all, "connected_clients").unwrap().parse::<u64>().unwrap() >= 1);
    // Sections are separated by one blank line; the text ends with the last field's CRLF.
    assert!(all.contains("\r\n\r\n# Clients\r\n"));
    assert!(all.ends_with("\r\n") && !all.ends_with("\r\n\r\n"));
    // Every line is a `# Header`, a `field:value`, or the blank separator.
    for line in all.split("\r\n") {
        assert!(line.is_empty() || line.starts_with("# ") || line.contains(':'), "bad line {line:?}");
    }

    let server = info(&mut c, &[b"server"]);
    assert!(server.starts_with("# Server\r\n"), "{server}");
    assert!(!server.contains("# Clients") && !server.contains("# Memory") && !server.contains("# Keyspace"));
    assert!(info_field(&server, "redis_version").is_some() && info_field(&server, "used_memory").is_none());
    // Case-insensitive, several sections, unknown ones ignored.
    let two = info(&mut c, &[b"CLIENTS", b"memory", b"nosuchsection"]);
    assert!(two.starts_with("# Clients\r\n") && two.contains("# Memory\r\n") && !two.contains("# Server"));
    assert_eq!(c.cmd(&[b"INFO", b"nosuchsection"]), b"$0\r\n\r\n");
}

#[test]
fn info_commandstats_everything_and_errorstats() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"GET", b"nokey"]), b"$-1\r\n");
    assert_eq!(c.cmd(&[b"GET", b"nokey"]), b"$-1\r\n");
    let stats = info(&mut c, &[b"commandstats"]);
    assert!(stats.starts_with("# Commandstats\r\n"), "{stats}");
    let get = stats.split("\r\n").find(|l| l.starts_with("cmdstat_get:")).expect("cmdstat_get");
    assert!(get.starts_with("cmdstat_get:calls=2,usec="), "{get}");
    assert!(get.contains(",usec_per_call=") && get.ends_with(",rejected_calls=0,failed_calls=0"), "{get}");
    // Sub-commands are listed by full name.
    assert!(c.cmd(&[b"CONFIG", b"GET", b"port"]).starts_with(b"*2\r\n"));
    let stats = info(&mut c, &[b"commandstats"]);
    assert!(stats.contains("cmdstat_config|get:calls=1,"), "{stats}");
    for section in [&b"everything"[..], b"all"] {
        let every = info(&mut c, &[section]);
        for header in ["# Server", "# Clients", "# Memory", "# Stats", "# Commandstats", "# Errorstats", "# Keyspace"] {
            assert!(
                every.contains(&format!("{header}\r\n")),
                "{header} missing from INFO {}",
                String::from_utf8_lossy(section)
            );
        }
    }
    // keyspace_misses counted the two misses.
    let st = info(&mut c, &[b"stats"]);
    assert!(info_field(&st, "keyspace_misses").unwrap().parse::<u64>().unwrap() >= 2);
    // Errors by code.
    assert_eq!(c.cmd(&[b"NOSUCH"]), b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    let errs = info(&mut c, &[b"errorstats"]);
    assert!(errs.contains("errorstat_ERR:count=1\r\n"), "{errs}");
    let st = info(&mut c, &[b"stats"]);
    assert_eq!(info_field(&st, "total_error_replies").unwrap(), "1");
}

#[test]
fn info_keyspace_lines() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(info(&mut c, &[b"keyspace"]), "# Keyspace\r\n");
    assert_eq!(c.cmd(&[b"SET", b"a", b"1"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"SET", b"b", b"2", b"EX", b"100"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"SELECT", b"3"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"SET", b"c", b"3"]), b"+OK\r\n");
    let ks = info(&mut c, &[b"keyspace"]);
    let lines: Vec<&str> = ks.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{ks}");
    assert_eq!(lines[0], "# Keyspace");
    let db0 = lines[1];
    assert!(db0.starts_with("db0:keys=2,expires=1,avg_ttl="), "{db0}");
    let avg: u64 = db0.rsplit('=').next().unwrap().parse().expect("avg_ttl is a number");
    assert!(avg <= 100_000, "{db0}");
    assert_eq!(lines[2], "db3:keys=1,expires=0,avg_ttl=0");
}

#[test]
fn config_get_globs() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"maxmemory"]), b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"nosuchdirective"]), b"*0\r\n");
    let port = srv.port.to_string();
    assert_eq!(
        text(c.cmd(&[b"CONFIG", b"GET", b"port"])),
        format!("*2\r\n$4\r\nport\r\n${}\r\n{port}\r\n", port.len())
    );
    let mut con = srv.client();
    let pairs = |con: &mut redis::Connection, args: &[&str]| -> Vec<(String, String)> {
        let v = strings(&q(con, args));
        v.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
    };
    let mm = pairs(&mut con, &["CONFIG", "GET", "maxmemory*"]);
    let names: Vec<&str> = mm.iter().map(|(k, _)| k.as_str()).collect();
    for n in ["maxmemory", "maxmemory-policy", "maxmemory-samples"] {
        assert!(names.contains(&n), "{names:?}");
    }
    assert!(names.iter().all(|n| n.starts_with("maxmemory")), "{names:?}");
    assert!(mm.contains(&("maxmemory-policy".to_string(), "noeviction".to_string())));
    // Several patterns; each name once.
    let many = pairs(&mut con, &["CONFIG", "GET", "port", "maxclients", "port", "max?lients"]);
    assert_eq!(many.len(), 2, "{many:?}");
    assert!(many.contains(&("maxclients".to_string(), "10000".to_string())));
    // Glob classes, case-insensitive.
    let cls = pairs(&mut con, &["CONFIG", "GET", "DATABASE[s]"]);
    assert_eq!(cls, vec![("databases".to_string(), "16".to_string())]);
    let all = pairs(&mut con, &["CONFIG", "GET", "*"]);
    assert!(all.len() > 50, "{}", all.len());
    assert!(all.iter().any(|(k, v)| k == "save" && v.is_empty()), "save is empty under --save \"\"");
    assert!(all.iter().any(|(k, v)| k == "appendonly" && v == "no"));
    assert!(all.iter().any(|(k, _)| k == "bind"));
}

#[test]
fn config_set_multi_atomic_and_errors() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"maxmemory", b"10mb", b"slowlog-max-len", b"50"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"maxmemory"]), b"*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n");
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"slowlog-max-len"]), b"*2\r\n$15\r\nslowlog-max-len\r\n$2\r\n50\r\n");
    // Atomic: one bad value and nothing changes.
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"slowlog-max-len", b"77", b"maxmemory", b"foo"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n"
    );
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"slowlog-max-len"]), b"*2\r\n$15\r\nslowlog-max-len\r\n$2\r\n50\r\n");
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"slowlog-max-len", b"77", b"nosuch", b"1"]),
        b"-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    );
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"slowlog-max-len"]), b"*2\r\n$15\r\nslowlog-max-len\r\n$2\r\n50\r\n");
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"daemonize", b"yes"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n"
    );
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"maxmemory", b"1mb", b"maxmemory", b"2mb"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter\r\n"
    );
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"maxclients", b"abc"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n"
    );
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"maxclients", b"0"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n"
    );
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"lazyfree-lazy-eviction", b"maybe"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'lazyfree-lazy-eviction') - argument must be 'yes' or 'no'\r\n"
    );
    let policy = text(c.cmd(&[b"CONFIG", b"SET", b"maxmemory-policy", b"bogus"]));
    assert!(
        policy.starts_with("-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: "),
        "{policy}"
    );
    assert!(policy.contains("allkeys-lru"), "{policy}");
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"maxmemory"]),
        b"-ERR wrong number of arguments for 'config|set' command\r\n"
    );
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"maxmemory", b"1", b"hz"]),
        b"-ERR wrong number of arguments for 'config|set' command\r\n"
    );
    // Names are case-insensitive; values take effect.
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"MAXMEMORY-POLICY", b"allkeys-lru"]), b"+OK\r\n");
    let mem = bulk_body(c.cmd(&[b"INFO", b"memory"]));
    assert_eq!(info_field(&mem, "maxmemory_policy").unwrap(), "allkeys-lru");
    assert_eq!(info_field(&mem, "maxmemory").unwrap(), "10485760");
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"maxclients", b"7"]), b"+OK\r\n");
    let cl = bulk_body(c.cmd(&[b"INFO", b"clients"]));
    assert_eq!(info_field(&cl, "maxclients").unwrap(), "7");
}

#[test]
fn config_resetstat() {
    let srv = TestServer::start_with(&["--slowlog-log-slower-than", "0"]);
    let mut c = srv.raw();
    for _ in 0..5 {
        assert_eq!(c.cmd(&[b"GET", b"x"]), b"$-1\r\n");
    }
    assert_eq!(c.cmd(&[b"ECHO", b"before-resetstat"]), b"$16\r\nbefore-resetstat\r\n");
    assert_eq!(c.cmd(&[b"NOSUCH"]), b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    let before = bulk_body(c.cmd(&[b"INFO", b"stats"]));
    assert!(info_field(&before, "total_commands_processed").unwrap().parse::<u64>().unwrap() >= 6);
    assert_eq!(c.cmd(&[b"CONFIG", b"RESETSTAT"]), b"+OK\r\n");
    let after = bulk_body(c.cmd(&[b"INFO", b"stats"]));
    assert!(info_field(&after, "total_commands_processed").unwrap().parse::<u64>().unwrap() <= 2, "{after}");
    assert_eq!(info_field(&after, "keyspace_misses").unwrap(), "0");
    assert_eq!(info_field(&after, "total_error_replies").unwrap(), "0");
    let cs = bulk_body(c.cmd(&[b"INFO", b"commandstats"]));
    assert!(!cs.contains("cmdstat_get:"), "{cs}");
    let es = bulk_body(c.cmd(&[b"INFO", b"errorstats"]));
    assert_eq!(es, "# Errorstats\r\n");
    assert_eq!(
        c.cmd(&[b"CONFIG", b"RESETSTAT", b"x"]),
        b"-ERR wrong number of arguments for 'config|resetstat' command\r\n"
    );
    // RESETSTAT leaves the slow log alone (SLOWLOG RESET empties it).
    let log = text(c.cmd(&[b"SLOWLOG", b"GET", b"-1"]));
    assert!(log.contains("before-resetstat"), "slow log emptied by RESETSTAT: {log}");
}

#[test]
fn config_rewrite_round_trip() {
    let srv = TestServer::start_with_config("# top comment\nmaxmemory 1mb\nslowlog-max-len 10\n", &[]);
    let path = srv.config_path.clone().unwrap();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"maxmemory"]), b"*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n");
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"maxmemory", b"2mb", b"hz", b"20"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"CONFIG", b"REWRITE"]), b"+OK\r\n");
    let file = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = file.lines().collect();
    assert_eq!(lines[0], "# top comment", "{file}");
    assert_eq!(lines[1], "maxmemory 2mb", "{file}");
    assert_eq!(lines[2], "slowlog-max-len 10", "{file}");
    assert!(lines.contains(&"# Generated by CONFIG REWRITE"), "{file}");
    assert!(lines.contains(&"hz 20"), "{file}");
    assert!(lines.contains(&format!("port {}", srv.port).as_str()), "{file}");
    // The rewritten file starts a server with the same settings.
    let again = TestServer::start_with_config(&file, &[]);
    let mut d = again.raw();
    assert_eq!(d.cmd(&[b"CONFIG", b"GET", b"maxmemory"]), b"*2\r\n$9\r\nmaxmemory\r\n$7\r\n2097152\r\n");
    assert_eq!(d.cmd(&[b"CONFIG", b"GET", b"hz"]), b"*2\r\n$2\r\nhz\r\n$2\r\n20\r\n");
    let info = bulk_body(d.cmd(&[b"INFO", b"server"]));
    assert_eq!(info_field(&info, "config_file").unwrap(), again.config_path.as_ref().unwrap().display().to_string());
    // Without a configuration file there is nothing to rewrite.
    let plain = TestServer::start();
    let mut e = plain.raw();
    assert_eq!(e.cmd(&[b"CONFIG", b"REWRITE"]), b"-ERR The server is running without a config file\r\n");
}

#[test]
fn slowlog_get_len_reset() {
    let srv = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"SLOWLOG", b"RESET"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"SLOWLOG", b"LEN"]), b":0\r\n");
    assert_eq!(c.cmd(&[b"CLIENT", b"SETNAME", b"slowpoke"]), b"+OK\r\n");
    // Default threshold 10 ms: a 50 ms sleep is logged, PING is not.
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd(&[b"DEBUG", b"SLEEP", b"0.05"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"SLOWLOG", b"LEN"]), b":1\r\n");
    let mut con = srv.client();
    let entries = q(&mut con, &["SLOWLOG", "GET"]);
    let e = arr(&arr(&entries)[0]);
    assert_eq!(e.len(), 6);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((int(&e[1]) - now).abs() <= 5, "timestamp");
    assert!(int(&e[2]) >= 50_000, "duration in microseconds: {:?}", e[2]);
    assert_eq!(strings(&e[3]), ["DEBUG", "SLEEP", "0.05"]);
    assert_eq!(bulk(&e[4]), c.local_addr());
    assert_eq!(bulk(&e[5]), "slowpoke");
    // Threshold 0 logs everything; newest first with increasing ids.
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"slowlog-log-slower-than", b"0"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"ECHO", b"one"]), b"$3\r\none\r\n");
    assert_eq!(c.cmd(&[b"ECHO", b"two"]), b"$3\r\ntwo\r\n");
    let got = q(&mut con, &["SLOWLOG", "GET", "2"]);
    let got = arr(&got);
    assert_eq!(got.len(), 2);
    assert_eq!(strings(&arr(&got[0])[3]), ["ECHO", "two"]);
    assert_eq!(strings(&arr(&got[1])[3]), ["ECHO", "one"]);
    assert_eq!(int(&arr(&got[0])[0]), int(&arr(&got[1])[0]) + 1);
    // Long arguments and long argument lists are shortened as Redis does.
    let long = "x".repeat(200);
    let _ = q(&mut con, &["ECHO", &long]);
    let many: Vec<String> = (0..40).map(|i| format!("n{i}")).collect();
    let mut cmd = redis::cmd("COMMAND");
    cmd.arg("INFO");
    for m in &many {
        cmd.arg(m);
    }
    let _: Value = cmd.query(&mut con).unwrap();
    let got = q(&mut con, &["SLOWLOG", "GET", "3"]);
    let got = arr(&got);
    // Newest first: the COMMAND INFO, then the long ECHO.
    let args_many = strings(&arr(&got[0])[3]);
    assert_eq!(args_many.len(), 32);
    assert_eq!(args_many[0], "COMMAND");
    assert_eq!(args_many[30], "n28");
    assert_eq!(args_many[31], "... (11 more arguments)");
    let args_long = strings(&arr(&got[1])[3]);
    assert_eq!(args_long, ["ECHO".to_string(), format!("{}... (72 more bytes)", "x".repeat(128))]);
    // slowlog-max-len bounds the log.
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"slowlog-max-len", b"5"]), b"+OK\r\n");
    for _ in 0..20 {
        assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    }
    assert_eq!(c.cmd(&[b"SLOWLOG", b"LEN"]), b":5\r\n");
    assert_eq!(arr(&q(&mut con, &["SLOWLOG", "GET", "-1"])).len(), 5);
    assert_eq!(c.cmd(&[b"SLOWLOG", b"GET", b"-2"]), b"-ERR count should be greater than or equal to -1\r\n");
    assert_eq!(c.cmd(&[b"SLOWLOG", b"GET", b"x"]), b"-ERR count should be greater than or equal to -1\r\n");
    // RESET empties it (with a high threshold so RESET itself is not logged).
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"slowlog-log-slower-than", b"100000"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"SLOWLOG", b"RESET"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"SLOWLOG", b"LEN"]), b":0\r\n");
    assert_eq!(c.cmd(&[b"SLOWLOG", b"GET"]), b"*0\r\n");
    // -1 disables it.
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"slowlog-log-slower-than", b"-1"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"DEBUG", b"SLEEP", b"0.02"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"SLOWLOG", b"LEN"]), b":0\r\n");
}

#[test]
fn slowlog_and_monitor_redact_secrets() {
    let srv = TestServer::start_with(&["--slowlog-log-slower-than", "0"]);
    let mut mon = srv.raw();
    assert_eq!(mon.cmd(&[b"MONITOR"]), b"+OK\r\n");
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"SLOWLOG", b"RESET"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"AUTH", b"default", b"hunter2"]), b"+OK\r\n");
    assert!(c.cmd(&[b"HELLO", b"2", b"AUTH", b"default", b"hunter2"]).starts_with(b"*"));
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"requirepass", b"hunter2"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"AUTH", b"hunter2"]), b"+OK\r\n");
    let log = text(c.cmd(&[b"SLOWLOG", b"GET", b"-1"]));
    assert!(!log.contains("hunter2"), "{log}");
    assert!(log.contains("(redacted)"), "{log}");
    // CONFIG is an admin command and is never shown by MONITOR; AUTH and HELLO are, redacted.
    assert_eq!(c.cmd(&[b"ECHO", b"marker"]), b"$6\r\nmarker\r\n");
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let l = text(mon.read_reply());
        let done = l.contains("\"marker\"");
        lines.push(l);
        if done {
            break;
        }
    }
    let all = lines.concat();
    assert!(!all.contains("hunter2"), "{all}");
    assert!(all.contains(r#""AUTH" "(redacted)" "(redacted)""#), "{all}");
    assert!(all.contains(r#""HELLO" "2" "AUTH" "(redacted)" "(redacted)""#), "{all}");
    assert!(!all.contains("CONFIG"), "{all}");
}

#[test]
fn monitor_feed_format() {
    let srv = TestServer::start();
    let mut mon = srv.raw();
    assert_eq!(mon.cmd(&[b"MONITOR"]), b"+OK\r\n");
    let mut c = srv.raw();
    let port = c.local_addr();
    assert_eq!(c.cmd(&[b"set", b"k", b"v"]), b"+OK\r\n");
    let line = text(mon.read_reply());
    // +<secs>.<micros> [0 127.0.0.1:port] "set" "k" "v"
    let expected_tail = format!(" [0 {port}] \"set\" \"k\" \"v\"\r\n");
    assert!(line.starts_with('+') && line.ends_with(&expected_tail), "{line:?}");
    let ts = &line[1..line.find(' ').unwrap()];
    let (secs, micros) = ts.split_once('.').expect("fractional timestamp");
    assert_eq!(micros.len(), 6, "{ts}");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(secs.parse::<u64>().unwrap().abs_diff(now) <= 5);
    // Admin commands are not shown; arguments are quoted like sdscatrepr; the database shown
    // is the one after the command ran (as Redis feeds monitors after execution).
    assert!(c.cmd(&[b"CONFIG", b"GET", b"port"]).starts_with(b"*2\r\n"));
    assert_eq!(c.cmd(&[b"SELECT", b"2"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"ECHO", b"a\"b\n\x01\\ \xff"]), b"$8\r\na\"b\n\x01\\ \xff\r\n");
    let select = text(mon.read_reply());
    assert!(select.ends_with(&format!(" [2 {port}] \"SELECT\" \"2\"\r\n")), "{select:?}");
    let echo = String::from_utf8_lossy(&mon.read_reply()).into_owned();
    assert!(echo.ends_with(&format!(" [2 {port}] \"ECHO\" \"a\\\"b\\n\\x01\\\\ \\xff\"\r\n")), "{echo:?}");
    // Nothing else arrived (CONFIG GET was skipped).
    assert_eq!(mon.read_for(150), b"");
    // The monitor is flagged in CLIENT LIST.
    let list = text(c.cmd(&[b"CLIENT", b"LIST"]));
    assert!(list.contains(" flags=O "), "{list}");
    // RESET turns MONITOR off.
    assert_eq!(mon.cmd(&[b"RESET"]), b"+RESET\r\n");
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(mon.read_for(150), b"");
}

#[test]
fn wait_with_no_replicas() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"WAIT", b"0", b"0"]), b":0\r\n");
    assert_eq!(c.cmd(&[b"WAIT", b"0", b"-1"]), b"-ERR timeout is negative\r\n");
    assert_eq!(c.cmd(&[b"WAIT", b"0", b"x"]), b"-ERR timeout is not an integer or out of range\r\n");
    assert_eq!(c.cmd(&[b"WAIT", b"x", b"0"]), b"-ERR value is not an integer or out of range\r\n");
    assert_eq!(c.cmd(&[b"WAIT", b"0"]), b"-ERR wrong number of arguments for 'wait' command\r\n");
}

#[test]
fn command_count_list_info_docs() {
    let srv = TestServer::start();
    let mut con = srv.client();
    let count = int(&q(&mut con, &["COMMAND", "COUNT"]));
    assert!(count > 40, "{count}");
    let all = q(&mut con, &["COMMAND"]);
    assert_eq!(arr(&all).len() as i64, count);
    let list = strings(&q(&mut con, &["COMMAND", "LIST"]));
    for n in ["get", "set", "ping", "config", "config|get", "client|list", "command|getkeys"] {
        assert!(list.contains(&n.to_string()), "{n} missing from COMMAND LIST");
    }
    assert_eq!(list.iter().filter(|n| !n.contains('|')).count() as i64, count);
    let pattern = strings(&q(&mut con, &["COMMAND", "LIST", "FILTERBY", "PATTERN", "config*"]));
    assert!(pattern.contains(&"config".to_string()) && pattern.contains(&"config|set".to_string()), "{pattern:?}");
    assert!(pattern.iter().all(|n| n.starts_with("config")), "{pattern:?}");
    let cat = strings(&q(&mut con, &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection"]));
    assert!(cat.contains(&"ping".to_string()) && !cat.contains(&"get".to_string()), "{cat:?}");

    // COMMAND INFO get: name, arity, flags, first/last/step, ACL categories.
    let info = q(&mut con, &["COMMAND", "INFO", "get", "nosuchcmd", "config|get"]);
    let info = arr(&info);
    assert_eq!(info.len(), 3);
    let get = arr(&info[0]);
    assert_eq!(get.len(), 10);
    assert_eq!(bulk(&get[0]), "get");
    assert_eq!(int(&get[1]), 2);
    let flags = strings(&get[2]);
    assert!(flags.contains(&"readonly".to_string()) && flags.contains(&"fast".to_string()), "{flags:?}");
    assert_eq!((int(&get[3]), int(&get[4]), int(&get[5])), (1, 1, 1));
    let cats = strings(&get[6]);
    for c in ["@read", "@string", "@fast"] {
        assert!(cats.contains(&c.to_string()), "{cats:?}");
    }
    assert_eq!(info[1], Value::Nil);
    let cg = arr(&info[2]);
    assert_eq!(bulk(&cg[0]), "config|get");
    assert_eq!(int(&cg[1]), -3);
    // Containers list their sub-commands in the last element.
    let config = q(&mut con, &["COMMAND", "INFO", "config"]);
    let subs = &arr(&arr(&config)[0])[9];
    let sub_names: Vec<String> = arr(subs).iter().map(|s| bulk(&arr(s)[0])).collect();
    assert!(sub_names.contains(&"config|set".to_string()), "{sub_names:?}");
    // MSET's keys: every other argument from the first.
    let mset = q(&mut con, &["COMMAND", "INFO", "mset"]);
    let mset = arr(&arr(&mset)[0]);
    assert_eq!((int(&mset[1]), int(&mset[3]), int(&mset[4]), int(&mset[5])), (-3, 1, -1, 2));

    // COMMAND DOCS get.
    let docs = q(&mut con, &["COMMAND", "DOCS", "get"]);
    let docs = arr(&docs);
    assert_eq!(bulk(&docs[0]), "get");
    let fields = arr(&docs[1]);
    let mut map = std::collections::HashMap::new();
    for p in fields.chunks(2) {
        if let (Value::BulkString(k), v) = (&p[0], &p[1]) {
            map.insert(String::from_utf8_lossy(k).into_owned(), v.clone());
        }
    }
    assert!(map.contains_key("summary"), "{map:?}");
    assert_eq!(bulk(&map["since"]), "1.0.0");
    assert_eq!(bulk(&map["group"]), "string");
    assert_eq!(bulk(&map["complexity"]), "O(1)");
    assert_eq!(arr(&q(&mut con, &["COMMAND", "DOCS", "nosuchcmd"])).len(), 0);
    // Errors.
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"COMMAND", b"COUNT", b"x"]), b"-ERR wrong number of arguments for 'command|count' command\r\n");
    assert_eq!(c.cmd(&[b"COMMAND", b"LIST", b"FILTERBY"]), b"-ERR syntax error\r\n");
}

#[test]
fn command_getkeys() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"COMMAND", b"GETKEYS", b"MSET", b"a", b"1", b"b", b"2"]), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(c.cmd(&[b"COMMAND", b"GETKEYS", b"GET", b"k"]), b"*1\r\n$1\r\nk\r\n");
    assert_eq!(c.cmd(&[b"COMMAND", b"GETKEYS", b"set", b"k", b"v", b"EX", b"10"]), b"*1\r\n$1\r\nk\r\n");
    assert_eq!(c.cmd(&[b"COMMAND", b"GETKEYS", b"MGET", b"x", b"y", b"z"]), b"*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n");
    assert_eq!(c.cmd(&[b"COMMAND", b"GETKEYS", b"PING"]), b"-ERR The command has no key arguments\r\n");
    assert_eq!(c.cmd(&[b"COMMAND", b"GETKEYS", b"NOSUCH", b"x"]), b"-ERR Invalid command specified\r\n");
    assert_eq!(c.cmd(&[b"COMMAND", b"GETKEYS", b"GET"]), b"-ERR Invalid number of arguments specified for command\r\n");
    assert_eq!(
        c.cmd(&[b"COMMAND", b"GETKEYS", b"MSET", b"a"]),
        b"-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_eq!(c.cmd(&[b"COMMAND", b"GETKEYS"]), b"-ERR wrong number of arguments for 'command|getkeys' command\r\n");
    let flags = text(c.cmd(&[b"COMMAND", b"GETKEYSANDFLAGS", b"SET", b"k", b"v"]));
    assert!(flags.starts_with("*1\r\n*2\r\n$1\r\nk\r\n*"), "{flags}");
}

const DEBUG_REFUSED: &[u8] = b"-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n";

#[test]
fn debug_sleep_and_refusal() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"DEBUG", b"SLEEP", b"0"]), DEBUG_REFUSED);
    assert_eq!(
        c.cmd(&[b"CONFIG", b"GET", b"enable-debug-command"]),
        b"*2\r\n$20\r\nenable-debug-command\r\n$2\r\nno\r\n"
    );
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"enable-debug-command", b"yes"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config\r\n"
    );
    let yes = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut d = yes.raw();
    assert_eq!(d.cmd(&[b"DEBUG", b"SLEEP", b"0"]), b"+OK\r\n");
    let t = Instant::now();
    assert_eq!(d.cmd(&[b"DEBUG", b"SLEEP", b"0.1"]), b"+OK\r\n");
    assert!(t.elapsed() >= Duration::from_millis(90));
    assert_eq!(d.cmd(&[b"DEBUG"]), b"-ERR wrong number of arguments for 'debug' command\r\n");
    assert_eq!(
        d.cmd(&[b"DEBUG", b"NOSUCH"]),
        b"-ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try DEBUG HELP.\r\n"
    );
    // `local` allows loopback clients.
    let local = TestServer::start_with(&["--enable-debug-command", "local"]);
    let mut e = local.raw();
    assert_eq!(e.cmd(&[b"DEBUG", b"SLEEP", b"0"]), b"+OK\r\n");
}

/// Waits (bounded) for the server process to exit; returns its exit code.
fn wait_exit(srv: &mut TestServer) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !srv.alive() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn shutdown_stops_the_process() {
    let mut srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"SHUTDOWN", b"ABORT"]), b"-ERR No shutdown in progress.\r\n");
    assert_eq!(c.cmd(&[b"SHUTDOWN", b"BOGUS"]), b"-ERR syntax error\r\n");
    assert_eq!(c.cmd(&[b"SHUTDOWN", b"SAVE", b"NOSAVE"]), b"-ERR syntax error\r\n");
    assert_eq!(c.cmd(&[b"SHUTDOWN", b"ABORT", b"NOW"]), b"-ERR syntax error\r\n");
    assert!(srv.alive());
    let mut other = srv.raw();
    assert_eq!(other.cmd(&[b"PING"]), b"+PONG\r\n");
    c.send(b"SHUTDOWN NOSAVE\r\n");
    let (got, closed) = c.read_to_close(5000);
    assert!(closed, "connection closed by SHUTDOWN");
    assert_eq!(got, b"", "a successful SHUTDOWN sends no reply");
    assert!(wait_exit(&mut srv), "process exits after SHUTDOWN");
    assert!(other.read_to_close(3000).1, "other clients are disconnected");
}
