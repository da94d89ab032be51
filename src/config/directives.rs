//! The declarative directive table. Each entry names the typed field of [`Config`], its type
//! and default, the directive name (and alias), its flags and its kind (bounds, enumeration,
//! or one of a few special kinds). One macro turns the table into the `Config` struct, its
//! `Default` and the static [`DIRECTIVES`] that load, CONFIG GET/SET and REWRITE all walk.
//!
//! Names, defaults and bounds are those of Redis 7.2, except where Larder says otherwise
//! (`bind` defaults to loopback, `io-threads` 0 means one worker per core).

use std::path::PathBuf;

use super::checks::*;
use super::types::*;

/// CONFIG SET refuses the directive ("can't set immutable config").
pub(crate) const IMMUTABLE: u8 = 1;
/// CONFIG SET needs `enable-protected-configs` ("can't set protected config").
pub(crate) const PROTECTED: u8 = 2;
/// The value is a secret: redact it from command logs (SLOWLOG, MONITOR).
pub(crate) const SENSITIVE: u8 = 4;
/// Left out of CONFIG GET patterns; only an exact name shows it.
pub(crate) const HIDDEN: u8 = 8;
/// CONFIG SET answers -LOADING while the dataset is being loaded.
pub(crate) const DENY_LOADING: u8 = 16;
/// Takes several arguments (in a file: one line, or one quoted argument split on spaces).
pub(crate) const MULTI_ARG: u8 = 32;
/// Setting it to its current value still counts as a change (files re-read on apply).
pub(crate) const VOLATILE: u8 = 64;
/// No flag: an ordinary runtime-settable directive.
pub(crate) const MUTABLE: u8 = 0;

const INT_MIN: i128 = i32::MIN as i128;
const INT_MAX: i128 = i32::MAX as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;
const MB: u64 = 1024 * 1024;

/// How a numeric directive is parsed and rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumFmt {
    /// A plain integer.
    Plain,
    /// A byte count with optional unit (k, kb, m, mb, g, gb).
    Memory,
    /// A byte count, or `N%` (stored as `-N`).
    MemoryOrPercent,
    /// An octal number (file permissions).
    Octal,
}

/// The directives whose values have their own syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    Save,
    Bind,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    Dir,
    Replicaof,
    LatencyTrackingInfoPercentiles,
}

/// An extra validation of a parsed value, with Redis's reason when it fails.
pub(crate) type Check<T> = fn(T) -> Result<(), &'static str>;
/// [`Check`] of a string value.
pub(crate) type BytesCheck = fn(&[u8]) -> Result<(), &'static str>;

/// How a directive's value is parsed, stored, rendered and rewritten.
pub(crate) enum Kind {
    Bool {
        get: fn(&Config) -> bool,
        set: fn(&mut Config, bool),
        check: Option<Check<bool>>,
    },
    Num {
        min: i128,
        max: i128,
        fmt: NumFmt,
        /// Accepted values outside this range are clamped into it (`hz`).
        clamp: Option<(i128, i128)>,
        get: fn(&Config) -> i128,
        set: fn(&mut Config, i128),
    },
    Str {
        /// An empty value means "unset" (`None`), as for `unixsocket`.
        null_on_empty: bool,
        check: Option<BytesCheck>,
        get: fn(&Config) -> Option<Vec<u8>>,
        set: fn(&mut Config, Option<Vec<u8>>),
    },
    Enum {
        items: &'static [(&'static str, u32)],
        multi: bool,
        check: Option<Check<u32>>,
        get: fn(&Config) -> u32,
        set: fn(&mut Config, u32),
    },
    Special(Special),
}

/// One configuration directive.
pub(crate) struct Directive {
    /// The canonical (lower-case) name.
    pub name: &'static str,
    /// The old name also accepted (`slaveof`, `hash-max-ziplist-entries`, ...).
    pub alias: Option<&'static str>,
    /// `IMMUTABLE`, `PROTECTED`, ... or'ed.
    pub flags: u8,
    pub kind: Kind,
}

