//! RDB persistence over TCP: SAVE/BGSAVE/shutdown snapshots reloaded on restart with every
//! type, encoding and TTL; BGSAVE is a point-in-time image while writers go on; save points;
//! MISCONF after a failed save; DEBUG RELOAD; corrupt files stop start-up; and files
//! exchanged with Debian's redis-server both ways.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{connect, have_redis_server, info_int, q, run_redis, scratch_dir, unused_port, TestServer};

/// Writes one key of every type and encoding (small and large), with TTLs, in databases 0
/// and 5, plus a function library.
fn populate(c: &mut redis::Connection) {
    let mut p = redis::pipe();
    p.cmd("SET").arg("str").arg("hello").ignore();
    p.cmd("SET").arg("int").arg(12345).ignore();
    p.cmd("SET").arg("big").arg(vec![b'z'; 100_000]).ignore();
    p.cmd("SET").arg("ttl").arg("soon").arg("EX").arg(1000).ignore();
    p.cmd("RPUSH").arg("list").arg(&["a", "b", "c"]).ignore();
    p.cmd("RPUSH").arg("biglist").arg((0..5000).map(|i| format!("e{i}")).collect::<Vec<_>>()).ignore();
    p.cmd("SADD").arg("intset").arg(&[1, 2, 3]).ignore();
    p.cmd("SADD").arg("set").arg(&["x", "y"]).ignore();
    p.cmd("SADD").arg("bigset").arg((0..1000).map(|i| format!("m{i}")).collect::<Vec<_>>()).ignore();
    p.cmd("HSET").arg("hash").arg(&["f1", "v1", "f2", "v2"]).ignore();
    let fields: Vec<String> = (0..1000).flat_map(|i| [format!("f{i}"), format!("v{i}")]).collect();
    p.cmd("HSET").arg("bighash").arg(&fields).ignore();
    p.cmd("ZADD").arg("zset").arg(&["1", "a", "2.5", "b"]).ignore();
    let members: Vec<String> = (0..500).flat_map(|i| [i.to_string(), format!("z{i}")]).collect();
    p.cmd("ZADD").arg("bigzset").arg(&members).ignore();
    p.cmd("PEXPIRE").arg("bighash").arg(2_000_000).ignore();
    p.cmd("SELECT").arg(5).ignore();
    p.cmd("SET").arg("in5").arg("five").ignore();
    p.cmd("SELECT").arg(0).ignore();
    let _: () = p.query(c).expect("populate");
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("#!lua name=persisted\nredis.register_function('seven', function() return 7 end)")
        .query(c)
        .expect("function load");
}

/// Checks what [`populate`] wrote.
fn verify(c: &mut redis::Connection) {
    let s: String = redis::cmd("GET").arg("str").query(c).expect("get");
    assert_eq!(s, "hello");
    let n: i64 = redis::cmd("GET").arg("int").query(c).expect("get");
    assert_eq!(n, 12345);
    let big: Vec<u8> = redis::cmd("GET").arg("big").query(c).expect("get");
    assert_eq!(big, vec![b'z'; 100_000]);
    let ttl: i64 = redis::cmd("TTL").arg("ttl").query(c).expect("ttl");
    assert!((900..=1000).contains(&ttl), "ttl {ttl}");
    let l: Vec<String> = redis::cmd("LRANGE").arg("list").arg(0).arg(-1).query(c).expect("lrange");
    assert_eq!(l, ["a", "b", "c"]);
    let bl: Vec<String> = redis::cmd("LRANGE").arg("biglist").arg(4998).arg(-1).query(c).expect("lrange");
    assert_eq!(bl, ["e4998", "e4999"]);
    let n: i64 = redis::cmd("LLEN").arg("biglist").query(c).expect("llen");
    assert_eq!(n, 5000);
    let mut si: Vec<i64> = redis::cmd("SMEMBERS").arg("intset").query(c).expect("smembers");
    si.sort();
    assert_eq!(si, [1, 2, 3]);
    let n: i64 = redis::cmd("SCARD").arg("bigset").query(c).expect("scard");
    assert_eq!(n, 1000);
    let v: String = redis::cmd("HGET").arg("bighash").arg("f999").query(c).expect("hget");
    assert_eq!(v, "v999");
    let pttl: i64 = redis::cmd("PTTL").arg("bighash").query(c).expect("pttl");
    assert!(pttl > 1_000_000, "pttl {pttl}");
    let z: Vec<(String, f64)> =
        redis::cmd("ZRANGE").arg("zset").arg(0).arg(-1).arg("WITHSCORES").query(c).expect("zrange");
    assert_eq!(z, [("a".to_string(), 1.0), ("b".to_string(), 2.5)]);
    let r: i64 = redis::cmd("ZRANK").arg("bigzset").arg("z250").query(c).expect("zrank");
    assert_eq!(r, 250);
    let enc: String = redis::cmd("OBJECT").arg("ENCODING").arg("bigzset").query(c).expect("encoding");
    assert_eq!(enc, "skiplist");
    let enc: String = redis::cmd("OBJECT").arg("ENCODING").arg("intset").query(c).expect("encoding");
    assert_eq!(enc, "intset");
    let _: () = redis::cmd("SELECT").arg(5).query(c).expect("select");
    let v: String = redis::cmd("GET").arg("in5").query(c).expect("get");
    assert_eq!(v, "five");
    let _: () = redis::cmd("SELECT").arg(0).query(c).expect("select");
    let seven: i64 = redis::cmd("FCALL").arg("seven").arg(0).query(c).expect("fcall");
    assert_eq!(seven, 7);
}

