//! Start-up: defaults, the table, file and command-line parsing, include, errors.

use std::path::Path;

use super::super::directives::{DIRECTIVES, HIDDEN, IMMUTABLE};
use super::super::parse::load_str;
use super::super::*;
use super::*;

#[test]
fn defaults_render_as_redis() {
    let c = Config::default();
    assert_eq!(get1(&c, "port"), "6379");
    assert_eq!(get1(&c, "save"), "3600 1 300 100 60 10000");
    assert_eq!(get1(&c, "bind"), "127.0.0.1 -::1");
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get1(&c, "maxmemory-policy"), "noeviction");
    assert_eq!(get1(&c, "proto-max-bulk-len"), "536870912");
    assert_eq!(get1(&c, "client-query-buffer-limit"), "1073741824");
    assert_eq!(get1(&c, "appendfsync"), "everysec");
    assert_eq!(get1(&c, "protected-mode"), "yes");
    assert_eq!(get1(&c, "requirepass"), "");
    assert_eq!(get1(&c, "oom-score-adj-values"), "0 200 800");
    assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99 99.9");
    assert_eq!(get1(&c, "shutdown-on-sigterm"), "default");
    assert_eq!(get1(&c, "unixsocketperm"), "0");
    assert_eq!(get1(&c, "list-max-listpack-size"), "-2");
    assert_eq!(get1(&c, "databases"), "16");
    assert_eq!(get1(&c, "io-threads"), "0");
    assert!(Path::new(&get1(&c, "dir")).is_absolute());
    assert_eq!(c.bind_addresses().collect::<Vec<_>>(), vec![("127.0.0.1", false), ("::1", true)]);
}

#[test]
fn table_is_consistent() {
    let mut names: Vec<&str> = DIRECTIVES.iter().flat_map(|d| std::iter::once(d.name).chain(d.alias)).collect();
    let total = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), total, "duplicate directive name");
    assert_eq!(DIRECTIVES.len(), 184);
    assert!(names.iter().all(|n| n.bytes().all(|c| !c.is_ascii_uppercase())));
    // Every default value can be set back through CONFIG SET syntax.
    let c = Config::default();
    for d in DIRECTIVES.iter().filter(|d| !d.has(IMMUTABLE)) {
        let mut c2 = c.clone();
        c2.enable_protected_configs = ProtectedAction::Yes;
        let v = value::render(&c, d);
        let r = set(&mut c2, &[(d.name, &v)]);
        assert_eq!(r, Ok(vec![]), "{} {v:?}", d.name);
    }
}

#[test]
fn get_globs_aliases_and_hidden() {
    let c = Config::default();
    let mut got: Vec<String> = c.get(b"*max-*-entries*").into_iter().map(|(n, _)| n).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "hash-max-listpack-entries",
            "hash-max-ziplist-entries",
            "set-max-intset-entries",
            "set-max-listpack-entries",
            "zset-max-listpack-entries",
            "zset-max-ziplist-entries"
        ]
    );
    let all = c.get(b"*");
    let visible = DIRECTIVES.iter().filter(|d| !d.has(HIDDEN));
    assert_eq!(all.len(), visible.map(|d| 1 + usize::from(d.alias.is_some())).sum::<usize>());
    assert!(!all.iter().any(|(n, _)| n == "key-load-delay"));
    assert_eq!(c.get(b"key-load-delay"), vec![("key-load-delay".into(), "0".into())]);
    assert_eq!(c.get(b"MAXMEMORY"), vec![("MAXMEMORY".into(), "0".into())]);
    assert_eq!(c.get(b"slaveof"), vec![("slaveof".into(), "".into())]);
    assert_eq!(c.get(b"lua-time-limit"), vec![("lua-time-limit".into(), "5000".into())]);
    assert!(c.get(b"no-such-thing").is_empty());
    let res = c.get_many(&[b"maxmemory", b"maxmemory*", b"bind", b"*of"]);
    let names: Vec<&str> = res.iter().map(|(n, _)| n.as_str()).collect();
    for n in ["maxmemory", "maxmemory-samples", "maxmemory-clients", "bind", "replicaof", "slaveof"] {
        assert_eq!(names.iter().filter(|x| **x == n).count(), 1, "{n} in {names:?}");
    }
    assert_eq!(c.get(b"MAXMEMORY-POL*"), vec![("maxmemory-policy".into(), "noeviction".into())]);
}

#[test]
fn file_syntax() {
    let text = "# comment\n\n   # indented comment\nport 7000\r\n\tmaxmemory   2mb  \n\
                requirepass \"p\\x41ss word\"\nlogfile ''\nMAXMEMORY-POLICY AllKeys-LRU\n\
                appendonly YES\nnotify-keyspace-events 'KEA'\n";
    let c = load_str(text).expect("loads");
    assert_eq!(c.port, 7000);
    assert_eq!(c.maxmemory, 2 * 1024 * 1024);
    assert_eq!(c.requirepass.as_deref(), Some(&b"pAss word"[..]));
    assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
    assert!(c.appendonly);
    assert_eq!(c.notify_keyspace_events, "KEA");
    assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
}

