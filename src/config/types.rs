//! Value types of the directives that are not plain numbers, strings or booleans: the
//! enumerations (each with the names Redis accepts, in Redis's order, which decides the
//! name CONFIG GET shows when two names share a value) and the structured special values.

/// An enumeration directive: its accepted names in order, each with its code.
pub(crate) trait ConfigEnum: Copy {
    /// `(name, code)` pairs; a code may appear under several names (the first one is shown).
    const ITEMS: &'static [(&'static str, u32)];
    /// True when several names may be given at once and their codes are or-ed together.
    const MULTI: bool = false;
    /// The code of this value.
    fn code(self) -> u32;
    /// The value of a code taken from `ITEMS` (anything else gives the type's default).
    fn from_code(code: u32) -> Self;
}

/// Declares a C-like enum driven by a name table (one or more names per variant).
macro_rules! config_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $($s:literal)|+),+ $(,)? } default $def:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $(#[doc = concat!("`", $s, "`")])+ $var,)+
        }
        impl Default for $name {
            fn default() -> Self {
                $name::$def
            }
        }
        impl ConfigEnum for $name {
            const ITEMS: &'static [(&'static str, u32)] = &[$($(($s, $name::$var as u32),)+)+];
            fn code(self) -> u32 {
                self as u32
            }
            fn from_code(code: u32) -> Self {
                [$($name::$var),+].into_iter().find(|v| *v as u32 == code).unwrap_or_default()
            }
        }
        impl $name {
            /// The name CONFIG GET and INFO show for this value.
            pub fn as_str(self) -> &'static str {
                enum_name(Self::ITEMS, self.code())
            }
        }
    };
}

/// The first name that has `code`, as Redis renders an enumeration.
pub(crate) fn enum_name(items: &'static [(&'static str, u32)], code: u32) -> &'static str {
    items.iter().find(|(_, c)| *c == code).map_or("unknown", |(n, _)| n)
}

config_enum! {
    /// `loglevel`: how much the server logs.
    Loglevel { Debug = "debug", Verbose = "verbose", Notice = "notice", Warning = "warning",
        Nothing = "nothing" } default Notice
}
config_enum! {
    /// `maxmemory-policy`: which keys are evicted when `maxmemory` is reached; Redis's eight
    /// policies plus Larder's `allkeys-tinylfu`.
    MaxmemoryPolicy { VolatileLru = "volatile-lru", VolatileLfu = "volatile-lfu",
        VolatileRandom = "volatile-random", VolatileTtl = "volatile-ttl",
        AllkeysLru = "allkeys-lru", AllkeysLfu = "allkeys-lfu",
        AllkeysRandom = "allkeys-random", Noeviction = "noeviction",
        AllkeysTinylfu = "allkeys-tinylfu" } default Noeviction
}
config_enum! {
    /// `appendfsync`: when the AOF is flushed to disk.
    Appendfsync { Everysec = "everysec", Always = "always", No = "no" } default Everysec
}
config_enum! {
    /// `supervised`: the service supervisor to notify.
    Supervised { Upstart = "upstart", Systemd = "systemd", Auto = "auto", No = "no" } default No
}
config_enum! {
    /// `syslog-facility`.
    SyslogFacility { User = "user", Local0 = "local0", Local1 = "local1", Local2 = "local2",
        Local3 = "local3", Local4 = "local4", Local5 = "local5", Local6 = "local6",
        Local7 = "local7" } default Local0
}
config_enum! {
    /// `repl-diskless-load`: how a replica loads the RDB it receives.
    ReplDisklessLoad { Disabled = "disabled", OnEmptyDb = "on-empty-db", Swapdb = "swapdb" }
    default Disabled
}
config_enum! {
    /// `tls-auth-clients`.
    TlsAuthClients { No = "no", Yes = "yes", Optional = "optional" } default Yes
}
config_enum! {
    /// `oom-score-adj` (`yes` is a synonym of `relative`, and is the name shown).
    OomScoreAdj { No = "no", Relative = "yes" | "relative", Absolute = "absolute" } default No
}
config_enum! {
    /// `acl-pubsub-default`: channel permissions of new ACL users.
    AclPubsubDefault { Allchannels = "allchannels", Resetchannels = "resetchannels" }
    default Resetchannels
}
config_enum! {
    /// `sanitize-dump-payload`: deep checking of RESTORE payloads.
    SanitizeDumpPayload { No = "no", Yes = "yes", Clients = "clients" } default No
}
config_enum! {
    /// `enable-protected-configs`, `enable-debug-command`, `enable-module-command`:
    /// allowed never, always, or only from loopback connections.
    ProtectedAction { No = "no", Yes = "yes", Local = "local" } default No
}
config_enum! {
    /// `cluster-preferred-endpoint-type`.
    ClusterPreferredEndpointType { Ip = "ip", Hostname = "hostname",
        UnknownEndpoint = "unknown-endpoint" } default Ip
}
config_enum! {
    /// `propagation-error-behavior`.
    PropagationErrorBehavior { Ignore = "ignore", Panic = "panic",
        PanicOnReplicas = "panic-on-replicas" } default Ignore
}

