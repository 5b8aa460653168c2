// Attribution as a pure stage: a run's facts and the catalog in, every
// flow's outcome and matches and every entry's verdict out. No I/O: the
// store reads the facts and writes the result (run_attribution in
// attrib.hpp does both around the same steps, a page of flows at a time).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attrib/attrib.hpp"

namespace callwall::attrib {

/// One DNS query of the run (a dns_query row).
struct DnsQueryFacts {
    std::string qname;
    bool answered = false;
    std::string rcode;  ///< "NOERROR", "NXDOMAIN", ...; "" when unanswered
    uint32_t answers = 0;
};

/// What attribution needs of a run.
struct RunFacts {
    double capture_end = 0;  ///< time of the run's last packet
    /// The flow table overflowed (flows evicted while full): rows of one
    /// 5-tuple may be one exchange split in two.
    bool table_overflowed = false;
    /// TCP and UDP flows as recorded (the client is who sent first), with their names.
    std::vector<FlowFacts> flows;
    std::vector<DnsQueryFacts> dns_queries;
};

/// One flow's attribution: what the store writes for it.
struct FlowResult {
    uint64_t flow_id = 0;
    FlowOutcome outcome;
    std::string outcome_column;  ///< outcome_column(outcome)
    struct Counted {
        Match match;
        bool counted = false;  ///< decided its entry's verdict
    };
    std::vector<Counted> matches;
    std::vector<Gap> gaps;
};

struct Result {
    RunVerdicts verdicts;  ///< outcomes_written stays 0: nothing is written
    std::vector<FlowResult> flows;  ///< in the order of RunFacts::flows
};

[[nodiscard]] Result attribute(const RunFacts& facts, const catalog::Catalog& c);

}  // namespace callwall::attrib