fn wait_bgsave(c: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while info_int(c, "rdb_bgsave_in_progress") != 0 {
        assert!(Instant::now() < deadline, "BGSAVE never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn save_then_restart_restores_every_type_encoding_and_ttl() {
    let dir = scratch_dir("roundtrip");
    {
        let mut srv = TestServer::start_in(&dir, &[]);
        let mut c = srv.client();
        populate(&mut c);
        let before: i64 = redis::cmd("LASTSAVE").query(&mut c).expect("lastsave");
        let _: () = redis::cmd("SAVE").query(&mut c).expect("save");
        let after: i64 = redis::cmd("LASTSAVE").query(&mut c).expect("lastsave");
        assert!(after >= before);
        assert_eq!(info_int(&mut c, "rdb_changes_since_last_save"), 0);
        assert_eq!(info_int(&mut c, "rdb_saves"), 1);
        assert_eq!(srv.terminate(), Some(0));
    }
    let dump = std::fs::read(dir.join("dump.rdb")).expect("dump.rdb");
    assert!(dump.starts_with(b"REDIS0011"));
    // The small set of strings in version 11's listpack form (type 20).
    assert!(dump.windows(5).any(|w| w == [20, 3, b's', b'e', b't']), "no SET_LISTPACK record");
    // SELECTDB 0 then RESIZEDB 13 keys, 2 with a TTL; and the same for database 5 (1 key).
    assert!(dump.windows(5).any(|w| w == [0xFE, 0x00, 0xFB, 13, 2]), "no size hints for db 0");
    assert!(dump.windows(5).any(|w| w == [0xFE, 0x05, 0xFB, 1, 0]), "no size hints for db 5");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.client();
    verify(&mut c);
    let enc: String = redis::cmd("OBJECT").arg("ENCODING").arg("set").query(&mut c).expect("encoding");
    assert_eq!(enc, "listpack");
    assert_eq!(info_int(&mut c, "rdb_last_load_keys_loaded"), 14);
    // DEBUG RELOAD: save, empty, load, same data.
    let mut raw = srv.raw();
    let _ = q(&mut raw, &["CONFIG", "SET", "enable-debug-command", "yes"]);
    drop(srv);
    let srv = TestServer::start_in(&dir, &["--enable-debug-command", "yes"]);
    let mut c = srv.client();
    let _: () = redis::cmd("SET").arg("added").arg("later").query(&mut c).expect("set");
    let _: () = redis::cmd("DEBUG").arg("RELOAD").query(&mut c).expect("debug reload");
    verify(&mut c);
    let v: String = redis::cmd("GET").arg("added").query(&mut c).expect("get");
    assert_eq!(v, "later");
    drop(c);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bgsave_is_the_dataset_at_its_start_while_writers_go_on() {
    let dir = scratch_dir("pit");
    {
        let mut srv = TestServer::start_in(&dir, &[]);
        let mut c = srv.client();
        for batch in 0..20 {
            let mut p = redis::pipe();
            for i in batch * 5000..(batch + 1) * 5000 {
                p.cmd("SET").arg(format!("k{i}")).arg(format!("old{i}")).ignore();
            }
            let _: () = p.query(&mut c).expect("fill");
        }
        let mut w = srv.client();
        let reply: String = redis::cmd("BGSAVE").query(&mut c).expect("bgsave");
        assert_eq!(reply, "Background saving started");
        // Overwrite, delete and create while the snapshot is written.
        let mut p = redis::pipe();
        for i in (0..100_000).step_by(2) {
            p.cmd("SET").arg(format!("k{i}")).arg("new").ignore();
        }
        for i in (1..100_000).step_by(10) {
            p.cmd("DEL").arg(format!("k{i}")).ignore();
        }
        for i in 0..1000 {
            p.cmd("SET").arg(format!("fresh{i}")).arg("x").ignore();
        }
        p.cmd("FLUSHDB").ignore();
        let _: () = p.query(&mut w).expect("writes during bgsave");
        wait_bgsave(&mut c);
        let mut raw = srv.raw();
        assert_eq!(q(&mut raw, &["BGSAVE", "x"]), "-ERR syntax error\r\n");
        assert!(info_int(&mut c, "rdb_last_bgsave_time_sec") >= 0);
        srv.terminate();
    }
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.client();
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).expect("dbsize");
    assert_eq!(n, 100_000, "the snapshot holds exactly the keys present when BGSAVE began");
    let mut p = redis::pipe();
    for i in (0..100_000).step_by(997) {
        p.cmd("GET").arg(format!("k{i}"));
    }
    let got: Vec<String> = p.query(&mut c).expect("gets");
    for (j, v) in got.iter().enumerate() {
        let i = j * 997;
        assert_eq!(v, &format!("old{i}"));
    }
    drop(c);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shutdown_saves_when_save_points_exist_and_nosave_does_not() {
    let dir = scratch_dir("shutdown");
    {
        let mut srv = TestServer::start_in(&dir, &["--save", "3600 1"]);
        let mut c = srv.client();
        let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).expect("set");
        // SIGTERM saves.
        assert_eq!(srv.terminate(), Some(0));
    }
    {
        let mut srv = TestServer::start_in(&dir, &["--save", "3600 1"]);
        let mut c = srv.client();
        let v: String = redis::cmd("GET").arg("a").query(&mut c).expect("get");
        assert_eq!(v, "1");
        let _: () = redis::cmd("SET").arg("a").arg("2").query(&mut c).expect("set");
        let mut raw = srv.raw();
        raw.send(&common::encode(&[b"SHUTDOWN", b"NOSAVE"]));
        let (_, closed) = raw.read_to_close(5000);
        assert!(closed);
        assert_eq!(srv.wait_exit(Duration::from_secs(10)), Some(0));
    }
    {
        let mut srv = TestServer::start_in(&dir, &["--save", "3600 1"]);
        let mut c = srv.client();
        let v: String = redis::cmd("GET").arg("a").query(&mut c).expect("get");
        assert_eq!(v, "1", "SHUTDOWN NOSAVE must not save");
        let _: () = redis::cmd("SET").arg("a").arg("3").query(&mut c).expect("set");
        let mut raw = srv.raw();
        raw.send(&common::encode(&[b"SHUTDOWN"]));
        let (_, closed) = raw.read_to_close(5000);
        assert!(closed);
        assert_eq!(srv.wait_exit(Duration::from_secs(10)), Some(0));
    }
    let srv = TestServer::start_in(&dir, &["--save", "3600 1"]);
    let mut c = srv.client();
    let v: String = redis::cmd("GET").arg("a").query(&mut c).expect("get");
    assert_eq!(v, "3", "SHUTDOWN saves when save points are configured");
    drop(c);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_points_trigger_a_background_save() {
    let srv = TestServer::start_with(&["--save", "1 1"]);
    let mut c = srv.client();
    let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).expect("set");
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_int(&mut c, "rdb_saves") < 1 {
        assert!(Instant::now() < deadline, "no save after the save point was reached");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(srv.dir.join("dump.rdb").exists());
    assert_eq!(info_int(&mut c, "rdb_changes_since_last_save"), 0);
}

#[test]
fn a_failed_save_refuses_writes_with_misconf_until_a_save_succeeds() {
    let dir = scratch_dir("misconf");
    let srv = TestServer::start_in(&dir, &["--save", "3600 1"]);
    let mut c = srv.client();
    let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).expect("set");
    // A directory in the way of dump.rdb: the final rename fails.
    std::fs::create_dir_all(dir.join("dump.rdb").join("blocker")).expect("blocking dir");
    let _: String = redis::cmd("BGSAVE").query(&mut c).expect("bgsave");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).expect("info");
        if info.contains("rdb_last_bgsave_status:err") {
            break;
        }
        assert!(Instant::now() < deadline, "BGSAVE did not fail");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut raw = srv.raw();
    assert!(q(&mut raw, &["SET", "b", "2"]).starts_with("-MISCONF "));
    assert_eq!(q(&mut raw, &["GET", "a"]), "$1\r\n1\r\n", "reads still work");
    assert!(
        !dir.read_dir().expect("dir").any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("temp-"))),
        "a failed save leaves no temporary file"
    );
    std::fs::remove_dir_all(dir.join("dump.rdb")).expect("remove blocker");
    let _: String = redis::cmd("BGSAVE").query(&mut c).expect("bgsave");
    wait_bgsave(&mut c);
    assert_eq!(q(&mut raw, &["SET", "b", "2"]), "+OK\r\n");
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_dump_stops_start_up() {
    let dir = scratch_dir("corrupt");
    std::fs::write(dir.join("dump.rdb"), b"REDIS0010\xfe\x00\x00\x03key\x05val").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_larder"))
        .args(["--port", "0", "--save", ""])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    assert_ne!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("Error loading"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dump_files_move_between_redis_and_larder_both_ways() {
    if !have_redis_server("RDB interop with Redis") {
        return;
    }
    // Redis writes, Larder loads.
    let dir = scratch_dir("interop");
    let port = unused_port();
    let mut redis = run_redis(&dir, port, &["--appendonly", "no"]);
    let mut c = connect(port);
    populate(&mut c);
    let _: () = redis::cmd("SAVE").query(&mut c).expect("save");
    let _ = redis.kill();
    let _ = redis.wait();
    {
        let srv = TestServer::start_in(&dir, &[]);
        let mut c = srv.client();
        verify(&mut c);
        // Larder writes, Redis loads: Redis 7.0 reads RDB versions up to 10.
        let _: () = redis::cmd("CONFIG").arg("SET").arg("rdb-version").arg(10).query(&mut c).expect("config");
        let _: () = redis::cmd("SET").arg("from-larder").arg("yes").query(&mut c).expect("set");
        let _: () = redis::cmd("SAVE").query(&mut c).expect("save");
    }
    let dump = std::fs::read(dir.join("dump.rdb")).expect("dump.rdb");
    assert!(dump.starts_with(b"REDIS0010"));
    assert!(!dump.windows(5).any(|w| w == [20, 3, b's', b'e', b't']), "SET_LISTPACK in a version 10 file");
    let port = unused_port();
    let mut redis = run_redis(&dir, port, &["--appendonly", "no"]);
    let mut c = connect(port);
    verify(&mut c);
    let v: String = redis::cmd("GET").arg("from-larder").query(&mut c).expect("get");
    assert_eq!(v, "yes");
    let _ = redis.kill();
    let _ = redis.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clients_get_loading_replies_and_progress_while_the_dataset_loads() {
    let dir = scratch_dir("loading");
    {
        let mut srv = TestServer::start_in(&dir, &[]);
        let mut c = srv.client();
        let mut p = redis::pipe();
        for i in 0..2000 {
            p.cmd("SET").arg(format!("k{i}")).arg("v").ignore();
        }
        let _: () = p.query(&mut c).expect("fill");
        let _: () = redis::cmd("SAVE").query(&mut c).expect("save");
        srv.terminate();
    }
    // 2000 keys at 1 ms each: about two seconds of loading.
    let srv = TestServer::start_in_loading(&dir, &["--key-load-delay", "1000"]);
    let mut raw = srv.raw();
    assert_eq!(q(&mut raw, &["GET", "k1"]), "-LOADING Redis is loading the dataset in memory\r\n");
    let info = q(&mut raw, &["INFO", "persistence"]);
    assert!(info.contains("\r\nloading:1\r\n") && info.contains("loading_eta_seconds:"), "{info}");
    // As in Redis, even PING waits for the load; INFO and CONFIG do not.
    assert_eq!(q(&mut raw, &["PING"]), "-LOADING Redis is loading the dataset in memory\r\n");
    assert!(q(&mut raw, &["CONFIG", "GET", "port"]).starts_with("*2"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while q(&mut raw, &["GET", "k1"]).starts_with("-LOADING") {
        assert!(Instant::now() < deadline, "never finished loading");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(q(&mut raw, &["GET", "k1999"]), "$1\r\nv\r\n");
    assert!(q(&mut raw, &["INFO", "persistence"]).contains("\r\nloading:0\r\n"));
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rdb_version_accepts_10_and_11_only() {
    let srv = TestServer::start_with(&["--rdb-version", "10"]);
    let mut raw = srv.raw();
    assert_eq!(q(&mut raw, &["CONFIG", "GET", "rdb-version"]), "*2\r\n$11\r\nrdb-version\r\n$2\r\n10\r\n");
    let err = q(&mut raw, &["CONFIG", "SET", "rdb-version", "12"]);
    assert!(err.starts_with("-ERR CONFIG SET failed") && err.contains("between 10 and 11"), "{err}");
    assert_eq!(q(&mut raw, &["CONFIG", "SET", "rdb-version", "11"]), "+OK\r\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_larder"))
        .args(["--port", "0", "--rdb-version", "9"])
        .output()
        .expect("run larder");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("rdb-version"), "{text}");
}
