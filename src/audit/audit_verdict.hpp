// How an audit's probe results become an entry's verdict and why, and a
// product's conclusion (private to src/audit): intervals folded per family
// and per address group, in the words the output and the database share.
#pragma once
#include <string>
#include <vector>

#include "audit/audit.hpp"

namespace callwall::audit::verdict {

inline bool inbound(const EntryAudit& a) { return a.entry->direction == catalog::Direction::Inbound; }

// The address standing for an entry's destinations in a family.
inline const std::string& daddr_of(const EntryAudit& a, bool v6) { return v6 ? a.daddr6 : a.daddr; }

// An interval the audit can tell: anything but an unsolicited inbound probe
// that did not arrive (the vendor's SDK may open those ports itself, and its
// answers were not tried).
inline bool told(const IntervalResult& iv) {
    return iv.server || !(iv.result.probe.inbound && iv.result.outcome != ProbeOutcome::Passed);
}

// An inbound server document's entry (Jitsi, 3CX: the ports of a server
// anyone on the internet reaches), not a client SDK's local ports.
inline bool server_doc(const EntryAudit& a) { return inbound(a) && a.entry->any_destination(); }

// The port an inbound entry's answers are tried from: the first port of the
// same product's outbound entries (same transport, same server address)
// whose request reached the server in the first probes. None: those
// requests are all stopped, and the local ports are probed unsolicited.
struct AnswerPort {
    uint16_t port = 0;  // 0: none
    std::string entry_id;  // whose port it is
    uint16_t unsolicited_from = 0;  // the server side's port for unsolicited probes
};

/// Folds the entry's intervals into its verdict and why. `ap`: the answer
/// port its inbound probes used; `v4_only_note`: say why IPv6 was not tried.
void fold(EntryAudit& a, const std::vector<RateLimit>& limits, const AnswerPort& ap = {}, bool v4_only_note = false);

/// One conclusion per product audited, from its required entries.
[[nodiscard]] std::vector<attrib::ProductConclusion> conclude(const std::vector<EntryAudit>& entries);

}  // namespace callwall::audit::verdict
