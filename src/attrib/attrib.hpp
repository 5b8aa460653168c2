// Attribution and verdicts: every flow to the catalog requirements it serves,
// every requirement to observed / blocked / partial / inconclusive /
// not_exercised, with the evidence and who likely said no.
//
// Attribution reads facts (flows with their names and protocol evidence, DNS
// queries) — never packets — and does no I/O of its own: the pure functions
// below are what the tests pin down, attribute() (attrib/attribute.hpp) is
// the whole stage over facts in memory, and run_attribution() runs the same
// steps around the store's typed reads and writes (catalog_entry,
// flow_match, verdict, product_verdict and unmatched_flow rows plus each
// flow's outcome). Sources by concern: outcome.cpp (classify_flow),
// match.cpp (flow -> entries), verdict.cpp (entry verdicts), conclusion.cpp
// (product conclusions), stage.cpp (the run-level steps, attribute()),
// run.cpp (run_attribution, declared in the private attrib/run_attribution.hpp).
//
// Thresholds (DESIGN "How long is no answer"): clients retransmit a SYN after
// about 1 s, 3 s, 7 s and a STUN request after 0.5 s, 1.5 s, 3.5 s. An attempt
// is blocked only after a retransmission, or when the capture ran on for
// kNoAnswerWaitS after it without an answer; otherwise it is inconclusive.
//
// Abandoned is not blocked (DESIGN "Abandoned is not blocked", RFC 8445
// §7.2.5.3 and §8): an ICE agent stops checking the other candidate pairs
// once one is nominated, so a STUN request sent once and never repeated is
// an abandoned check. It is its own outcome, counted and shown, and never
// decides a verdict — unless no STUN exchange of the same host (the call)
// succeeded anywhere in the capture, when every pair failed and the silence
// is a block after all.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.hpp"
#include "facts/flow_facts.hpp"

