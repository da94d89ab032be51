//! The append-only file over TCP: acknowledged writes survive a SIGKILL under `appendfsync
//! always` and `everysec`; relative TTLs, float increments, random pops, scripts and
//! transactions replay to the same dataset; BGREWRITEAOF and turning the AOF on at run time;
//! torn tails per `aof-load-truncated`; AOF directories exchanged with redis-server.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{connect, have_redis_server, info_int, run_redis, scratch_dir, unused_port, TestServer};

fn kill9(srv: &mut TestServer) {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(srv.pid() as i32, libc::SIGKILL) };
    srv.wait_exit(Duration::from_secs(10));
}

/// Writes of every kind the log must turn into replayable commands.
fn workload(c: &mut redis::Connection) {
    let _: () = redis::cmd("SET").arg("plain").arg("v").query(c).expect("set");
    let _: () = redis::cmd("SET").arg("ttl").arg("v").arg("EX").arg(1000).query(c).expect("set ex");
    let _: () = redis::cmd("SETEX").arg("setex").arg(500).arg("v").query(c).expect("setex");
    let _: i64 = redis::cmd("EXPIRE").arg("plain").arg(2000).query(c).expect("expire");
    let _: String = redis::cmd("INCRBYFLOAT").arg("float").arg("0.1").query(c).expect("incrbyfloat");
    let _: String = redis::cmd("INCRBYFLOAT").arg("float").arg("0.2").query(c).expect("incrbyfloat");
    let _: i64 = redis::cmd("SADD").arg("set").arg(&["a", "b", "c", "d"]).query(c).expect("sadd");
    let _: Vec<String> = redis::cmd("SPOP").arg("set").arg(2).query(c).expect("spop");
    let _: i64 = redis::cmd("RPUSH").arg("list").arg(&["1", "2", "3"]).query(c).expect("rpush");
    let _: Option<(String, String)> = redis::cmd("BLPOP").arg("list").arg(1).query(c).expect("blpop");
    let _: i64 = redis::cmd("EVAL")
        .arg("redis.call('SET', KEYS[1], 'from-script'); return redis.call('INCR', KEYS[2])")
        .arg(2)
        .arg("scripted")
        .arg("counter")
        .query(c)
        .expect("eval");
    let _: () = redis::pipe()
        .atomic()
        .cmd("HSET")
        .arg("h")
        .arg("f")
        .arg("1")
        .cmd("HINCRBYFLOAT")
        .arg("h")
        .arg("f")
        .arg("0.5")
        .query(c)
        .expect("multi");
    let _: () = redis::cmd("SELECT").arg(3).query(c).expect("select");
    let _: () = redis::cmd("SET").arg("in3").arg("three").query(c).expect("set");
    let _: () = redis::cmd("SELECT").arg(0).query(c).expect("select");
    let _: () = redis::cmd("SET").arg("gone").arg("x").arg("PX").arg(1).query(c).expect("set px");
    std::thread::sleep(Duration::from_millis(20));
    let _: Option<String> = redis::cmd("GET").arg("gone").query(c).expect("get");
}

/// The dataset as a comparable text (every key of databases 0 and 3 with value and TTL band).
fn snapshot(c: &mut redis::Connection) -> Vec<String> {
    let mut out = Vec::new();
    for db in [0, 3] {
        let _: () = redis::cmd("SELECT").arg(db).query(c).expect("select");
        let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).expect("keys");
        keys.sort();
        for k in keys {
            let t: String = redis::cmd("TYPE").arg(&k).query(c).expect("type");
            let v = match t.as_str() {
                "string" => redis::cmd("GET").arg(&k).query::<String>(c).expect("get"),
                "set" => {
                    let mut m: Vec<String> = redis::cmd("SMEMBERS").arg(&k).query(c).expect("smembers");
                    m.sort();
                    m.join(",")
                }
                "list" => {
                    redis::cmd("LRANGE").arg(&k).arg(0).arg(-1).query::<Vec<String>>(c).expect("lrange").join(",")
                }
                "hash" => redis::cmd("HGETALL").arg(&k).query::<Vec<String>>(c).expect("hgetall").join(","),
                other => other.to_string(),
            };
            let ttl: i64 = redis::cmd("TTL").arg(&k).query(c).expect("ttl");
            // TTLs within a minute of each other count as the same.
            out.push(format!("{db}/{k}={v} ttl~{}", if ttl < 0 { ttl } else { ttl / 60 }));
        }
    }
    let _: () = redis::cmd("SELECT").arg(0).query(c).expect("select");
    out
}

