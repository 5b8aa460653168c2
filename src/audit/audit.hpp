// `callwall audit`: a ruleset replayed requirement by requirement through the
// kernel in a sandbox (replay.hpp), folded into one verdict per catalog entry
// and written as a run of kind "audit" into the same tables as any run.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/port_forwards.hpp"
#include "audit/range_groups.hpp"
#include "audit/replay.hpp"
#include "audit/ruleset_chains.hpp"
#include "audit/ruleset_input.hpp"
#include "audit/ruleset_text.hpp"
#include "attrib/attrib.hpp"
#include "catalog/catalog.hpp"

namespace callwall::run {
class VerdictRun;
}

namespace callwall::audit {

/// The reason an audit gives a blocked requirement that the vendor publishes
/// only as address ranges (catalog schema 2): allowing names cannot serve it.
inline constexpr std::string_view kNoNamesReason = "the vendor publishes no names for this requirement";

struct AuditOptions {
    std::string ruleset_path;  ///< as the user named it ("-": standard input)
    /// The ruleset as read once (read_ruleset_input); when empty (no path
    /// nor bytes), run_audit reads ruleset_path itself.
    RulesetInput input;
    bool iptables = false;  ///< ruleset_path is an iptables-save dump, not an nftables ruleset
    /// With `iptables`: ruleset_path is ip6tables-save's dump (--ip6tables alone).
    bool ip6tables = false;
    /// ip6tables-save's dump beside iptables-save's (--iptables with
    /// --ip6tables): its path and its bytes as read (empty: none).
    std::string ip6tables_path;
    RulesetInput input6;
    /// `ipset save` output of the sets the dumps match (--ipset FILE): its
    /// path and its bytes as read (empty: none). Loaded before the dumps.
    std::string ipset_path;
    RulesetInput ipsets;
    std::vector<std::string> vendors;  ///< empty: every vendor (case-insensitive names)
    std::string inside, outside;  ///< empty: guessed from the ruleset
    std::vector<std::pair<std::string, std::string>> resolve;  ///< NAME -> IPv4 or IPv6 address
    /// --inside-net CIDR, IPv4 or IPv6 (empty: from the ruleset, else
    /// 192.168.77.0/24 and fd77:77:77:77::/64)
    std::vector<std::string> inside_nets;
    int probe_timeout_ms = 1200;
    int helper_timeout_ms = 60000;  ///< SandboxSpec::helper_timeout_ms
    std::string fallback_address;  ///< empty: unmentioned_address() of the ruleset (a fix's re-run keeps the first's)
    std::string fallback_address6;  ///< the same for IPv6 (unmentioned_address6())
    std::string patch;  ///< nft commands applied after loading (a fix under test)
    bool early = true;  ///< SandboxSpec::early
    bool fix_optional = false;  ///< the fix covers optional entries too (default: required ones only)
    /// The client's ephemeral source ports (--client-ports; Linux's default;
    /// Windows and macOS use 49152-65535).
    catalog::PortRange client_ports{32768, 60999};
};

/// One interval of an entry's ports on which the ruleset cannot differ.
struct IntervalResult {
    catalog::PortRange range;
    ProbeResult result;  ///< the probe of range.lo
    /// The client's source ports this result holds for ({0, 0}: every one
    /// of AuditResult::client_ports; the ruleset did not tell them apart here).
    catalog::PortRange client{0, 0};
    bool v6 = false;  ///< probed over IPv6
    /// Which of the entry's address groups (EntryAudit::groups, groups6 for
    /// IPv6) the probe went to; 0 when the entry has one address.
    uint16_t group = 0;
    /// An inbound server document's port (Jitsi, 3CX): the server never
    /// sends first, so a stopped packet from the internet is a block.
    bool server = false;
};

struct EntryAudit {
    const catalog::Entry* entry = nullptr;
    std::string daddr;  ///< the address standing for the entry's destinations
    std::string assumed;  ///< why that address ("" when the entry names none)
    std::string daddr6;  ///< the IPv6 address standing for them
    std::string assumed6;  ///< why that one
    /// The vendor's published ranges grouped by what the ruleset can tell
    /// apart, each group probed at its own address (daddr is the first's);
    /// empty when the entry publishes none of that family or --resolve pins it.
    std::vector<AddressGroup> groups, groups6;
    /// An inbound server document: how its ports were tried (for the why).
    std::string tried;
    std::vector<IntervalResult> intervals;  ///< IPv4's (IPv6's when IPv6 alone was audited)
    std::vector<IntervalResult> intervals6;  ///< IPv6's, when both families were audited
    attrib::EntryVerdict verdict;
};

struct AuditResult {
    ReplayOutput replay;  ///< ok, error, mode, listed ruleset
    std::string ruleset_text;  ///< the bytes audited (an iptables fix patches these)
    std::string inside, outside;
    bool interfaces_unsure = false;  ///< replay.error says why the interfaces cannot be told: a usage error
    std::string client;  ///< the client's address in the sandbox
    std::string inside_net;  ///< its network ("192.168.1.0/24")
    uint32_t inside_lo = 0;  ///< that network's first address
    std::string inside_from;  ///< where the network came from
    std::string fallback;  ///< the address standing for names nobody pinned
    /// The families audited: those the ruleset filters (ip/inet tables,
    /// iptables-save's dump: IPv4; ip6/inet tables, ip6tables-save's: IPv6)
    /// and the sandbox could carry.
    bool audited_v4 = false, audited_v6 = false;
    std::string not_audited;  ///< why a family was not audited ("" when both were)
    std::string client6, inside_net6, inside_from6;  ///< the IPv6 client, as client/inside_net/inside_from
    std::string fallback6;  ///< the IPv6 address standing for names nobody pinned
    catalog::PortRange client_ports;  ///< AuditOptions::client_ports
    /// client_ports split where the ruleset can tell the client's ports apart.
    std::vector<catalog::PortRange> client_intervals;
    std::vector<RateLimit> limits;  ///< the ruleset's rate limits (ProbeResult::limit indexes them)
    /// The ruleset's port forwards (its DNAT rules); inbound server
    /// documents are tried through them.
    std::vector<PortForward> forwards;
    std::string public_addr;  ///< the router's public address the internet sends to
    std::vector<EntryAudit> entries;
};

/// The addresses an entry's outbound probes go to in a family: each address
/// group's, else the one address standing for it (none: not audited there).
[[nodiscard]] std::vector<std::string> addresses_of(const EntryAudit& a, bool v6);

/// The client's source ports, without `avoid` (the inbound entries' local
/// ports), split where `listed` (an iptables audit: `iptables_dump`, when
/// not empty) can tell them apart (client_port_cuts).
[[nodiscard]] std::vector<catalog::PortRange> client_intervals(std::string_view listed, std::string_view iptables_dump,
                                                               catalog::PortRange client,
                                                               std::span<const catalog::PortRange> avoid = {});

/// The ruleset's bytes as the audit reads them: `opt.input` when it was
/// read already, else `opt.ruleset_path` read now (bounded in size and time).
[[nodiscard]] RulesetInput ruleset_of(const AuditOptions& opt);

/// The address standing for a destination nobody pinned: the first of a
/// list (documentation addresses 203.0.113.10, 198.51.100.10, 192.0.2.10,
/// then ordinary public ones) that no address, prefix, range or set element
/// written in the ruleset covers (a bogon list naming the documentation
/// networks, an allow list by covering prefix), nor `also_avoid`.
[[nodiscard]] std::string unmentioned_address(std::string_view ruleset_text, std::span<const V4Range> also_avoid = {});

/// The IPv6 address standing for a destination nobody pinned: the first of
/// a list (documentation addresses in 2001:db8::/32 and 3fff::/20, then
/// ordinary public ones) that no address, prefix, range or set element of
/// the ruleset covers, nor `also_avoid`.
[[nodiscard]] std::string unmentioned_address6(std::string_view ruleset_text, std::span<const V6Range> also_avoid = {});

/// The same, keeping clear of the client's IPv6 network (res.inside_net6,
/// chosen by choose_client6).
[[nodiscard]] std::string unmentioned_address6(std::string_view ruleset_text, const AuditResult& res,
                                               const SandboxSpec& spec);

/// The client's IPv6 network and address (--inside-net's IPv6 CIDR, else
/// the ruleset's IPv6 inside networks, else fd77:77:77:77::/64); false (with
/// res.replay.error) for a malformed one.
bool choose_client6(std::string_view ruleset_text, const AuditOptions& opt, AuditResult& res, SandboxSpec& spec);

/// The client's network and address for the sandbox (--inside-net, else
/// the ruleset's inside networks, else 192.168.77.0/24); false (with
/// res.replay.error) for a malformed --inside-net.
bool choose_client(std::string_view ruleset_text, const AuditOptions& opt, AuditResult& res, SandboxSpec& spec);

/// Runs the audit (forks the sandbox; needs nft and ip).
[[nodiscard]] AuditResult run_audit(const catalog::Catalog& c, const AuditOptions& opt);

/// Writes the audit into its run (opened by the command, of kind "audit"):
/// a verdict per audited entry, a conclusion per product, the run's notes
/// (`more_notes` appended: the fix's summary), and finishes it completed.
/// Returns the run's id. May throw store::StoreError.
int64_t write_audit(run::VerdictRun& run, const AuditResult& r, const AuditOptions& opt,
                    const std::string& more_notes = {});

}  // namespace callwall::audit