namespace callwall::attrib {

/// Seconds of capture after an unanswered attempt before it counts as blocked
/// without a retransmission: a SYN's first retransmission comes at ~1 s, the
/// second at ~3 s; STUN's at 0.5 s and 1.5 s.
inline constexpr double kNoAnswerWaitS = 3.0;

/// A flow as attribution sees it (facts/flow_facts.hpp).
using FlowFacts = facts::FlowFacts;

enum class Outcome : uint8_t { Observed, Blocked, Inconclusive, Abandoned };
[[nodiscard]] std::string_view to_string(Outcome o) noexcept;

struct FlowOutcome {
    Outcome outcome = Outcome::Inconclusive;
    std::string reason;  ///< blocked: no-answer, reset, icmp-T-C, stun-timeout; inconclusive: why
    std::string origin;  ///< who likely said no, with the reason
    std::string evidence;  ///< the packet-level evidence in words
    /// Blocked by the destination itself (its ICMP port unreachable, or a
    /// RST with its TTL): the packet got there, nothing listens on the port.
    bool by_destination = false;
};

/// What the rest of the run says about one flow (facts of other flows).
/// The defaults are what a flow's own facts allow: nothing that could turn
/// silence into "blocked".
struct FlowContext {
    /// Some STUN exchange of the flow's inside host succeeded in the run (a
    /// pair of the same call got through). When false, an abandoned check is
    /// one of a call whose every pair failed: blocked.
    bool host_pair_succeeded = true;
    /// Another row of the same 5-tuple carries packets of the direction this
    /// one lacks: flow-table eviction split the exchange, so "no answer" is
    /// unknowable from this row.
    bool split_by_eviction = false;
    /// What answered the flow was not the server it was sent to: a probe's
    /// answers lacked the reflector's token (a transparent proxy or a
    /// middlebox answered for it). The path is not shown open: inconclusive.
    bool intercepted = false;
    /// The client's ClientHello (a probe's, carrying the vendor's name) was
    /// answered by a reset and nothing else: something on the path cut TLS
    /// for that name (an SNI filter). The handshake's answer is no pass.
    bool tls_cut = false;
    /// The catalog entries a probe sent this flow for (empty: not a probe's
    /// flow, or not known). A match to any other entry is listed but not
    /// counted: through one address (a reflector, a shared server) a flow
    /// carries every name probed there, and would otherwise serve entries it
    /// never exercised. Such a flow to a tunnel's port (VXLAN, Geneve,
    /// GTP-U) is the probe's own request, not a tunnel's one-way outer leg:
    /// it is judged by its answer like any other.
    std::set<std::string> sent_for;
    /// A probe sent to the vendor's own server (no reflector) on a port it
    /// chose from the entry's range: the server's own refusal shows the
    /// firewall passed the packet and nothing listens there, so it is no
    /// block (inconclusive, kRefusedReason). A real client connects only
    /// where its vendor told it to: there a refusal stays blocked.
    bool refusal_is_no_block = false;
    /// Such a probe's STUN request to a port where the vendor's server is not
    /// known to answer STUN (probe::Probe::answer_expected false): silence
    /// proves nothing (inconclusive, kUnansweredReason).
    bool silence_is_no_block = false;
    /// The capture holds one direction only: this many TCP/UDP flows, and
    /// not one packet from any of their servers (no answer, no ICMP error;
    /// 0: the capture shows answers). A silence there is the capture's, so
    /// what would be blocked is inconclusive (kOneDirectionReason), unless a
    /// probe sent the flow (sent_for: the probe captures both directions).
    uint64_t one_direction_flows = 0;
    /// What a probe's own socket received from the server (with the
    /// reflector's token when a key was given), e.g. "STUN success, reflector
    /// token valid"; empty: nothing, or not a probe's flow. The socket's
    /// receipt proves the path passed both ways: where the capture lacks the
    /// answer (a loaded machine drops packets it cannot read in time), the
    /// capture's silence is its own, and the flow is observed.
    std::string answered_at_sender;
};

/// The reason of an inconclusive flow whose answers were intercepted.
inline constexpr std::string_view kInterceptedReason = "intercepted";
/// The reason of an inconclusive probe flow the destination itself refused.
inline constexpr std::string_view kRefusedReason = "refused-by-destination";
/// The reason of an inconclusive probe flow nobody answered, sent where the
/// vendor's server need not answer STUN.
inline constexpr std::string_view kUnansweredReason = "no-stun-expected";
/// The reason of an inconclusive flow of a capture that holds one direction
/// only (FlowContext::one_direction_flows).
inline constexpr std::string_view kOneDirectionReason = "one-direction";
/// The run's note for such a capture: "this capture holds one direction
/// only: N flows, no packet from any server".
[[nodiscard]] std::string one_direction_note(uint64_t flows);
/// Which of a capture's interfaces hold one direction only. A pcapng file
/// may hold several (a tap's two halves, a router's two sides); each is
/// judged on its own: an interface holds one direction only when TCP/UDP
/// flows were seen on it and not one of them shows the far side
/// (shows_far_side). A tap's halves, one direction each, show both sides
/// together: their flows were seen on both. A flow's silence is the
/// capture's when every interface it was seen on holds one direction only.
class OneDirection {
public:
    /// `flows` TCP/UDP flows seen on `interfaces` (FlowFacts::interfaces; 0,
    /// not known, is read as the first interface) that show the far side or not.
    void add(uint32_t interfaces, bool far_side, uint64_t flows = 1);
    /// The interfaces that hold one direction only, one bit each.
    [[nodiscard]] uint32_t one_sided() const noexcept { return seen_ & ~far_side_; }
    /// FlowContext::one_direction_flows of a flow seen on `interfaces`: the
    /// flows of its interfaces when every one holds one direction only, else 0.
    [[nodiscard]] uint64_t flows_for(uint32_t interfaces) const noexcept;
    /// The flows seen on the interfaces that hold one direction only (0: none does).
    [[nodiscard]] uint64_t flows() const noexcept { return flows_on(one_sided()); }
    /// What the run's notes say, one line each (no newline): for a capture
    /// of one interface, or whose every interface holds one direction only,
    /// one_direction_note; else a line per interface that does.
    [[nodiscard]] std::vector<std::string> notes() const;

private:
    [[nodiscard]] uint64_t flows_on(uint32_t interfaces) const noexcept;
    /// TCP/UDP flows by the interfaces they were seen on (few: one per
    /// combination the capture holds).
    std::vector<std::pair<uint32_t, uint64_t>> by_interfaces_;
    uint32_t seen_ = 0, far_side_ = 0;
};

/// Whether a flow row shows the far side's traffic: a packet from its
/// server, an ICMP error quoting it, or its initiator's own answers (a
/// capture of the answers alone, flow::kClientAnswered). A run where no
/// TCP/UDP flow does holds one direction only.
[[nodiscard]] bool shows_far_side(uint64_t packets_s2c, uint16_t icmp_errors, uint8_t roles) noexcept;

/// Sets what only the command knows about a flow (a probe's intercepted
/// answers) into its context before it is classified.
using FlowContextHook = std::function<void(const FlowFacts&, FlowContext&)>;
/// Tells the command each flow's outcome as attribution decided it (a
/// probe's lines come from the same judgement as its verdicts).
using FlowOutcomeHook = std::function<void(const FlowFacts&, const FlowOutcome&)>;

/// Decides whether one flow got through. `capture_end` is the time of the
/// run's last packet; `server_ttls` are TTLs seen from the same server address
/// on other flows (for forged-RST detection).
[[nodiscard]] FlowOutcome classify_flow(const FlowFacts& f, double capture_end, const std::set<int>& server_ttls = {},
                                        const FlowContext& ctx = {});

/// True for addresses whose traffic expects no answer from the address
/// itself: IPv4 multicast (224.0.0.0/4), the limited broadcast
/// 255.255.255.255, IPv6 multicast (ff00::/8). Text in its usual notation.
[[nodiscard]] bool is_multicast_or_broadcast(std::string_view ip) noexcept;

/// Whether classify_flow needs the TTLs of the server's answers on other
/// flows: a TCP attempt answered only by a RST (whose TTL tells a forged
/// reset), or a name-server query nobody answered (a resolver that answers
/// other queries chose not to answer this one).
[[nodiscard]] bool needs_server_ttls(const FlowFacts& f) noexcept;

/// True when IPv4 `to` is the broadcast address of `from`'s network: its
/// last octet and any further trailing bits all ones (a /24 down to a /8),
/// and `from` in the same network. A /25 or longer is told only by the link
/// layer (FlowFacts::link_broadcast).
[[nodiscard]] bool is_directed_broadcast(std::string_view to, std::string_view from) noexcept;

/// UDP ports of tunnels whose outer flows are one-way by design (VXLAN,
/// VXLAN-GPE, Geneve, GTP-U): never "no answer" flows, unless a probe sent
/// them (FlowContext::sent_for).
[[nodiscard]] bool is_tunnel_port(uint16_t port) noexcept;

/// True for addresses that are inside a site by their range: RFC 1918,
/// shared address space (RFC 6598), link-local, loopback, IPv6 ULA
/// (fc00::/7) and link-local (fe80::/10).
[[nodiscard]] bool is_inside_address(std::string_view ip) noexcept;

/// Orients a peer-to-peer leg by what the inside host does: a UDP flow that
/// an outside address opened towards an inside host,
/// where the inside host sent STUN requests of its own (its ICE agent
/// checking the pair), is seen from the inside host: it becomes the client,
/// counters and names follow (a name the inside host had resolved for the
/// far end names the far end). Where the addresses cannot tell the inside
/// host (both ends private, as a far end's relay in the same private space,
/// or both public), the end nearer the capture point by the hops its
/// packets crossed (their TTLs) is the inside host; where the TTLs cannot
/// tell, the side whose own requests all went unanswered while the other
/// side's were answered is: its way out is the one in question (see
/// unanswered_side_faces_us). Returns whether the flow was turned.
bool orient_by_inside_host(FlowFacts& f);
/// Whether orient_by_inside_host would turn the flow.
[[nodiscard]] bool faces_inside_host(const FlowFacts& f) noexcept;

/// The flow's initiator (as the flow table guessed it) only answered: its
/// decoded messages were DNS responses or STUN responses, and the other
/// side answered nothing (FlowFacts::roles). The capture holds the answers
/// without their questions: a STUN server's success responses to an inside
/// host, a resolver's or a responder's unicast mDNS/LLMNR answers.
[[nodiscard]] bool holds_only_answers(const FlowFacts& f) noexcept;
/// Orients such a flow by what its protocol says: the side that was
/// answered becomes the client. Returns whether the flow was turned.
bool orient_by_protocol(FlowFacts& f);
/// Whether orient_flow would turn the flow.
[[nodiscard]] bool needs_orienting(const FlowFacts& f) noexcept;
/// Both orientations, by protocol first, then by the inside host: what
/// attribution does to every flow before classifying it.
bool orient_flow(FlowFacts& f);

/// The flow row's outcome column for an outcome: "observed", "inconclusive",
/// or "blocked:<reason>".
[[nodiscard]] std::string outcome_column(const FlowOutcome& o);

/// Address: the flow's remote address lies in an entry's `addresses`
/// (catalog schema 2): stronger than a port alone, weaker than a name.
enum class Evidence : uint8_t { Sni, Dns, TurnPeer, Protocol, PortOnly, Proxy, Address };
[[nodiscard]] std::string_view to_string(Evidence e) noexcept;
/// Evidence kinds that can decide a verdict (port-only cannot).
[[nodiscard]] constexpr bool decisive(Evidence e) noexcept { return e != Evidence::PortOnly; }

struct Match {
    uint32_t entry = 0;  ///< index into Catalog::entries()
    Evidence evidence = Evidence::PortOnly;
    double confidence = 0;
    std::string name;  ///< the name that matched ("" for protocol/port-only)
    /// The name matched only the entry's shared destinations (general web
    /// use, catalog `shared`): it counts only while the vendor is active by
    /// its own names.
    bool shared = false;
};

/// Which catalog entries one flow serves. `active_vendors` are the vendor
/// indices whose own names appear in this capture (flows or DNS queries):
/// destination-ANY entries, and entries matched without a name, are only
/// considered for those vendors and never by port alone.
/// A flow named by an active vendor's names (SNI, DNS, proxy target) on a
/// transport and port that none of that vendor's named entries list serves
/// the vendor's destination-ANY entries that list it (QUIC to
/// meet.google.com on UDP 443: the page opens UDP 443 to any address), with
/// its name as the evidence.
/// Tie-break: one flow may serve several entries (two editions, two products
/// sharing ports); all are returned, the strongest evidence per entry only
/// (a vendor's own name before a shared one of the same strength).
[[nodiscard]] std::vector<Match> match_flow(const FlowFacts& f, const catalog::Catalog& c,
                                            const std::set<uint16_t>& active_vendors);

/// The names that count for matching: the flow's SNI alone when it has one
/// (an SNI names its own flow), else the host it asked its proxy for, else
/// all its names.
[[nodiscard]] std::vector<FlowFacts::Name> effective_names(const FlowFacts& f);

/// A vendor whose name the flow carries, but no entry matched (catalog gap),
/// with the first of the flow's names that is that vendor's (not a CNAME
/// target or another vendor's name the same address answered for).
struct Gap {
    uint16_t vendor = 0;
    std::string name;
};
[[nodiscard]] std::vector<Gap> gap_vendors(const FlowFacts& f, const catalog::Catalog& c,
                                           const std::vector<Match>& matches);

enum class Verdict : uint8_t { Observed, Blocked, Partial, Inconclusive, NotExercised };
[[nodiscard]] std::string_view to_string(Verdict v) noexcept;

/// One matched flow's contribution to an entry.
struct EntryFlow {
    uint64_t flow_id = 0;
    uint16_t port = 0;
    FlowOutcome outcome;
};

struct EntryVerdict {
    Verdict verdict = Verdict::NotExercised;
    std::vector<std::string> reasons;  ///< distinct blocked reasons (and "dns-failure")
    uint32_t flows_observed = 0, flows_blocked = 0, flows_inconclusive = 0;
    uint32_t flows_abandoned = 0;  ///< ICE checks sent once and dropped by their agent: shown, never decisive
    /// Ports with an observed flow; ports with blocked flows and none observed
    /// (a port is never in both: a port where something got through is not blocked).
    std::set<uint16_t> ports_observed, ports_blocked;
    std::vector<uint64_t> evidence_flows;  ///< the flows behind the verdict (blocked ones first)
    std::string origin;  ///< who likely said no (first blocked flow's)
    std::string why;  ///< one line for the report
};

/// Adds what only the command knows about an entry's verdict before it is
/// written (how much of a port range a probe measured).
using EntryVerdictHook = std::function<void(const catalog::Entry&, EntryVerdict&)>;

/// Evidence flow ids kept per outcome and entry (the report shows a few; the
/// counts stay exact). Keeps an entry's memory bounded on huge captures.
inline constexpr size_t kMaxEvidenceFlows = 100;

/// The matched flows of one entry, folded in one at a time (bounded memory).
struct EntryAccumulator {
    uint32_t observed = 0, blocked = 0, inconclusive = 0, abandoned = 0;
    uint32_t intercepted = 0;  ///< of the inconclusive: answered by a middlebox (kInterceptedReason)
    uint32_t refused = 0;  ///< of the inconclusive: a probe the destination itself refused (kRefusedReason)
    uint32_t unanswered = 0;  ///< of the inconclusive: a probe's silence that proves nothing (kUnansweredReason)
    uint32_t one_way = 0;  ///< of the inconclusive: silent in a capture of one direction (kOneDirectionReason)
    std::set<uint16_t> ports_observed, ports_blocked, ports_intercepted, ports_refused, ports_unanswered, ports_one_way;
    std::set<std::string> reasons;
    std::string origin, first_blocked_evidence;
    std::vector<uint64_t> blocked_ids, observed_ids, inconclusive_ids, abandoned_ids;