impl Directive {
    /// Whether `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

fn lossy(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

macro_rules! kind {
    (bool, $f:ident, $t:ty $(, $check:expr)?) => {
        Kind::Bool { get: |c| c.$f, set: |c, v| c.$f = v, check: kind!(@opt $($check)?) }
    };
    (@num $fmt:ident, $f:ident, $t:ty, $min:expr, $max:expr, $clamp:expr) => {
        Kind::Num {
            min: $min as i128,
            max: $max as i128,
            fmt: NumFmt::$fmt,
            clamp: $clamp,
            get: |c| c.$f as i128,
            set: |c, v| c.$f = v as $t,
        }
    };
    (int, $f:ident, $t:ty, $min:expr, $max:expr) => { kind!(@num Plain, $f, $t, $min, $max, None) };
    (mem, $f:ident, $t:ty, $min:expr, $max:expr) => { kind!(@num Memory, $f, $t, $min, $max, None) };
    (mem_pct, $f:ident, $t:ty, $min:expr, $max:expr) => {
        kind!(@num MemoryOrPercent, $f, $t, $min, $max, None)
    };
    (octal, $f:ident, $t:ty, $min:expr, $max:expr) => { kind!(@num Octal, $f, $t, $min, $max, None) };
    (clamped, $f:ident, $t:ty, $min:expr, $max:expr, $lo:expr, $hi:expr) => {
        kind!(@num Plain, $f, $t, $min, $max, Some(($lo, $hi)))
    };
    (string, $f:ident, $t:ty $(, $check:expr)?) => {
        Kind::Str {
            null_on_empty: false,
            check: kind!(@opt $($check)?),
            get: |c| Some(c.$f.clone().into_bytes()),
            set: |c, v| c.$f = lossy(v.unwrap_or_default()),
        }
    };
    (opt_string, $f:ident, $t:ty $(, $check:expr)?) => {
        Kind::Str {
            null_on_empty: true,
            check: kind!(@opt $($check)?),
            get: |c| c.$f.clone().map(String::into_bytes),
            set: |c, v| c.$f = v.map(lossy),
        }
    };
    (secret, $f:ident, $t:ty) => {
        Kind::Str { null_on_empty: true, check: None, get: |c| c.$f.clone(), set: |c, v| c.$f = v }
    };
    (enumeration, $f:ident, $t:ty $(, $check:expr)?) => {
        Kind::Enum {
            items: <$t as ConfigEnum>::ITEMS,
            multi: <$t as ConfigEnum>::MULTI,
            check: kind!(@opt $($check)?),
            get: |c| c.$f.code(),
            set: |c, v| c.$f = <$t as ConfigEnum>::from_code(v),
        }
    };
    (special, $f:ident, $t:ty, $s:ident) => { Kind::Special(Special::$s) };
    (@opt $check:expr) => { Some($check) };
    (@opt) => { None };
}

macro_rules! directives {
    ($( $(#[doc = $doc:literal])+ $f:ident: $t:ty = $def:expr, $name:literal $(| $alias:literal)?,
        $flags:expr, $kind:ident $(($($arg:tt)*))?; )+) => {
        /// The server configuration: one typed field per directive (named after it in
        /// snake_case), plus where it was loaded from. Built by [`Config::load`], read with
        /// [`Config::get`], changed with [`Config::set`], saved with [`Config::rewrite`].
        #[derive(Debug, Clone, PartialEq)]
        pub struct Config {
            $( $(#[doc = $doc])+ pub $f: $t, )+
            /// Absolute path of the configuration file, if the server was started with one.
            pub config_file: Option<PathBuf>,
            /// `rename-command old new` lines, in order (`new` empty: the command is removed).
            /// The command table applies them; Redis rejects unknown commands at start-up
            /// with "No such command in rename-command".
            pub rename_commands: Vec<(String, String)>,
            /// `user ...` lines (arguments after `user`), for the ACL module to apply.
            pub users: Vec<Vec<String>>,
        }

        impl Default for Config {
            fn default() -> Self {
                Config {
                    $( $f: $def, )+
                    config_file: None,
                    rename_commands: Vec::new(),
                    users: Vec::new(),
                }
            }
        }

        /// Every directive, in the order CONFIG GET lists them.
        pub(crate) static DIRECTIVES: &[Directive] = &[$(
            Directive {
                name: $name,
                alias: directives!(@alias $($alias)?),
                flags: $flags,
                kind: kind!($kind, $f, $t $(, $($arg)*)?),
            },
        )+];
    };
    (@alias $a:literal) => { Some($a) };
    (@alias) => { None };
}

directives! {
    // ---- network ----
    /// Addresses to listen on; a leading `-` marks an address that may be unavailable.
    /// Larder's default is loopback only: `127.0.0.1 -::1`. Empty: listen on none.
    bind: Vec<String> = vec!["127.0.0.1".into(), "-::1".into()], "bind", MULTI_ARG, special(Bind);
    /// Local address for outgoing connections (to a master).
    bind_source_addr: Option<String> = None, "bind-source-addr", MUTABLE, opt_string;
    /// TCP port (0: no TCP listener).
    port: u16 = 6379, "port", MUTABLE, int(0, 65535);
    /// listen(2) backlog.
    tcp_backlog: u32 = 511, "tcp-backlog", IMMUTABLE, int(0, INT_MAX);
    /// Unix socket path to listen on.
    unixsocket: Option<String> = None, "unixsocket", IMMUTABLE, opt_string;
    /// Permissions of the Unix socket (octal; 0: leave as created).
    unixsocketperm: u32 = 0, "unixsocketperm", IMMUTABLE, octal(0, 0o777);
    /// SO_MARK / SO_USER_COOKIE for listening sockets.
    socket_mark_id: u32 = 0, "socket-mark-id", IMMUTABLE, int(0, UINT_MAX);
    /// Without a password or bind, refuse non-loopback clients.
    protected_mode: bool = true, "protected-mode", MUTABLE, bool;
    /// Close a client idle for this many seconds (0: never).
    timeout: u32 = 0, "timeout", MUTABLE, int(0, INT_MAX);
    /// TCP keepalive interval in seconds (0: off).
    tcp_keepalive: u32 = 300, "tcp-keepalive", MUTABLE, int(0, INT_MAX);
    /// Maximum number of connected clients.
    maxclients: u32 = 10000, "maxclients", MUTABLE, int(1, UINT_MAX);
    // ---- TLS (accepted and stored; Larder has no TLS listener yet) ----
    /// TLS port (0: none).
    tls_port: u16 = 0, "tls-port", MUTABLE, int(0, 65535);
    /// TLS session cache size.
    tls_session_cache_size: u32 = 20480, "tls-session-cache-size", MUTABLE, int(0, INT_MAX);
    /// TLS session cache timeout, seconds.
    tls_session_cache_timeout: u32 = 300, "tls-session-cache-timeout", MUTABLE, int(0, INT_MAX);
    /// Use TLS on the cluster bus.
    tls_cluster: bool = false, "tls-cluster", MUTABLE, bool;
    /// Use TLS for replication.
    tls_replication: bool = false, "tls-replication", MUTABLE, bool;
    /// Require client certificates.
    tls_auth_clients: TlsAuthClients = TlsAuthClients::Yes, "tls-auth-clients", MUTABLE, enumeration;
    /// Prefer the server's cipher order.
    tls_prefer_server_ciphers: bool = false, "tls-prefer-server-ciphers", MUTABLE, bool;
    /// Enable TLS session caching.
    tls_session_caching: bool = true, "tls-session-caching", MUTABLE, bool;
    /// Server certificate file.
    tls_cert_file: Option<String> = None, "tls-cert-file", VOLATILE, opt_string;
    /// Server private key file.
    tls_key_file: Option<String> = None, "tls-key-file", VOLATILE, opt_string;
    /// Passphrase of the server key.
    tls_key_file_pass: Option<String> = None, "tls-key-file-pass", MUTABLE, opt_string;
    /// Client certificate for outgoing connections.
    tls_client_cert_file: Option<String> = None, "tls-client-cert-file", VOLATILE, opt_string;
    /// Client key for outgoing connections.
    tls_client_key_file: Option<String> = None, "tls-client-key-file", VOLATILE, opt_string;
    /// Passphrase of the client key.
    tls_client_key_file_pass: Option<String> = None, "tls-client-key-file-pass", MUTABLE, opt_string;
    /// DH parameters file.
    tls_dh_params_file: Option<String> = None, "tls-dh-params-file", VOLATILE, opt_string;
    /// CA certificate bundle.
    tls_ca_cert_file: Option<String> = None, "tls-ca-cert-file", VOLATILE, opt_string;
    /// CA certificate directory.
    tls_ca_cert_dir: Option<String> = None, "tls-ca-cert-dir", VOLATILE, opt_string;
    /// Allowed TLS protocol versions.
    tls_protocols: Option<String> = None, "tls-protocols", MUTABLE, opt_string;
    /// TLS 1.2 cipher list.
    tls_ciphers: Option<String> = None, "tls-ciphers", MUTABLE, opt_string;
    /// TLS 1.3 cipher suites.
    tls_ciphersuites: Option<String> = None, "tls-ciphersuites", MUTABLE, opt_string;
    // ---- general ----
    /// Run as a daemon (accepted and stored).
    daemonize: bool = false, "daemonize", IMMUTABLE, bool;
    /// Supervisor interaction.
    supervised: Supervised = Supervised::No, "supervised", IMMUTABLE, enumeration;
    /// File to write the pid to.
    pidfile: Option<String> = None, "pidfile", IMMUTABLE, opt_string;
    /// Log verbosity.
    loglevel: Loglevel = Loglevel::Notice, "loglevel", MUTABLE, enumeration;
    /// Log file ("": standard output).
    logfile: String = String::new(), "logfile", IMMUTABLE, string;
    /// Also log to syslog.
    syslog_enabled: bool = false, "syslog-enabled", IMMUTABLE, bool;
    /// Syslog identity.
    syslog_ident: String = "redis".into(), "syslog-ident", IMMUTABLE, string;
    /// Syslog facility.
    syslog_facility: SyslogFacility = SyslogFacility::Local0, "syslog-facility", IMMUTABLE, enumeration;
    /// Log a report on a crash.
    crash_log_enabled: bool = true, "crash-log-enabled", MUTABLE, bool;
    /// Run a memory check on a crash.
    crash_memcheck_enabled: bool = true, "crash-memcheck-enabled", MUTABLE, bool;
    /// Exit instead of abort on panic (tests).
    use_exit_on_panic: bool = false, "use-exit-on-panic", HIDDEN, bool;
    /// Number of databases (SELECT 0 .. n-1).
    databases: usize = 16, "databases", IMMUTABLE, int(1, INT_MAX);
    /// Show the ASCII logo at start-up.
    always_show_logo: bool = false, "always-show-logo", IMMUTABLE, bool;
    /// Set the process title.
    set_proc_title: bool = true, "set-proc-title", IMMUTABLE, bool;
    /// Template of the process title.
    proc_title_template: String = "{title} {listen-addr} {server-mode}".into(),
        "proc-title-template", MUTABLE, string(check_proc_title);
    /// Locale for SORT ... ALPHA collation.
    locale_collate: String = String::new(), "locale-collate", MUTABLE, string;
    /// Start-up warnings to silence.
    ignore_warnings: String = String::new(), "ignore-warnings", MUTABLE, string;
    /// Disable transparent huge pages for the process.
    disable_thp: bool = true, "disable-thp", IMMUTABLE, bool;
    /// Allow CONFIG SET of protected directives (`dir`, `dbfilename`).
    enable_protected_configs: ProtectedAction = ProtectedAction::No,
        "enable-protected-configs", IMMUTABLE, enumeration;
    /// Allow the DEBUG command.
    enable_debug_command: ProtectedAction = ProtectedAction::No,
        "enable-debug-command", IMMUTABLE, enumeration;
    /// Allow the MODULE command.
    enable_module_command: ProtectedAction = ProtectedAction::No,
        "enable-module-command", IMMUTABLE, enumeration;
    /// CPU affinity of the main threads.
    server_cpulist: Option<String> = None, "server_cpulist", IMMUTABLE, opt_string;
    /// CPU affinity of background I/O threads.
    bio_cpulist: Option<String> = None, "bio_cpulist", IMMUTABLE, opt_string;
    /// CPU affinity of the AOF rewrite child.
    aof_rewrite_cpulist: Option<String> = None, "aof_rewrite_cpulist", IMMUTABLE, opt_string;
    /// CPU affinity of the BGSAVE child.
    bgsave_cpulist: Option<String> = None, "bgsave_cpulist", IMMUTABLE, opt_string;
    /// Adjust the process's oom_score_adj.
    oom_score_adj: OomScoreAdj = OomScoreAdj::No, "oom-score-adj", MUTABLE, enumeration;
    /// oom_score_adj for master, replica, and background child.
    oom_score_adj_values: [i32; 3] = [0, 200, 800], "oom-score-adj-values", MULTI_ARG,
        special(OomScoreAdjValues);
    /// Background task frequency; values outside 1..500 are clamped.
    hz: u32 = 10, "hz", MUTABLE, clamped(0, INT_MAX, 1, 500);
    /// Raise hz with the number of clients.
    dynamic_hz: bool = true, "dynamic-hz", MUTABLE, bool;
    /// Seconds SHUTDOWN waits for replicas.
    shutdown_timeout: u32 = 10, "shutdown-timeout", MUTABLE, int(0, INT_MAX);
    /// SHUTDOWN flags used on SIGINT.
    shutdown_on_sigint: ShutdownFlags = ShutdownFlags::default(), "shutdown-on-sigint",
        MULTI_ARG, enumeration(check_shutdown_flags);
    /// SHUTDOWN flags used on SIGTERM.
    shutdown_on_sigterm: ShutdownFlags = ShutdownFlags::default(), "shutdown-on-sigterm",
        MULTI_ARG, enumeration(check_shutdown_flags);
    /// Software watchdog period, ms (debugging).
    watchdog_period: u32 = 0, "watchdog-period", HIDDEN, int(0, INT_MAX);
    /// jemalloc background purging thread.
    jemalloc_bg_thread: bool = true, "jemalloc-bg-thread", MUTABLE, bool;
    /// Worker threads. Larder: 0 (the default) means one per CPU core.
    io_threads: usize = 0, "io-threads", IMMUTABLE, int(0, 128);
    /// Accepted for compatibility (Larder's workers always read and parse).
    io_threads_do_reads: bool = false, "io-threads-do-reads", IMMUTABLE, bool;
    // ---- snapshotting ----
    /// Save points: `(seconds, changes)`; empty disables RDB snapshots.
    save: Vec<(u64, u64)> = vec![(3600, 1), (300, 100), (60, 10000)], "save", MULTI_ARG,
        special(Save);
    /// Refuse writes after a failed BGSAVE.
    stop_writes_on_bgsave_error: bool = true, "stop-writes-on-bgsave-error", MUTABLE, bool;
    /// LZF-compress strings in the RDB.
    rdbcompression: bool = true, "rdbcompression", MUTABLE, bool;
    /// RDB version of the files Larder writes (Larder's own): 11 as Redis 7.2, or 10 for
    /// files that Redis 7.0 must load.
    rdb_version: u16 = 11, "rdb-version", MUTABLE, int(10, 11);
    /// CRC64 checksum at the end of the RDB.
    rdbchecksum: bool = true, "rdbchecksum", IMMUTABLE, bool;
    /// Deep validation of RESTORE payloads and RDB files.
    sanitize_dump_payload: SanitizeDumpPayload = SanitizeDumpPayload::No,
        "sanitize-dump-payload", MUTABLE, enumeration;
    /// RDB file name (inside `dir`).
    dbfilename: String = "dump.rdb".into(), "dbfilename", PROTECTED, string(check_dbfilename);
    /// Delete RDB files used only for replication.
    rdb_del_sync_files: bool = false, "rdb-del-sync-files", MUTABLE, bool;
    /// Working directory (absolute): RDB, AOF and relative paths live here. The server is
    /// expected to chdir to it at start-up and on change, as Redis does.
    dir: PathBuf = std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")), "dir",
        PROTECTED | DENY_LOADING, special(Dir);
    /// fsync the RDB incrementally while saving.
    rdb_save_incremental_fsync: bool = true, "rdb-save-incremental-fsync", MUTABLE, bool;
    /// Microseconds to sleep per key while saving (tests).
    rdb_key_save_delay: i32 = 0, "rdb-key-save-delay", HIDDEN, int(INT_MIN, INT_MAX);
    /// Microseconds to sleep per key while loading (tests).
    key_load_delay: i32 = 0, "key-load-delay", HIDDEN, int(INT_MIN, INT_MAX);
    /// Serve events every this many bytes while loading.
    loading_process_events_interval_bytes: u64 = 2 * MB,
        "loading-process-events-interval-bytes", HIDDEN, int(1024, INT_MAX);
    // ---- replication ----
    /// Master to replicate from (`host`, `port`); set with REPLICAOF at runtime.
    replicaof: Option<(String, u16)> = None, "replicaof" | "slaveof", IMMUTABLE | MULTI_ARG,
        special(Replicaof);
    /// Password to authenticate to the master.
    masterauth: Option<Vec<u8>> = None, "masterauth", SENSITIVE, secret;
    /// ACL user to authenticate to the master as.
    masteruser: Option<String> = None, "masteruser", SENSITIVE, opt_string;
    /// A replica answers queries while out of sync.
    replica_serve_stale_data: bool = true, "replica-serve-stale-data" | "slave-serve-stale-data",
        MUTABLE, bool;
    /// Replicas refuse writes.
    replica_read_only: bool = true, "replica-read-only" | "slave-read-only", MUTABLE, bool;
    /// Send the RDB to replicas over the socket.
    repl_diskless_sync: bool = true, "repl-diskless-sync", MUTABLE, bool;
    /// Seconds to wait for more replicas before a diskless transfer.
    repl_diskless_sync_delay: u32 = 5, "repl-diskless-sync-delay", MUTABLE, int(0, INT_MAX);
    /// Start a diskless transfer early once this many replicas wait (0: no limit).
    repl_diskless_sync_max_replicas: u32 = 0, "repl-diskless-sync-max-replicas", MUTABLE,
        int(0, INT_MAX);
    /// How a replica loads the RDB it receives.
    repl_diskless_load: ReplDisklessLoad = ReplDisklessLoad::Disabled, "repl-diskless-load",
        DENY_LOADING, enumeration;
    /// Seconds between replica pings.
    repl_ping_replica_period: u32 = 10, "repl-ping-replica-period" | "repl-ping-slave-period",
        MUTABLE, int(1, INT_MAX);
    /// Replication timeout, seconds.
    repl_timeout: u32 = 60, "repl-timeout", MUTABLE, int(1, INT_MAX);
    /// Disable TCP_NODELAY on replica links.
    repl_disable_tcp_nodelay: bool = false, "repl-disable-tcp-nodelay", MUTABLE, bool;
    /// Replication backlog size, bytes.
    repl_backlog_size: u64 = MB, "repl-backlog-size", MUTABLE, mem(1, LONG_MAX);
    /// Seconds to keep the backlog with no replicas (0: forever).
    repl_backlog_ttl: u64 = 3600, "repl-backlog-ttl", MUTABLE, int(0, LONG_MAX);
    /// Replica priority for failover (0: never promoted).
    replica_priority: u32 = 100, "replica-priority" | "slave-priority", MUTABLE, int(0, INT_MAX);
    /// Show this replica to Sentinel.
    replica_announced: bool = true, "replica-announced", MUTABLE, bool;
    /// Refuse writes with fewer good replicas than this.
    min_replicas_to_write: u32 = 0, "min-replicas-to-write" | "min-slaves-to-write", MUTABLE,
        int(0, INT_MAX);
    /// Lag (seconds) under which a replica counts as good.
    min_replicas_max_lag: u32 = 10, "min-replicas-max-lag" | "min-slaves-max-lag", MUTABLE,
        int(0, INT_MAX);
    /// IP this replica announces to its master.
    replica_announce_ip: Option<String> = None, "replica-announce-ip" | "slave-announce-ip",
        MUTABLE, opt_string;
    /// Port this replica announces to its master.
    replica_announce_port: u16 = 0, "replica-announce-port" | "slave-announce-port", MUTABLE,
        int(0, 65535);
    /// Flush asynchronously on full resync.
    replica_lazy_flush: bool = false, "replica-lazy-flush" | "slave-lazy-flush", MUTABLE, bool;
    /// Replicas do not evict on their own.
    replica_ignore_maxmemory: bool = true, "replica-ignore-maxmemory" | "slave-ignore-maxmemory",
        MUTABLE, bool;
    /// Replicas keep going after a disk write error.
    replica_ignore_disk_write_errors: bool = false, "replica-ignore-disk-write-errors", MUTABLE,
        bool;
    /// What to do when a replicated command fails.
    propagation_error_behavior: PropagationErrorBehavior = PropagationErrorBehavior::Ignore,
        "propagation-error-behavior", MUTABLE, enumeration;
    // ---- security ----
    /// Password of the default user.
    requirepass: Option<Vec<u8>> = None, "requirepass", SENSITIVE, secret;
    /// External ACL file.
    aclfile: String = String::new(), "aclfile", IMMUTABLE, string;
    /// Length of the ACL LOG.
    acllog_max_len: u64 = 128, "acllog-max-len", MUTABLE, int(0, LONG_MAX);
    /// Channel permissions of new users.
    acl_pubsub_default: AclPubsubDefault = AclPubsubDefault::Resetchannels,
        "acl-pubsub-default", MUTABLE, enumeration;
    // ---- memory ----
    /// Memory limit in bytes (0: none).
    maxmemory: u64 = 0, "maxmemory", MUTABLE, mem(0, ULLONG_MAX);
    /// Eviction policy at the limit.
    maxmemory_policy: MaxmemoryPolicy = MaxmemoryPolicy::Noeviction, "maxmemory-policy",
        MUTABLE, enumeration;
    /// Keys sampled per eviction.
    maxmemory_samples: u32 = 5, "maxmemory-samples", MUTABLE, int(1, INT_MAX);
    /// Eviction effort (0..100).
    maxmemory_eviction_tenacity: u32 = 10, "maxmemory-eviction-tenacity", MUTABLE, int(0, 100);
    /// Client memory limit: bytes, or (negative) a percentage of maxmemory; 0 = none.
    maxmemory_clients: i64 = 0, "maxmemory-clients", MUTABLE, mem_pct(-100, i64::MAX);
    /// LFU counter logarithm factor.
    lfu_log_factor: u32 = 10, "lfu-log-factor", MUTABLE, int(0, INT_MAX);
    /// LFU counter decay, minutes.
    lfu_decay_time: u32 = 1, "lfu-decay-time", MUTABLE, int(0, INT_MAX);
    /// Free evicted values in the background.
    lazyfree_lazy_eviction: bool = false, "lazyfree-lazy-eviction", MUTABLE, bool;
    /// Free expired values in the background.
    lazyfree_lazy_expire: bool = false, "lazyfree-lazy-expire", MUTABLE, bool;
    /// Free values deleted by the server (RENAME, ...) in the background.
    lazyfree_lazy_server_del: bool = false, "lazyfree-lazy-server-del", MUTABLE, bool;
    /// DEL behaves like UNLINK.
    lazyfree_lazy_user_del: bool = false, "lazyfree-lazy-user-del", MUTABLE, bool;
    /// FLUSHALL/FLUSHDB default to ASYNC.
    lazyfree_lazy_user_flush: bool = false, "lazyfree-lazy-user-flush", MUTABLE, bool;
    /// Active expiry effort (1..10).
    active_expire_effort: u32 = 1, "active-expire-effort", MUTABLE, int(1, 10);
    /// Incremental rehashing in the background.
    activerehashing: bool = true, "activerehashing", MUTABLE, bool;
    /// Active defragmentation (not supported by Larder: `yes` is refused, as by a Redis built
    /// without it).
    activedefrag: bool = false, "activedefrag", MUTABLE, bool(check_activedefrag);
    /// Defrag below this much fragmentation waste is skipped.
    active_defrag_ignore_bytes: usize = (100 * MB) as usize, "active-defrag-ignore-bytes",
        MUTABLE, mem(1, LONG_MAX);
    /// Fragmentation percentage at which defrag starts.
    active_defrag_threshold_lower: u32 = 10, "active-defrag-threshold-lower", MUTABLE, int(0, 1000);
    /// Fragmentation percentage at which defrag works hardest.
    active_defrag_threshold_upper: u32 = 100, "active-defrag-threshold-upper", MUTABLE,
        int(0, 1000);
    /// Minimal defrag CPU percentage.
    active_defrag_cycle_min: u32 = 1, "active-defrag-cycle-min", MUTABLE, int(1, 99);
    /// Maximal defrag CPU percentage.
    active_defrag_cycle_max: u32 = 25, "active-defrag-cycle-max", MUTABLE, int(1, 99);
    /// Fields scanned per defrag step of a big collection.
    active_defrag_max_scan_fields: u64 = 1000, "active-defrag-max-scan-fields", MUTABLE,
        int(1, LONG_MAX);
    // ---- append only file ----
    /// Log writes to the AOF.
    appendonly: bool = false, "appendonly", DENY_LOADING, bool;
    /// Base name of the AOF files.
    appendfilename: String = "appendonly.aof".into(), "appendfilename", IMMUTABLE,
        string(check_appendfilename);
    /// Directory of the AOF files (inside `dir`).
    appenddirname: String = "appendonlydir".into(), "appenddirname", IMMUTABLE,
        string(check_appenddirname);
    /// fsync policy of the AOF.
    appendfsync: Appendfsync = Appendfsync::Everysec, "appendfsync", MUTABLE, enumeration;
    /// Skip fsync while a rewrite or save runs.
    no_appendfsync_on_rewrite: bool = false, "no-appendfsync-on-rewrite", MUTABLE, bool;
    /// Rewrite when the AOF grew by this percentage (0: never).
    auto_aof_rewrite_percentage: u32 = 100, "auto-aof-rewrite-percentage", MUTABLE,
        int(0, INT_MAX);
    /// ... and is at least this big.
    auto_aof_rewrite_min_size: u64 = 64 * MB, "auto-aof-rewrite-min-size", MUTABLE,
        mem(0, LONG_MAX);
    /// Load a truncated AOF (with a warning) instead of failing.
    aof_load_truncated: bool = true, "aof-load-truncated", MUTABLE, bool;
    /// Rewritten AOFs start with an RDB preamble.
    aof_use_rdb_preamble: bool = true, "aof-use-rdb-preamble", MUTABLE, bool;
    /// Write timestamp annotations to the AOF.
    aof_timestamp_enabled: bool = false, "aof-timestamp-enabled", MUTABLE, bool;
    /// fsync incrementally during rewrites.
    aof_rewrite_incremental_fsync: bool = true, "aof-rewrite-incremental-fsync", MUTABLE, bool;
    /// Keep history AOF files (tests).
    aof_disable_auto_gc: bool = false, "aof-disable-auto-gc", HIDDEN, bool;
    // ---- scripting ----
    /// Milliseconds after which a script or function gets -BUSY replies to others.
    busy_reply_threshold: u64 = 5000, "busy-reply-threshold" | "lua-time-limit", MUTABLE,
        int(0, LONG_MAX);
    // ---- cluster ----
    /// Cluster mode.
    cluster_enabled: bool = false, "cluster-enabled", IMMUTABLE, bool;
    /// Cluster state file.
    cluster_config_file: String = "nodes.conf".into(), "cluster-config-file", IMMUTABLE, string;
    /// Milliseconds before a node is considered failing.
    cluster_node_timeout: u64 = 15000, "cluster-node-timeout", MUTABLE, int(0, LONG_MAX);
    /// Milliseconds between cluster pings (tests).
    cluster_ping_interval: u64 = 0, "cluster-ping-interval", HIDDEN, int(0, LONG_MAX);
    /// Cluster bus port (0: port + 10000).
    cluster_port: u16 = 0, "cluster-port", IMMUTABLE, int(0, 65535);
    /// Replica data-age factor for failover.
    cluster_replica_validity_factor: u32 = 10,
        "cluster-replica-validity-factor" | "cluster-slave-validity-factor", MUTABLE,
        int(0, INT_MAX);
    /// Replicas a master keeps before one migrates.
    cluster_migration_barrier: u32 = 1, "cluster-migration-barrier", MUTABLE, int(0, INT_MAX);
    /// Allow replica migration.
    cluster_allow_replica_migration: bool = true, "cluster-allow-replica-migration", MUTABLE,
        bool;
    /// Refuse queries unless every slot is covered.
    cluster_require_full_coverage: bool = true, "cluster-require-full-coverage", MUTABLE, bool;
    /// Replicas never fail over automatically.
    cluster_replica_no_failover: bool = false,
        "cluster-replica-no-failover" | "cluster-slave-no-failover", MUTABLE, bool;
    /// Serve reads while the cluster is down.
    cluster_allow_reads_when_down: bool = false, "cluster-allow-reads-when-down", MUTABLE, bool;
    /// Serve sharded pub/sub while the cluster is down.
    cluster_allow_pubsubshard_when_down: bool = true, "cluster-allow-pubsubshard-when-down",
        MUTABLE, bool;
    /// Send buffer limit of a cluster link, bytes (0: none).
    cluster_link_sendbuf_limit: u64 = 0, "cluster-link-sendbuf-limit", MUTABLE,
        mem(0, ULLONG_MAX);
    /// Hostname announced to the cluster.
    cluster_announce_hostname: Option<String> = None, "cluster-announce-hostname", MUTABLE,
        opt_string(check_hostname);
    /// Human node name announced to the cluster.
    cluster_announce_human_nodename: Option<String> = None, "cluster-announce-human-nodename",
        MUTABLE, opt_string(check_nodename);
    /// Endpoint type shown in redirects.
    cluster_preferred_endpoint_type: ClusterPreferredEndpointType =
        ClusterPreferredEndpointType::Ip, "cluster-preferred-endpoint-type", MUTABLE, enumeration;
    /// IP announced to the cluster.
    cluster_announce_ip: Option<String> = None, "cluster-announce-ip", MUTABLE, opt_string;
    /// Client port announced to the cluster.
    cluster_announce_port: u16 = 0, "cluster-announce-port", MUTABLE, int(0, 65535);
    /// Bus port announced to the cluster.
    cluster_announce_bus_port: u16 = 0, "cluster-announce-bus-port", MUTABLE, int(0, 65535);
    /// TLS port announced to the cluster.
    cluster_announce_tls_port: u16 = 0, "cluster-announce-tls-port", MUTABLE, int(0, 65535);
    // ---- monitoring ----
    /// Log commands slower than this many microseconds (-1: never, 0: all).
    slowlog_log_slower_than: i64 = 10000, "slowlog-log-slower-than", MUTABLE, int(-1, LONG_MAX);
    /// Length of the slow log.
    slowlog_max_len: u64 = 128, "slowlog-max-len", MUTABLE, int(0, LONG_MAX);
    /// Record latency events above this many milliseconds (0: off).
    latency_monitor_threshold: u64 = 0, "latency-monitor-threshold", MUTABLE, int(0, LONG_MAX);
    /// Per-command latency histograms.
    latency_tracking: bool = true, "latency-tracking", MUTABLE, bool;
    /// Percentiles INFO latencystats shows.
    latency_tracking_info_percentiles: Vec<f64> = vec![50.0, 99.0, 99.9],
        "latency-tracking-info-percentiles", MULTI_ARG, special(LatencyTrackingInfoPercentiles);
    /// Keyspace notification classes, as given (validated against `KEg$lshzxetmdnA`).
    notify_keyspace_events: String = String::new(), "notify-keyspace-events", MUTABLE,
        special(NotifyKeyspaceEvents);
    // ---- encodings and limits ----
    /// Hashes up to this many fields use the compact encoding.
    hash_max_listpack_entries: usize = 512, "hash-max-listpack-entries" | "hash-max-ziplist-entries",
        MUTABLE, int(0, LONG_MAX);
    /// ... and values up to this many bytes.
    hash_max_listpack_value: usize = 64, "hash-max-listpack-value" | "hash-max-ziplist-value",
        MUTABLE, mem(0, LONG_MAX);
    /// List node size: entries if positive, -1..-5 for 4..64 KiB.
    list_max_listpack_size: i32 = -2, "list-max-listpack-size" | "list-max-ziplist-size",
        MUTABLE, int(INT_MIN, INT_MAX);
    /// List nodes left uncompressed at each end (0: no compression).
    list_compress_depth: u32 = 0, "list-compress-depth", MUTABLE, int(0, INT_MAX);
    /// Integer sets up to this many members use the intset encoding.
    set_max_intset_entries: usize = 512, "set-max-intset-entries", MUTABLE, int(0, LONG_MAX);
    /// Sets up to this many members use the compact encoding.
    set_max_listpack_entries: usize = 128, "set-max-listpack-entries", MUTABLE, int(0, LONG_MAX);
    /// ... and members up to this many bytes.
    set_max_listpack_value: usize = 64, "set-max-listpack-value", MUTABLE, int(0, LONG_MAX);
    /// Sorted sets up to this many members use the compact encoding.
    zset_max_listpack_entries: usize = 128, "zset-max-listpack-entries" | "zset-max-ziplist-entries",
        MUTABLE, int(0, LONG_MAX);
    /// ... and members up to this many bytes.
    zset_max_listpack_value: usize = 64, "zset-max-listpack-value" | "zset-max-ziplist-value",
        MUTABLE, mem(0, LONG_MAX);
    /// HyperLogLog sparse representation limit, bytes.
    hll_sparse_max_bytes: usize = 3000, "hll-sparse-max-bytes", MUTABLE, mem(0, LONG_MAX);
    /// Stream node size limit, bytes (0: none).
    stream_node_max_bytes: usize = 4096, "stream-node-max-bytes", MUTABLE, mem(0, LONG_MAX);
    /// Stream node entry limit (0: none).
    stream_node_max_entries: u64 = 100, "stream-node-max-entries", MUTABLE, int(0, LONG_MAX);
    /// Output buffer limits per client class.
    client_output_buffer_limit: ClientOutputBufferLimits = ClientOutputBufferLimits::default(),
        "client-output-buffer-limit", MULTI_ARG, special(ClientOutputBufferLimit);
    /// Maximum query buffer of a client, bytes.
    client_query_buffer_limit: u64 = 1024 * MB, "client-query-buffer-limit", MUTABLE,
        mem(MB, LONG_MAX);
    /// Maximum bulk string length in a request, bytes.
    proto_max_bulk_len: u64 = 512 * MB, "proto-max-bulk-len", MUTABLE, mem(MB, LONG_MAX);
    /// Keys tracked for client-side caching.
    tracking_table_max_keys: usize = 1_000_000, "tracking-table-max-keys", MUTABLE,
        int(0, LONG_MAX);
}
