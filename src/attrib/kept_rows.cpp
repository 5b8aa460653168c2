// A run's DNS names and flow interfaces kept as its rows are handed over.
// See attrib/kept_rows.hpp.
#include "attrib/kept_rows.hpp"

namespace callwall::attrib {

KeptRows::KeptRows() = default;
KeptRows::~KeptRows() = default;

void KeptRows::keep_dns_names(int64_t run_id, size_t max_names) {
    names_ = std::make_unique<store::DnsNames>();
    names_run_ = run_id;
    names_max_ = max_names;
}

void KeptRows::for_each_dns_name(int64_t run_id, const std::function<void(const store::DnsNameCount&)>& fn) const {
    if (dns_names_kept(run_id)) names_->for_each(fn);
}

void KeptRows::flow_row(int64_t run_id, const facts::FlowRecord& row) {
    if (run_id != interfaces_run_.load(std::memory_order_relaxed)) {
        interfaces_.store(0, std::memory_order_relaxed);
        interfaces_run_.store(run_id, std::memory_order_release);
    }
    interfaces_.fetch_or(row.interfaces != 0 ? row.interfaces : 1, std::memory_order_release);
}

void KeptRows::dns_question(int64_t run_id, const records::DnsQuery& q) {
    if (!names_ || run_id != names_run_) return;
    names_->add(run_id, q.qname, q.ts, q.answered != 0, q.rcode.value_or(std::string_view()),
                static_cast<uint32_t>(q.answers));
    if (names_->size() > names_max_) names_.reset();  // attribution reads dns_name
}

void KeptRows::rows_unseen(bool flows, bool dns_questions) noexcept {
    if (dns_questions) names_.reset();  // counted elsewhere: attribution reads dns_name
    if (flows) interfaces_known_.store(false, std::memory_order_release);
}

}  // namespace callwall::attrib