impl ProtectedAction {
    /// Whether the action is allowed for a client, given whether it is on a local connection.
    pub fn allows(self, client_is_local: bool) -> bool {
        self == ProtectedAction::Yes || (self == ProtectedAction::Local && client_is_local)
    }
}

/// `shutdown-on-sigint` / `shutdown-on-sigterm`: SHUTDOWN flags applied on the signal
/// (all false is `default`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ShutdownFlags {
    /// Save an RDB even without save points.
    pub save: bool,
    /// Do not save, even with save points.
    pub nosave: bool,
    /// Do not wait for lagging replicas.
    pub now: bool,
    /// Ignore errors writing the RDB/AOF.
    pub force: bool,
}

impl ConfigEnum for ShutdownFlags {
    const ITEMS: &'static [(&'static str, u32)] =
        &[("default", 0), ("save", 1), ("nosave", 2), ("now", 4), ("force", 8)];
    const MULTI: bool = true;
    fn code(self) -> u32 {
        u32::from(self.save) | u32::from(self.nosave) << 1 | u32::from(self.now) << 2 | u32::from(self.force) << 3
    }
    fn from_code(code: u32) -> Self {
        ShutdownFlags { save: code & 1 != 0, nosave: code & 2 != 0, now: code & 4 != 0, force: code & 8 != 0 }
    }
}

/// Output-buffer limits of one client class (bytes; seconds; 0 means no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OutputBufferLimit {
    /// Disconnect as soon as the buffer reaches this many bytes.
    pub hard: u64,
    /// Disconnect when the buffer stays above this many bytes ...
    pub soft: u64,
    /// ... for this many seconds.
    pub soft_seconds: u64,
}

/// `client-output-buffer-limit`, per client class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientOutputBufferLimits {
    /// Normal clients (and MONITOR).
    pub normal: OutputBufferLimit,
    /// Replicas (Redis names the class `slave`; `replica` is accepted too).
    pub replica: OutputBufferLimit,
    /// Clients subscribed to at least one channel or pattern.
    pub pubsub: OutputBufferLimit,
}

impl Default for ClientOutputBufferLimits {
    fn default() -> Self {
        let mb = 1024 * 1024;
        ClientOutputBufferLimits {
            normal: OutputBufferLimit::default(),
            replica: OutputBufferLimit { hard: 256 * mb, soft: 64 * mb, soft_seconds: 60 },
            pubsub: OutputBufferLimit { hard: 32 * mb, soft: 8 * mb, soft_seconds: 60 },
        }
    }
}

impl ClientOutputBufferLimits {
    /// The classes in Redis's order, with the names CONFIG GET uses.
    pub(crate) fn classes(&self) -> [(&'static str, OutputBufferLimit); 3] {
        [("normal", self.normal), ("slave", self.replica), ("pubsub", self.pubsub)]
    }

    /// The limit of the class named `name` (case-insensitive; `master` is not settable).
    pub(crate) fn class_mut(&mut self, name: &[u8]) -> Option<&mut OutputBufferLimit> {
        let is = |s: &str| name.eq_ignore_ascii_case(s.as_bytes());
        if is("normal") {
            Some(&mut self.normal)
        } else if is("slave") || is("replica") {
            Some(&mut self.replica)
        } else if is("pubsub") {
            Some(&mut self.pubsub)
        } else {
            None
        }
    }
}

/// Keyspace-notification class letters, in the order Redis renders them.
const NOTIFY_CLASSES: &[u8] = b"g$lshzxetdn";
/// The classes `A` stands for.
const NOTIFY_ALL: &[u8] = b"g$lshzxetd";

/// Canonical form of a `notify-keyspace-events` value (`A` for all of `g$lshzxetd`, then the
/// other type classes, then `K`, `E`, `m`), or `None` if it has a letter outside
/// `KEg$lshzxetmdnA`.
pub(crate) fn canonical_notify_flags(s: &[u8]) -> Option<String> {
    let mut set = std::collections::BTreeSet::new();
    for &c in s {
        match c {
            b'A' => set.extend(NOTIFY_ALL.iter().copied()),
            b'K' | b'E' | b'm' => {
                set.insert(c);
            }
            c if NOTIFY_CLASSES.contains(&c) => {
                set.insert(c);
            }
            _ => return None,
        }
    }
    let mut out = String::new();
    if NOTIFY_ALL.iter().all(|c| set.contains(c)) {
        out.push('A');
        if set.contains(&b'n') {
            out.push('n');
        }
    } else {
        out.extend(NOTIFY_CLASSES.iter().filter(|c| set.contains(c)).map(|&c| c as char));
    }
    out.extend(b"KEm".iter().filter(|c| set.contains(c)).map(|&c| c as char));
    Some(out)
}
