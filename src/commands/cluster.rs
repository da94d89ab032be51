//! CLUSTER, READONLY and READWRITE: Larder runs as a standalone server, so each answers as a
//! Redis started without `cluster-enabled` does. Clients probe these to learn the topology.

use larder_resp::Args;

use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{CmdError, CmdResult, Ctx};

const G: Group = Group::Cluster;
const ADM: u32 = flag::ADMIN | flag::STALE;
const A_ADM: u64 = acl::ADMIN | acl::SLOW | acl::DANGEROUS;

const fn sub(name: &'static str, arity: i32, flags: u32, acl: u64, summary: &'static str) -> CommandSpec {
    cmd(name, arity, flags, acl, Keys::None, G, "3.0.0", "O(1)", summary, disabled)
}

static SUBS: &[CommandSpec] = &[
    sub("addslots", -3, ADM, A_ADM, "Assigns hash slots to this node."),
    sub("addslotsrange", -4, ADM, A_ADM, "Assigns ranges of hash slots to this node."),
    sub("bumpepoch", 2, ADM, A_ADM, "Advances the cluster configuration epoch."),
    sub("count-failure-reports", 3, ADM, A_ADM, "Counts failure reports about a node."),
    sub("countkeysinslot", 3, flag::STALE, acl::SLOW, "Counts the keys in a hash slot."),
    sub("delslots", -3, ADM, A_ADM, "Unassigns hash slots from this node."),
    sub("delslotsrange", -4, ADM, A_ADM, "Unassigns ranges of hash slots from this node."),
    sub("failover", -2, ADM, A_ADM, "Promotes this replica to master."),
    sub("flushslots", 2, ADM, A_ADM, "Unassigns every hash slot of this node."),
    sub("forget", 3, ADM, A_ADM, "Removes a node from this node's view of the cluster."),
    sub("getkeysinslot", 4, flag::STALE, acl::SLOW, "Lists keys of a hash slot."),
    sub("help", 2, flag::LOADING | flag::STALE, acl::SLOW, "Lists the CLUSTER sub-commands."),
    sub("info", 2, flag::STALE, acl::SLOW, "Reports the cluster's state."),
    sub("keyslot", 3, flag::STALE, acl::SLOW, "Computes a key's hash slot."),
    sub("links", 2, flag::STALE, acl::SLOW, "Lists this node's cluster bus links."),
    sub("meet", -4, ADM, A_ADM, "Joins another node to the cluster."),
    sub("myid", 2, flag::STALE, acl::SLOW, "Reports this node's id."),
    sub("myshardid", 2, flag::STALE, acl::SLOW, "Reports this node's shard id."),
    sub("nodes", 2, flag::STALE, acl::SLOW, "Reports the cluster configuration as this node sees it."),
    sub("replicas", 3, ADM, A_ADM, "Lists the replicas of a master node."),
    sub("replicate", 3, ADM, A_ADM, "Makes this node a replica of another."),
    sub("reset", -2, ADM | flag::NOSCRIPT, A_ADM, "Resets this node's cluster state."),
    sub("saveconfig", 2, ADM, A_ADM, "Writes the cluster configuration to disk."),
    sub("set-config-epoch", 3, ADM, A_ADM, "Sets a new node's configuration epoch."),
    sub("setslot", -4, ADM, A_ADM, "Changes the state of a hash slot."),
    sub("shards", 2, flag::STALE, acl::SLOW, "Reports the cluster's shards."),
    sub("slaves", 3, ADM, A_ADM, "Lists the replicas of a master node (old name of REPLICAS)."),
    sub("slots", 2, flag::STALE, acl::SLOW, "Maps hash slot ranges to nodes."),
];

/// The cluster family's table entries.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        subcommands: SUBS,
        flags: flag::CONTAINER,
        ..cmd(
            "cluster",
            -2,
            0,
            acl::SLOW,
            Keys::None,
            G,
            "3.0.0",
            "Depends on subcommand.",
            "Commands of a Redis Cluster node.",
            disabled,
        )
    },
    cmd(
        "readonly",
        1,
        flag::FAST | flag::LOADING | flag::STALE,
        acl::FAST | acl::CONNECTION,
        Keys::None,
        G,
        "3.0.0",
        "O(1)",
        "Lets a cluster replica connection serve reads.",
        disabled,
    ),
    cmd(
        "readwrite",
        1,
        flag::FAST | flag::LOADING | flag::STALE,
        acl::FAST | acl::CONNECTION,
        Keys::None,
        G,
        "3.0.0",
        "O(1)",
        "Ends READONLY on a cluster replica connection.",
        disabled,
    ),
];

fn disabled(_ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR This instance has cluster support disabled"))
}
