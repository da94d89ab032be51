//! CONFIG GET / SET / REWRITE.

use super::super::directives::IMMUTABLE;
use super::super::parse::load_str;
use super::super::rewrite::rewrite_text;
use super::super::*;
use super::*;

#[test]
fn set_basics_and_errors() {
    let mut c = Config::default();
    assert_eq!(
        set(&mut c, &[("maxmemory", "100mb"), ("Maxmemory-Policy", "allkeys-lru")]),
        Ok(vec!["maxmemory", "maxmemory-policy"])
    );
    assert_eq!(c.maxmemory, 100 << 20);
    assert_eq!(set(&mut c, &[("maxmemory", "104857600")]), Ok(vec![]));
    assert_eq!(set(&mut c, &[("lua-time-limit", "100")]), Ok(vec!["busy-reply-threshold"]));
    assert_eq!(c.busy_reply_threshold, 100);
    assert_eq!(set(&mut c, &[("hz", "1000")]), Ok(vec!["hz"]));
    assert_eq!(get1(&c, "hz"), "500");
    assert_eq!(set(&mut c, &[("save", "100 10 200 20")]), Ok(vec!["save"]));
    assert_eq!(c.save, vec![(100, 10), (200, 20)]);
    assert_eq!(set(&mut c, &[("save", "")]), Ok(vec!["save"]));
    assert!(c.save.is_empty());
    set(&mut c, &[("client-output-buffer-limit", "pubsub 1mb 2mb 3 replica 0 0 0")]).expect("cobl");
    assert_eq!(get1(&c, "client-output-buffer-limit"), "normal 0 0 0 slave 0 0 0 pubsub 1048576 2097152 3");
    set(&mut c, &[("bind", "")]).expect("bind");
    assert!(c.bind.is_empty());
    set(&mut c, &[("notify-keyspace-events", "Ex")]).expect("notify");
    assert_eq!(get1(&c, "notify-keyspace-events"), "xE");
    set(&mut c, &[("requirepass", "secret")]).expect("pass");
    assert_eq!(c.requirepass.as_deref(), Some(&b"secret"[..]));
    set(&mut c, &[("requirepass", "")]).expect("pass");
    assert_eq!(c.requirepass, None);
    assert!(is_sensitive(b"REQUIREPASS") && !is_sensitive(b"port"));

    let e = |s: &str| format!("ERR CONFIG SET failed (possibly related to argument {s}");
    assert_eq!(set_err(&mut c, "foo", "1"), "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    assert_eq!(
        set_err(&mut c, "lua-replicate-commands", "yes"),
        "ERR Unknown option or number of arguments for CONFIG SET - 'lua-replicate-commands'"
    );
    assert_eq!(set_err(&mut c, "PORT", "x"), format!("{}) - argument couldn't be parsed into an integer", e("'port'")));
    assert_eq!(
        set_err(&mut c, "port", "65536"),
        format!("{}) - argument must be between 0 and 65535 inclusive", e("'port'"))
    );
    assert_eq!(
        set_err(&mut c, "hash-max-ziplist-value", "x"),
        format!("{}) - argument must be a memory value", e("'hash-max-ziplist-value'"))
    );
    assert_eq!(set_err(&mut c, "Daemonize", "yes"), format!("{}) - can't set immutable config", e("'Daemonize'")));
    assert_eq!(set_err(&mut c, "slaveof", "no one"), format!("{}) - can't set immutable config", e("'slaveof'")));
    assert_eq!(set_err(&mut c, "dir", "/tmp"), format!("{}) - can't set protected config", e("'dir'")));
    assert_eq!(
        set_err(&mut c, "appendfsync", "sometimes"),
        format!("{}) - argument(s) must be one of the following: everysec, always, no", e("'appendfsync'"))
    );
    assert_eq!(
        set_err(&mut c, "activerehashing", "1"),
        format!("{}) - argument must be 'yes' or 'no'", e("'activerehashing'"))
    );
    assert_eq!(set_err(&mut c, "save", "100"), format!("{}) - Invalid save parameters", e("'save'")));
    assert_eq!(
        set_err(&mut c, "oom-score-adj-values", ""),
        format!("{}) - wrong number of arguments", e("'oom-score-adj-values'"))
    );
    assert_eq!(
        set_err(&mut c, "shutdown-on-sigterm", ""),
        format!(
            "{}) - argument(s) must be one of the following: default, save, nosave, now, force",
            e("'shutdown-on-sigterm'")
        )
    );
    assert_eq!(set_err(&mut c, "dbfilename", "../x"), format!("{}) - can't set protected config", e("'dbfilename'")));
}