#[test]
fn acknowledged_writes_survive_sigkill_under_always_and_everysec() {
    for policy in ["always", "everysec"] {
        let dir = scratch_dir(policy);
        let before = {
            let mut srv = TestServer::start_in(&dir, &["--appendonly", "yes", "--appendfsync", policy]);
            let mut c = srv.client();
            workload(&mut c);
            let mut p = redis::pipe();
            for i in 0..2000 {
                p.cmd("INCR").arg(format!("n{}", i % 10)).ignore();
            }
            let _: () = p.query(&mut c).expect("incrs");
            assert_eq!(info_int(&mut c, "aof_enabled"), 1);
            let snap = snapshot(&mut c);
            kill9(&mut srv);
            snap
        };
        let srv = TestServer::start_in(&dir, &["--appendonly", "yes", "--appendfsync", policy]);
        let mut c = srv.client();
        assert_eq!(snapshot(&mut c), before, "{policy}: the dataset after SIGKILL and restart differs");
        let n: i64 = redis::cmd("GET").arg("n7").query(&mut c).expect("get");
        assert_eq!(n, 200);
        drop(srv);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn rewrite_and_enabling_at_run_time_keep_everything() {
    let dir = scratch_dir("rewrite");
    let before = {
        let mut srv = TestServer::start_in(&dir, &[]);
        let mut c = srv.client();
        workload(&mut c);
        // Turned on at run time: the base is this moment's dataset.
        let _: () = redis::cmd("CONFIG").arg("SET").arg("appendonly").arg("yes").query(&mut c).expect("config");
        let deadline = Instant::now() + Duration::from_secs(10);
        while info_int(&mut c, "aof_enabled") != 1 {
            assert!(Instant::now() < deadline, "AOF never turned on");
            std::thread::sleep(Duration::from_millis(20));
        }
        let _: () = redis::cmd("SET").arg("after-enable").arg("1").query(&mut c).expect("set");
        let r: String = redis::cmd("BGREWRITEAOF").query(&mut c).expect("bgrewriteaof");
        assert_eq!(r, "Background append only file rewriting started");
        let _: () = redis::cmd("SET").arg("during-rewrite").arg("1").query(&mut c).expect("set");
        while info_int(&mut c, "aof_rewrite_in_progress") != 0 {
            assert!(Instant::now() < deadline, "rewrite never finished");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(info_int(&mut c, "aof_rewrites"), 1);
        let _: () = redis::cmd("SET").arg("after-rewrite").arg("1").query(&mut c).expect("set");
        let manifest = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).expect("manifest");
        assert!(manifest.contains("appendonly.aof.2.base.rdb") && !manifest.contains(".1.base"), "{manifest}");
        let snap = snapshot(&mut c);
        kill9(&mut srv);
        snap
    };
    let srv = TestServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut c = srv.client();
    assert_eq!(snapshot(&mut c), before);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_torn_tail_is_cut_off_or_stops_start_up_per_aof_load_truncated() {
    let dir = scratch_dir("torn");
    {
        let mut srv = TestServer::start_in(&dir, &["--appendonly", "yes"]);
        let mut c = srv.client();
        let _: () = redis::cmd("SET").arg("kept").arg("1").query(&mut c).expect("set");
        let _: () = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg("tx1")
            .arg("1")
            .cmd("SET")
            .arg("tx2")
            .arg("2")
            .query(&mut c)
            .expect("multi");
        kill9(&mut srv);
    }
    let incr = dir.join("appendonlydir/appendonly.aof.1.incr.aof");
    let good = std::fs::read(&incr).expect("incr");
    // A crash in the middle of a transaction and of a command.
    let mut torn = good.clone();
    torn.extend_from_slice(
        b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$3\r\ntx3\r\n$1\r\n3\r\n*3\r\n$3\r\nSET\r\n$4\r\nhal",
    );
    std::fs::write(&incr, &torn).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_larder"))
        .args(["--port", "0", "--save", "", "--appendonly", "yes", "--aof-load-truncated", "no"])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    assert_ne!(out.status.code(), Some(0), "a torn AOF must stop start-up when aof-load-truncated is no");
    let srv = TestServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut c = srv.client();
    let got: Vec<Option<String>> = redis::cmd("MGET").arg(&["kept", "tx1", "tx2", "tx3"]).query(&mut c).expect("mget");
    assert_eq!(got, [Some("1".into()), Some("1".into()), Some("2".into()), None]);
    assert_eq!(
        std::fs::read(&incr).expect("incr").len(),
        good.len(),
        "the torn tail (with its unfinished MULTI) is cut off"
    );
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn aof_directories_move_between_redis_and_larder_both_ways() {
    if !have_redis_server("AOF interop with Redis") {
        return;
    }
    let dir = scratch_dir("interop");
    let port = unused_port();
    let mut redis = run_redis(&dir, port, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = connect(port);
    workload(&mut c);
    let before = snapshot(&mut c);
    let _ = redis.kill();
    let _ = redis.wait();
    let after_larder = {
        // Redis 7.0 reads RDB versions up to 10, so Larder's RDB-preamble base is written as 10.
        let srv = TestServer::start_in(&dir, &["--appendonly", "yes", "--rdb-version", "10"]);
        let mut c = srv.client();
        assert_eq!(snapshot(&mut c), before, "Larder loads Redis's AOF");
        let _: () = redis::cmd("SET").arg("from-larder").arg("yes").query(&mut c).expect("set");
        let _: () = redis::cmd("BGREWRITEAOF").query(&mut c).expect("rewrite");
        let deadline = Instant::now() + Duration::from_secs(20);
        while info_int(&mut c, "aof_rewrite_in_progress") != 0 || info_int(&mut c, "aof_rewrites") < 1 {
            assert!(Instant::now() < deadline, "rewrite did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
        let _: i64 = redis::cmd("EXPIRE").arg("from-larder").arg(3000).query(&mut c).expect("expire");
        snapshot(&mut c)
    };
    let port = unused_port();
    let mut redis = run_redis(&dir, port, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = connect(port);
    assert_eq!(snapshot(&mut c), after_larder, "Redis loads Larder's AOF");
    let _ = redis.kill();
    let _ = redis.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_transactions_replay_exactly() {
    // Transactions on different worker threads must not interleave inside each other's
    // MULTI ... EXEC in the log.
    let dir = scratch_dir("concurrent");
    let mut srv = TestServer::start_in(&dir, &["--appendonly", "yes", "--io-threads", "4"]);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let mut c = srv.client();
            std::thread::spawn(move || {
                for _ in 0..300 {
                    let _: () = redis::pipe()
                        .atomic()
                        .cmd("INCR")
                        .arg(format!("t{w}"))
                        .ignore()
                        .cmd("SET")
                        .arg(format!("last{w}"))
                        .arg("x")
                        .ignore()
                        .query(&mut c)
                        .expect("multi");
                    let _: i64 = redis::cmd("INCR").arg(format!("p{w}")).query(&mut c).expect("incr");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    kill9(&mut srv);
    let srv = TestServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut c = srv.client();
    for w in 0..4 {
        let got: (i64, i64) =
            redis::pipe().cmd("GET").arg(format!("t{w}")).cmd("GET").arg(format!("p{w}")).query(&mut c).expect("get");
        assert_eq!(got, (300, 300), "writer {w}");
    }
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

fn larder(args: &[&str], dir: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_larder")).args(args).current_dir(dir).output().expect("run");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn check_aof_and_check_rdb_report_and_fix_files() {
    let dir = scratch_dir("check");
    {
        let mut srv = TestServer::start_in(&dir, &["--appendonly", "yes"]);
        let mut c = srv.client();
        workload(&mut c);
        let _: () = redis::cmd("SAVE").query(&mut c).expect("save");
        kill9(&mut srv);
    }
    let (code, text) = larder(&["check-rdb", "dump.rdb"], &dir);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("checksum OK"), "{text}");
    let manifest = "appendonlydir/appendonly.aof.manifest";
    let (code, text) = larder(&["check-aof", manifest], &dir);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("AOF is valid"), "{text}");
    // Tear the last file: reported, then fixed.
    let incr = dir.join("appendonlydir/appendonly.aof.1.incr.aof");
    let mut data = std::fs::read(&incr).expect("incr");
    let whole = data.len();
    data.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nk");
    std::fs::write(&incr, &data).expect("write");
    let (code, text) = larder(&["check-aof", manifest], &dir);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("not valid"), "{text}");
    let (code, text) = larder(&["check-aof", "--fix", manifest], &dir);
    assert_eq!(code, 0, "{text}");
    assert_eq!(std::fs::read(&incr).expect("incr").len(), whole);
    // A damaged RDB is refused.
    let mut rdb = std::fs::read(dir.join("dump.rdb")).expect("rdb");
    let n = rdb.len();
    rdb[n - 20] ^= 0xff;
    std::fs::write(dir.join("dump.rdb"), &rdb).expect("write");
    let (code, text) = larder(&["check-rdb", "dump.rdb"], &dir);
    assert_eq!(code, 1, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_aof_write_is_reported_and_stops_writes() {
    let dir = scratch_dir("full");
    // The incremental file the AOF will open leads to a full device.
    std::fs::create_dir_all(dir.join("appendonlydir")).expect("dir");
    std::os::unix::fs::symlink("/dev/full", dir.join("appendonlydir/appendonly.aof.1.incr.aof")).expect("symlink");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.client();
    let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).expect("set");
    let _: () = redis::cmd("CONFIG").arg("SET").arg("appendonly").arg("yes").query(&mut c).expect("config");
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_int(&mut c, "aof_enabled") != 1 {
        assert!(Instant::now() < deadline, "AOF never turned on");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut raw = srv.raw();
    let _ = common::q(&mut raw, &["SET", "b", "2"]);
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).expect("info");
    assert!(info.contains("aof_last_write_status:err"), "{info}");
    let reply = common::q(&mut raw, &["SET", "c", "3"]);
    assert!(reply.starts_with("-MISCONF Errors writing to the AOF file: "), "{reply}");
    assert_eq!(common::q(&mut raw, &["GET", "a"]), "$1\r\n1\r\n", "reads go on");
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_the_rdb_preamble_the_base_is_commands() {
    let dir = scratch_dir("preamble");
    let before = {
        let mut srv = TestServer::start_in(&dir, &["--appendonly", "yes", "--aof-use-rdb-preamble", "no"]);
        let mut c = srv.client();
        workload(&mut c);
        let members: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
        let _: i64 = redis::cmd("SADD").arg("bigset").arg(&members).query(&mut c).expect("sadd");
        let _: i64 = redis::cmd("ZADD").arg("z").arg(&["1.5", "a", "-inf", "b"]).query(&mut c).expect("zadd");
        let _: String = redis::cmd("FUNCTION")
            .arg("LOAD")
            .arg("#!lua name=keep\nredis.register_function('k', function() return 1 end)")
            .query(&mut c)
            .expect("function");
        let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).expect("bgrewriteaof");
        let deadline = Instant::now() + Duration::from_secs(10);
        while info_int(&mut c, "aof_rewrites") < 1 {
            assert!(Instant::now() < deadline, "rewrite never finished");
            std::thread::sleep(Duration::from_millis(20));
        }
        let snap = snapshot(&mut c);
        kill9(&mut srv);
        snap
    };
    let base = std::fs::read(dir.join("appendonlydir/appendonly.aof.2.base.aof")).expect("base in AOF form");
    assert!(base.starts_with(b"*"), "the base holds commands");
    let srv = TestServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut c = srv.client();
    assert_eq!(snapshot(&mut c), before);
    let n: i64 = redis::cmd("FCALL").arg("k").arg(0).query(&mut c).expect("fcall");
    assert_eq!(n, 1);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `aof-timestamp-enabled`: `#TS:` annotations precede the first command of each second (and
/// open a base of commands); Larder, check-aof and redis-server 7.0 all read such files.
#[test]
fn timestamp_annotations_are_written_and_skipped_when_loading() {
    let dir = scratch_dir("timestamps");
    let args = ["--appendonly", "yes", "--aof-timestamp-enabled", "yes", "--aof-use-rdb-preamble", "no"];
    let before = {
        let mut srv = TestServer::start_in(&dir, &args);
        let mut c = srv.client();
        let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).expect("set");
        std::thread::sleep(Duration::from_millis(1100));
        let _: () = redis::cmd("SET").arg("b").arg("2").query(&mut c).expect("set");
        let _: () = redis::cmd("BGREWRITEAOF").query(&mut c).expect("rewrite");
        let deadline = Instant::now() + Duration::from_secs(20);
        while info_int(&mut c, "aof_rewrite_in_progress") != 0 || info_int(&mut c, "aof_rewrites") < 1 {
            assert!(Instant::now() < deadline, "rewrite did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(1100));
        let _: () = redis::cmd("SET").arg("c").arg("3").query(&mut c).expect("set");
        let snap = snapshot(&mut c);
        kill9(&mut srv);
        snap
    };
    let files: Vec<_> = std::fs::read_dir(dir.join("appendonlydir")).expect("dir").flatten().collect();
    let base = files.iter().find(|f| f.file_name().to_string_lossy().contains(".base.aof")).expect("base");
    let incr = files.iter().find(|f| f.file_name().to_string_lossy().contains(".incr.aof")).expect("incr");
    assert!(std::fs::read(base.path()).expect("base").starts_with(b"#TS:"), "the base opens with its time");
    let text = String::from_utf8_lossy(&std::fs::read(incr.path()).expect("incr")).into_owned();
    assert!(text.starts_with("#TS:") && text.contains("\r\nc\r\n"), "{text}");
    let (code, out) = larder(&["check-aof", "appendonlydir/appendonly.aof.manifest"], &dir);
    assert_eq!(code, 0, "{out}");
    {
        let srv = TestServer::start_in(&dir, &args);
        let mut c = srv.client();
        assert_eq!(snapshot(&mut c), before, "Larder replays an annotated AOF");
    }
    if have_redis_server("annotated AOF interop with Redis") {
        let port = unused_port();
        let mut redis = run_redis(&dir, port, &["--appendonly", "yes"]);
        let mut c = connect(port);
        assert_eq!(snapshot(&mut c), before, "Redis loads Larder's annotated AOF");
        let _ = redis.kill();
        let _ = redis.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