#[test]
fn memory_units() {
    for (text, bytes) in [
        ("1k", 1000),
        ("1kb", 1024),
        ("3m", 3_000_000),
        ("3MB", 3 << 20),
        ("2g", 2_000_000_000u64),
        ("2Gb", 2 << 30),
        ("123", 123),
        ("5b", 5),
    ] {
        let c = load_str(&format!("maxmemory {text}")).expect(text);
        assert_eq!(c.maxmemory, bytes, "{text}");
    }
    assert_eq!(load_err("maxmemory 1tb"), "argument must be a memory value");
    assert_eq!(load_err("maxmemory -1"), "argument must be a memory value");
    let c = load_str("maxmemory-clients 10%").expect("percent");
    assert_eq!((c.maxmemory_clients, get1(&c, "maxmemory-clients")), (-10, "10%".into()));
}

#[test]
fn save_points() {
    assert_eq!(get1(&load_str("port 1").unwrap(), "save"), "3600 1 300 100 60 10000");
    assert_eq!(get1(&load_str("save 900 1\nsave 300 10").unwrap(), "save"), "900 1 300 10");
    assert_eq!(get1(&load_str("save 900 1\nsave \"\"").unwrap(), "save"), "");
    assert_eq!(get1(&load_str("save \"\"\nsave 60 5").unwrap(), "save"), "60 5");
    assert_eq!(get1(&load_str("save \"900 1 300 10\"").unwrap(), "save"), "900 1 300 10");
    assert_eq!(load_err("save 900"), "Invalid save parameters");
    assert_eq!(load_err("save 0 1"), "Invalid save parameters");
}

#[test]
fn fatal_error_format() {
    let msg = fatal_of(load_str("port 1\nfrobnicate yes\n"));
    assert_eq!(
        msg,
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.2.4) ***\nReading the configuration file, at line 2\n\
         >>> 'frobnicate yes'\nBad directive or wrong number of arguments"
    );
    let msg = fatal_of(Config::load(&args(&["--port"])));
    assert!(msg.contains("at line 2\n>>> 'port'\nwrong number of arguments"), "{msg}");
    let msg = fatal_of(Config::load(&args(&["--invalid"])));
    assert!(msg.ends_with("Bad directive or wrong number of arguments"), "{msg}");
}