#[test]
fn set_is_atomic_and_checks_everything_first() {
    let mut c = Config::default();
    let e = "ERR CONFIG SET failed (possibly related to argument";
    let err = set(&mut c, &[("maxmemory", "10mb"), ("port", "abc"), ("timeout", "5")]).unwrap_err();
    assert_eq!(err, format!("{e} 'port') - argument couldn't be parsed into an integer"));
    assert_eq!(c, Config::default());
    let err = set(&mut c, &[("maxmemory", "1"), ("maxmemory", "2")]).unwrap_err();
    assert_eq!(err, format!("{e} 'maxmemory') - duplicate parameter"));
    let err = set(&mut c, &[("hash-max-listpack-entries", "1"), ("HASH-MAX-ZIPLIST-ENTRIES", "2")]).unwrap_err();
    assert_eq!(err, format!("{e} 'HASH-MAX-ZIPLIST-ENTRIES') - duplicate parameter"));
    // The first problem wins, whatever its kind.
    let err = set(&mut c, &[("databases", "1"), ("nope", "2")]).unwrap_err();
    assert_eq!(err, format!("{e} 'databases') - can't set immutable config"));
    let err = set(&mut c, &[("nope", "2"), ("databases", "1")]).unwrap_err();
    assert_eq!(err, "ERR Unknown option or number of arguments for CONFIG SET - 'nope'");
    assert_eq!(c, Config::default());
    // Protected and loading checks depend on the caller.
    c.enable_protected_configs = ProtectedAction::Local;
    let here = std::env::temp_dir();
    let local = SetAccess { client_is_local: true, loading: false };
    assert_eq!(set_as(&mut c, &[("dir", &here.to_string_lossy())], local), Ok(vec!["dir"]));
    assert_eq!(c.dir, std::fs::canonicalize(&here).unwrap());
    assert!(set(&mut c, &[("dir", "/")]).unwrap_err().ends_with("can't set protected config"));
    let loading = SetAccess { client_is_local: true, loading: true };
    assert_eq!(
        set_as(&mut c, &[("appendonly", "yes")], loading),
        Err("LOADING Redis is loading the dataset in memory".into())
    );
    assert_eq!(set_as(&mut c, &[("loglevel", "debug")], loading), Ok(vec!["loglevel"]));
    let err = set_as(&mut c, &[("dir", "/no/such/larder/dir")], local).unwrap_err();
    assert_eq!(err, format!("{e} 'dir') - No such file or directory"));
}

/// Redis's "CONFIG sanity": setting every settable directive to what CONFIG GET shows
/// succeeds and changes nothing.
#[test]
fn config_get_set_round_trip() {
    let mut c = load_str("enable-protected-configs yes\nsave 10 1\nmaxmemory-clients 5%\nunixsocketperm 700\nshutdown-on-sigint save now\nlatency-tracking-info-percentiles 1.5 99.99\nnotify-keyspace-events Kgx").expect("loads");
    let before = c.get(b"*");
    for (name, value) in c.get(b"*") {
        let (d, _) = value::lookup(name.as_bytes()).expect("known");
        if d.has(IMMUTABLE) {
            continue;
        }
        let r = set(&mut c, &[(&name, &value)]);
        assert_eq!(r, Ok(vec![]), "{name} = {value:?}");
    }
    assert_eq!(c.get(b"*"), before);
    assert_eq!(get1(&c, "unixsocketperm"), "700");
    assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "1.5 99.99");
}

