// Judging a run's flows, one thread or two. See attrib/judge.hpp.
#include "attrib/judge.hpp"

#include <utility>

#include "util/thread_without_signals.hpp"

namespace callwall::attrib {

FlowResult FlowJudge::operator()(FlowFacts& f, std::vector<EntryAccumulator>* per_entry,
                                 std::vector<stage::Contribution>* counted, RunVerdicts& out) const {
    static const std::set<int> kNoTtls;
    orient_flow(f);
    FlowContext ctx;
    ctx.host_pair_succeeded = x.stun_succeeded.count(f.client_ip) > 0;
    ctx.split_by_eviction = x.split.count(f.id) > 0;
    ctx.one_direction_flows = x.one_direction.flows_for(f.interfaces);
    if (hook) hook(f, ctx);
    // TTLs seen from the server elsewhere: only for flows answered by a RST
    // (forged-RST check) and unanswered name-server queries (needs_server_ttls).
    const std::set<int>& ttls = needs_server_ttls(f) ? server_ttls(f.server_ip) : kNoTtls;
    return stage::attribute_flow(f, classify_flow(f, x.capture_end, ttls, ctx), c, per_entry, counted, out, &ctx);
}

void JudgedPage::judge(const FlowJudge& judge, bool keep_as_read) {
    if (keep_as_read) as_read = flows;
    results.resize(flows.size());
    if (counted.size() < flows.size()) counted.resize(flows.size());
    for (size_t i = 0; i < flows.size(); ++i) {
        counted[i].clear();
        results[i] = judge(flows[i], nullptr, &counted[i], counts);
    }
}

SideJudge::SideJudge(const FlowJudge& judge, bool keep_as_read) : judge_(judge), keep_as_read_(keep_as_read) {
    thread_ = util::thread_without_signals("callwall-judge", [this] { run(); });
}

SideJudge::~SideJudge() {
    {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return page_ == nullptr; });
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void SideJudge::start(JudgedPage& page) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        page_ = &page;
    }
    cv_.notify_all();
}

void SideJudge::wait() {
    std::exception_ptr e;
    {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return page_ == nullptr; });
        e = std::exchange(error_, nullptr);
    }
    if (e) std::rethrow_exception(e);
}

void SideJudge::run() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
        cv_.wait(lk, [&] { return stop_ || page_ != nullptr; });
        if (stop_) return;
        JudgedPage* page = page_;
        lk.unlock();
        std::exception_ptr e;
        try {
            page->judge(judge_, keep_as_read_);
        } catch (...) {
            e = std::current_exception();
        }
        lk.lock();
        error_ = e;
        page_ = nullptr;
        cv_.notify_all();
    }
}

}  // namespace callwall::attrib