#[test]
fn every_load_error_text() {
    let cases = [
        ("port 1 2", "wrong number of arguments"),
        ("port \"1", "Unbalanced quotes in configuration line"),
        ("appendonly maybe", "argument must be 'yes' or 'no'"),
        ("port abc", "argument couldn't be parsed into an integer"),
        ("port 70000", "argument must be between 0 and 65535 inclusive"),
        ("maxclients 0", "argument must be between 1 and 4294967295 inclusive"),
        ("databases 0", "argument must be between 1 and 2147483647 inclusive"),
        ("maxmemory-clients 1x", "argument must be a memory or percent value"),
        ("maxmemory-clients 101%", "percentage argument must be less or equal to 100"),
        ("unixsocketperm 999", "argument couldn't be parsed as an octal number"),
        ("unixsocketperm 1777", "argument must be between 0 and 777 inclusive"),
        ("proto-max-bulk-len 1000", "argument must be between 1048576 and 9223372036854775807 inclusive"),
        ("maxmemory-policy lru", "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction, allkeys-tinylfu"),
        ("loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"),
        ("shutdown-on-sigint save nosave", "shutdown options SAVE and NOSAVE can't be used simultaneously"),
        ("client-output-buffer-limit normal 0 0", "Wrong number of arguments in buffer limit configuration."),
        ("client-output-buffer-limit master 0 0 0", "Invalid client class specified in buffer limit configuration."),
        ("client-output-buffer-limit pubsub 1mb x 0", "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
        ("oom-score-adj-values 0 200", "wrong number of arguments"),
        ("oom-score-adj-values 0 200 3000", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."),
        ("notify-keyspace-events KEQ", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        ("dir /no/such/dir/for/larder", "No such file or directory"),
        ("replicaof localhost port", "Invalid master port"),
        ("replicaof localhost", "wrong number of arguments"),
        ("latency-tracking-info-percentiles 50 abc", "Invalid latency-tracking-info-percentiles parameters"),
        ("latency-tracking-info-percentiles 101", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"),
        ("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."),
        ("dbfilename a/b.rdb", "dbfilename can't be a path, just a filename"),
        ("appendfilename \"\"", "appendfilename can't be empty"),
        ("appenddirname x/y", "appenddirname can't be a path, just a dirname"),
        ("activedefrag yes", "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"),
        ("proc-title-template \"{nope}\"", "template format is invalid or contains unknown variables"),
        ("cluster-announce-hostname a_b", "Hostnames may only contain alphanumeric characters, hyphens or dots"),
        ("sentinel monitor x", "sentinel directive while not in sentinel mode"),
        ("include", "Bad directive or wrong number of arguments"),
        ("cluster-enabled yes\nreplicaof h 1", "replicaof directive not allowed in cluster mode"),
        ("logfile /no/such/dir/for/larder.log", "Can't open the log file: No such file or directory"),
    ];
    for (text, reason) in cases {
        assert_eq!(load_err(text), reason, "{text}");
    }
}

#[test]
fn other_directives() {
    let c = load_str(
        "lua-replicate-commands yes\nlist-max-ziplist-entries 5\nrename-command FLUSHALL \"\"\n\
         user alice on >pw ~* +@all\ncluster-enabled yes\noom-score-adj relative\n\
         shutdown-on-sigint \"now save\"\nreplicaof example.org 6380\ncluster-enabled no\n",
    )
    .expect("loads");
    assert_eq!(c.rename_commands, vec![("FLUSHALL".to_string(), String::new())]);
    assert_eq!(c.users, vec![args(&["alice", "on", ">pw", "~*", "+@all"])]);
    assert_eq!(get1(&c, "oom-score-adj"), "yes");
    assert_eq!(get1(&c, "shutdown-on-sigint"), "save now");
    assert_eq!(get1(&c, "replicaof"), "example.org 6380");
    assert_eq!(c.replicaof, Some(("example.org".into(), 6380)));
    let c = load_str("cluster-enabled yes\ndatabases 4").expect("loads");
    assert_eq!(c.databases, 1);
    assert_eq!(load_str("hz 100000").expect("clamped").hz, 500);
    assert_eq!(load_str("hz 0").expect("clamped").hz, 1);
    assert_eq!(load_err("loadmodule /x.so"), "Larder does not support modules");
}

#[test]
fn command_line() {
    assert_eq!(Config::load(&[]).map(|c| c.port), Ok(6379));
    assert_eq!(Config::load(&args(&["-v"])), Err(StartupError::Version));
    assert_eq!(Config::load(&args(&["--version"])), Err(StartupError::Version));
    assert_eq!(Config::load(&args(&["-h"])), Err(StartupError::Help));
    let c = Config::load(&args(&["--port", "7777", "--save", "", "--bind", "10.0.0.1", "-::1", "--maxmemory", "1gb"]))
        .expect("loads");
    assert_eq!((c.port, c.save.len(), c.maxmemory), (7777, 0, 1 << 30));
    assert_eq!(c.bind, args(&["10.0.0.1", "-::1"]));
    let c = Config::load(&args(&["--save", "--port", "1234"])).expect("loads");
    assert_eq!((c.port, get1(&c, "save")), (1234, String::new()));
    let c = Config::load(&args(&["--port", "1", "--save"])).expect("loads");
    assert_eq!(get1(&c, "save"), "");
    let c = Config::load(&args(&["--save", "900 1", "--port 5555", "--requirepass", "a b\"c"])).expect("loads");
    assert_eq!((get1(&c, "save"), c.port), ("900 1".into(), 5555));
    assert_eq!(c.requirepass.as_deref(), Some(&b"a b\"c"[..]));
    let missing = std::env::temp_dir().join("larder-config-surely-missing.conf");
    let msg = fatal_of(Config::load(&[path_arg(&missing)]));
    assert_eq!(msg, format!("Fatal error, can't open config file '{}': No such file or directory", missing.display()));
}

#[test]
fn file_then_flags_and_include() {
    let t = TempDir::new("include");
    t.file("extra.conf", "maxmemory 5mb\nport 6000\n");
    t.file("d1.conf", "timeout 7\n");
    t.file("d2.conf", "tcp-keepalive 9\n");
    t.file("bad.conf", "port 1\nnonsense\n");
    let main = t.file(
        "main.conf",
        &format!(
            "port 6001\nsave 900 1\ninclude {}\ninclude {}/d*.conf\ninclude {}/none-*.conf\n",
            t.0.join("extra.conf").display(),
            t.0.display(),
            t.0.display()
        ),
    );
    let c = Config::load(&[path_arg(&main)]).expect("loads");
    assert_eq!((c.port, c.maxmemory, c.timeout, c.tcp_keepalive), (6000, 5 << 20, 7, 9));
    assert_eq!(c.config_file.as_deref(), Some(main.as_path()));
    let c = Config::load(&[path_arg(&main), "--port".into(), "7000".into(), "--save".into(), "100 100".into()])
        .expect("loads");
    assert_eq!((c.port, get1(&c, "save")), (7000, "900 1 100 100".into()));
    let c = Config::load(&[path_arg(&main), "--save".into(), "".into()]).expect("loads");
    assert_eq!(get1(&c, "save"), "");
    let bad = t.file("uses-bad.conf", &format!("port 2\ninclude {}\n", t.0.join("bad.conf").display()));
    let msg = fatal_of(Config::load(&[path_arg(&bad)]));
    assert!(msg.contains("at line 2\n>>> 'nonsense'\nBad directive"), "{msg}");
    let looped = t.file("loop.conf", &format!("include {}\n", t.0.join("loop.conf").display()));
    let msg = fatal_of(Config::load(&[path_arg(&looped)]));
    assert!(msg.ends_with("Too many nested include directives"), "{msg}");
}