#[test]
fn rewrite_keeps_the_file_and_updates_it() {
    let t = TempDir::new("rewrite");
    let path = t.file(
        "r.conf",
        "# My server\nport 7000\n\n\n# memory\nmaxmemory 1mb\nfrobnicate 3\nsave 900 1\nsave 300 10\n\
         hash-max-ziplist-entries 20\nhash-max-listpack-entries 21\nrename-command DEBUG \"\"\n\
         timeout 0\nappendonly no\n",
    );
    let old = std::fs::read(&path).unwrap();
    let mut c = load_str(&String::from_utf8_lossy(&old).replace("frobnicate 3\n", "")).expect("loads");
    c.config_file = Some(path.clone());
    assert_eq!(c.hash_max_listpack_entries, 21);
    set(
        &mut c,
        &[
            ("maxmemory", "2gb"),
            ("save", "60 5"),
            ("hash-max-listpack-entries", "100"),
            ("loglevel", "warning"),
            ("appendonly", "yes"),
        ],
    )
    .unwrap();
    c.rewrite().expect("rewrite");
    let text = std::fs::read_to_string(&path).unwrap();
    let dir = c.dir.to_string_lossy().into_owned();
    let expected = format!(
        "# My server\nport 7000\n\n# memory\nmaxmemory 2gb\n# ??? frobnicate 3\nsave 60 5\n\n\
         hash-max-listpack-entries 100\n\nrename-command DEBUG \"\"\ntimeout 0\nappendonly yes\n\n\
         # Generated by CONFIG REWRITE\nloglevel warning\ndir \"{dir}\"\nlatency-tracking-info-percentiles 50 99 99.9\n"
    );
    assert_eq!(text, expected);
    // A second rewrite is stable; reloading gives the same configuration.
    c.rewrite().expect("rewrite again");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    let again = Config::load(&[path_arg(&path)]).expect("reloads");
    assert_eq!(again.get(b"*"), c.get(b"*"));
}

#[test]
fn rewrite_round_trips_non_defaults() {
    let mut c = Config { enable_protected_configs: ProtectedAction::Yes, ..Config::default() };
    let pairs: &[(&[u8], &[u8])] = &[
        (b"maxmemory-clients", b"7%"),
        (b"client-output-buffer-limit", b"normal 1kb 2 3 replica 1gb 2mb 0"),
        (b"bind", b"0.0.0.0"),
        (b"save", b""),
        (b"notify-keyspace-events", b"AKE"),
        (b"requirepass", b"pa ss\"\n"),
        (b"oom-score-adj-values", b"1 2 3"),
        (b"shutdown-on-sigterm", b"nosave force"),
        (b"latency-tracking-info-percentiles", b""),
        (b"dbfilename", b"x y.rdb"),
        (b"list-max-listpack-size", b"-5"),
        (b"slowlog-log-slower-than", b"-1"),
        (b"cluster-announce-ip", b"10.1.1.1"),
    ];
    c.set(pairs).expect("set");
    c.unixsocket = Some("/tmp/larder.sock".into());
    c.unixsocketperm = 0o755;
    c.users = vec![args(&["bob", "on", "nopass", "~*", "+@all"])];
    let text = rewrite_text(&c, b"");
    assert!(text.starts_with("# Generated by CONFIG REWRITE\n"), "{text}");
    assert!(text.contains("\nsave \"\"\n") && text.contains("\nbind 0.0.0.0\n"), "{text}");
    assert!(text.contains("\nclient-output-buffer-limit replica 1gb 2mb 0\n"), "{text}");
    assert!(text.contains("\nunixsocketperm 755\n") && text.contains("\nuser bob on nopass ~* +@all\n"), "{text}");
    let mut back = load_str(&text).expect("reloads");
    back.config_file = None;
    assert_eq!(back, c);
    let no_file = Config::default();
    assert_eq!(no_file.rewrite(), Err("ERR The server is running without a config file".into()));
}

#[test]
fn rewrite_removes_defaults_and_duplicates() {
    let c = load_str("port 6379\nport 6380\nbind 127.0.0.1 -::1\nunixsocket /tmp/s\n").expect("loads");
    let mut c2 = c.clone();
    c2.unixsocket = None;
    let old = b"port 6379\nport 6380\nbind 127.0.0.1 -::1\nunixsocket /tmp/s\n";
    let dir = c.dir.to_string_lossy().into_owned();
    let tail = format!("\n# Generated by CONFIG REWRITE\nsave 3600 1\nsave 300 100\nsave 60 10000\ndir \"{dir}\"\nlatency-tracking-info-percentiles 50 99 99.9\n");
    assert_eq!(rewrite_text(&c2, old), format!("port 6380\n{tail}"));
    assert_eq!(rewrite_text(&c, old), format!("port 6380\n\nunixsocket \"/tmp/s\"\n{tail}"));
}