    void add(const EntryFlow& ef);
    [[nodiscard]] EntryVerdict decide(uint32_t dns_failures, const std::string& dns_failure_detail) const;
};

/// Combines the matched flows of one entry (and DNS failures for its names)
/// into its verdict. Per port: a port with an observed flow got through; a
/// port with only blocked flows was blocked. Partial when both kinds of port exist.
[[nodiscard]] EntryVerdict decide_entry(const std::vector<EntryFlow>& flows, uint32_t dns_failures,
                                        const std::string& dns_failure_detail);

/// Per vendor product: ready / works, degraded / broken / not exercised.
struct ProductConclusion {
    std::string vendor, product, edition;
    std::string conclusion;  ///< "ready", "works, degraded", "broken", "not exercised", "cannot be allow-listed"
    std::string detail;
};

struct RunVerdicts {
    std::vector<EntryVerdict> entries;  ///< parallel to Catalog::entries()
    std::vector<ProductConclusion> products;
    std::set<uint16_t> active_vendors;
    /// Vendors in use by a flow counted by their published addresses. They
    /// join active_vendors for the products' conclusions only once every flow
    /// is judged: what one flow matches (destination-ANY entries, third-party
    /// names, gaps) rests on names alone, so it does not depend on the order
    /// the flows are judged in (a live run's refreshes judge them in another).
    std::set<uint16_t> address_vendors;
    uint64_t flows = 0, matched_flows = 0, vendor_gap_flows = 0, other_flows = 0;
    /// Flow rows whose outcome column changed and was rewritten. A live run is
    /// attributed again and again; flows whose outcome stands are not rewritten.
    uint64_t outcomes_written = 0;
    /// The capture's interfaces that hold one direction only (FlowContext::one_direction_flows).
    OneDirection one_direction;
};

[[nodiscard]] std::vector<ProductConclusion> conclude_products(const catalog::Catalog& c,
                                                               const std::vector<EntryVerdict>& v,
                                                               const std::set<uint16_t>& active_vendors);

}  // namespace callwall::attrib
