// Judging a run's flows: each flow oriented, classified (its outcome) and
// matched against the catalog (attrib/stage.hpp), on one thread or, for the
// flows a run kept in memory, two pages at a time side by side.
//
// Judging a flow reads only the catalog, the run's context and the flow
// (with the TTLs the kept flows give, read-only once built); what a flow
// counts for each entry is handed back (stage::Contribution) and folded
// into the entries' accumulators afterwards, page after page in flow order,
// with the kept detail and the rows to write. So a run judged two pages at a
// time leaves the same accumulators, detail and rows as one judged flow by
// flow (KeptFlows.SidePagesLeaveWhatOneThreadLeaves checks this on every
// committed capture).
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "attrib/attrib.hpp"
#include "attrib/stage.hpp"

namespace callwall::attrib {

class KeptFlows;

/// What the rest of the run says of each flow, read before the flows.
struct RunContext {
    double capture_end = 0;
    /// Hosts with a STUN request of their own that was answered: a pair of
    /// their call got through, so their single unanswered checks elsewhere
    /// were abandoned.
    std::set<std::string> stun_succeeded;
    std::set<uint64_t> split;  ///< rows of a 5-tuple split by eviction
    stage::DnsFailures dns_failed;
    OneDirection one_direction;  ///< which interfaces hold one direction only
};

/// Judges one flow. `server_ttls` gives the TTLs seen from a server on the
/// run's other flows, for the flows whose outcome needs them.
struct FlowJudge {
    const catalog::Catalog& c;
    const RunContext& x;
    const FlowContextHook& hook;
    std::function<const std::set<int>&(const std::string& server_ip)> server_ttls;

    /// `f` oriented in place; what it counts goes to `per_entry` or `counted`
    /// (stage::attribute_flow), its counts to `out`.
    FlowResult operator()(FlowFacts& f, std::vector<EntryAccumulator>* per_entry,
                          std::vector<stage::Contribution>* counted, RunVerdicts& out) const;
};

/// A page of flows judged, waiting to be folded in.
struct JudgedPage {
    std::vector<FlowFacts> flows;  ///< as read, then oriented
    std::vector<FlowFacts> as_read;  ///< as read (only when the detail is kept)
    std::vector<FlowResult> results;
    std::vector<std::vector<stage::Contribution>> counted;
    /// The page's flow counts (matched, gaps, others, vendors by address);
    /// holds the run's active vendors, which judging reads.
    RunVerdicts counts;

    void judge(const FlowJudge& judge, bool keep_as_read);
};

/// A thread that judges one page at a time beside the caller's.
class SideJudge {
public:
    /// Starts the thread; throws std::system_error when it cannot.
    SideJudge(const FlowJudge& judge, bool keep_as_read);
    ~SideJudge();  ///< waits for the page in hand, then stops the thread
    SideJudge(const SideJudge&) = delete;
    SideJudge& operator=(const SideJudge&) = delete;
    /// Hands `page` over to be judged; it is not touched until wait() returns.
    void start(JudgedPage& page);
    /// Until the page handed over is judged; rethrows what judging threw.
    void wait();

private:
    void run();

    const FlowJudge& judge_;
    const bool keep_as_read_;
    std::mutex mu_;
    std::condition_variable cv_;
    JudgedPage* page_ = nullptr;  ///< handed over, not yet judged (under mu_)
    bool stop_ = false;  ///< under mu_
    std::exception_ptr error_;  ///< what judging threw (under mu_)
    std::thread thread_;
};

}  // namespace callwall::attrib
