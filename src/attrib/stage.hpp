// Private to attribution: the steps attribute() and run_attribution share,
// whichever way the facts arrive (all in memory, or page by page from the store).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "attrib/attribute.hpp"
#include "attrib/run_attribution.hpp"

namespace callwall::attrib::stage {

/// Failed DNS queries per name: count and the detail shown ("query for NAME: WHY").
using DnsFailures = std::map<std::string, std::pair<uint32_t, std::string>>;

/// Folds DNS queries into failures per name, and marks the vendors whose
/// names were asked for as active. A name resolved once has no failures.
class DnsFold {
public:
    DnsFold(const catalog::Catalog& c, std::set<uint16_t>& active_vendors) : c_(c), active_(active_vendors) {}
    /// One query; queries come in qname order (a name's, in the order asked).
    void add(std::string_view qname, bool answered, std::string_view rcode, uint32_t answers);
    /// All of one name's queries at once, as a dns_name row counts them:
    /// whether one resolved (NOERROR with records), how many failed, and
    /// the latest failure's response code ("" when it went unanswered).
    void add_name(std::string_view qname, bool resolved, uint32_t failed, std::string_view last_rcode);
    DnsFailures finish();

private:
    void end_group();
    const catalog::Catalog& c_;
    std::set<uint16_t>& active_;
    DnsFailures failed_;
    std::string name_, why_;
    bool in_group_ = false, resolved_ = false;
    uint32_t failures_ = 0;
};

/// One row of a 5-tuple that has several rows.
struct TupleRow {
    uint64_t id = 0;
    bool client_low = false;  ///< the row's client is the lower endpoint
    bool c2s = false, s2c = false;  ///< packets in that direction
};
/// Adds to `split` the rows of one 5-tuple that lack the direction another row carries.
void add_split_rows(const std::vector<TupleRow>& rows, std::set<uint64_t>& split);

/// Marks vendors active by a flow's name.
void note_flow_name(const catalog::Catalog& c, std::string_view name, std::set<uint16_t>& active_vendors);

/// One counted contribution of a flow: the entry (index) and what it adds.
using Contribution = std::pair<uint32_t, EntryFlow>;

/// Matches and gaps of one (oriented, classified) flow, folded into its
/// entries' accumulators (`per_entry`, when given) and handed back as
/// contributions (`counted`, when given: the live refresh keeps them).
/// `ctx` (may be null): what the command knows of the flow; its sent_for
/// limits which matches count.
FlowResult attribute_flow(const FlowFacts& f, const FlowOutcome& fo, const catalog::Catalog& c,
                          std::vector<EntryAccumulator>* per_entry, std::vector<Contribution>* counted,
                          RunVerdicts& out, const FlowContext* ctx = nullptr);
inline FlowResult attribute_flow(const FlowFacts& f, const FlowOutcome& fo, const catalog::Catalog& c,
                                 std::vector<EntryAccumulator>& per_entry, RunVerdicts& out,
                                 const FlowContext* ctx = nullptr) {
    return attribute_flow(f, fo, c, &per_entry, nullptr, out, ctx);
}

/// Every entry's verdict (into out.entries) and the product conclusions.
/// `dns_failed` counts for nothing when out.one_direction has flows (an
/// interface of one direction only cannot show an answer, and names are
/// not kept by interface).
void decide(const catalog::Catalog& c, const std::vector<EntryAccumulator>& per_entry, const DnsFailures& dns_failed,
            RunVerdicts& out);

}  // namespace callwall::attrib::stage
