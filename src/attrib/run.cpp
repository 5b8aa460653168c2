// run_attribution: the pure stage's steps (attrib/stage.hpp) around the
// store's typed reads and writes (store/attribution_io.hpp), a page of flows
// at a time so that memory does not grow with the run — or, for a run whose
// flows were kept as their rows were written (attrib/kept_flows.hpp), from
// memory, its rows written a page at a time (by the store's writer thread
// when there is one).
#include "attrib/kept_flows.hpp"
#include "attrib/kept_rows.hpp"
#include "attrib/result_records.hpp"
#include "attrib/run_detail.hpp"
#include "attrib/stage.hpp"
#include "attrib/attrib.hpp"
#include "attrib/run_attribution.hpp"
#include "store/attribution_io.hpp"
#include "store/dns_names.hpp"

#include <optional>
#include <set>
#include <string>
#include <unordered_set>

namespace callwall::attrib {
namespace {

// 1024 flows (about 400 KiB) reused page after page: a page of 8192 was
// 3 MiB of fresh memory, and first touches are costly page faults here.
constexpr int kPageFlows = 1024;

// What the rest of the run says about each flow, read before the flows.
struct RunContext {
    double capture_end = 0;
    /// Hosts with a STUN request of their own that was answered: a pair of
    /// their call got through, so their single unanswered checks elsewhere
    /// were abandoned. Asked once per flow: hashed, not a tree of strings.
    std::unordered_set<std::string> stun_succeeded;
    std::set<uint64_t> split;  ///< rows of a 5-tuple split by eviction
    stage::DnsFailures dns_failed;
    OneDirection one_direction;  ///< which interfaces hold one direction only
};

std::unordered_set<std::string> hash_set(const std::set<std::string>& s) {
    return std::unordered_set<std::string>(s.begin(), s.end());
}

// Everything read_context reads is in memory: the kept flows with their
// names and the run's totals, and the DNS names the store kept. Not when the
// table overflowed (split exchanges are looked for across the rows).
bool all_in_memory(const KeptRows* rows, int64_t run_id, const KeptFlows* kept) {
    return kept && kept->totals_known() && kept->evicted_full() == 0 && rows && rows->dns_names_kept(run_id);
}

// read_context's result, taken from memory (all_in_memory).
RunContext context_from_memory(const KeptRows& rows, int64_t run_id, const catalog::Catalog& c, const KeptFlows& kept,
                               RunVerdicts& out) {
    RunContext x;
    x.capture_end = kept.capture_end();
    x.stun_succeeded = hash_set(kept.stun_answered_hosts());
    kept.for_each_flow_name([&](std::string_view name) { stage::note_flow_name(c, name, out.active_vendors); });
    stage::DnsFold dns(c, out.active_vendors);
    rows.for_each_dns_name(run_id, [&](const store::DnsNameCount& n) {
        dns.add_name(n.qname, n.resolved > 0, store::clamp_u32(static_cast<int64_t>(n.failed)),
                     n.last_failure == store::kDnsNoResponse ? std::string_view() : n.last_failure);
    });
    x.dns_failed = dns.finish();
    x.one_direction = kept.one_direction();
    return x;
}

// `interfaces`: the flows' interfaces, when every row was seen handed over (KeptRows::interfaces_written).
RunContext read_context(store::AttributionIo& io, const catalog::Catalog& c, const KeptFlows* kept,
                        std::optional<uint32_t> interfaces, RunVerdicts& out) {
    RunContext x;
    int64_t evicted_full = 0;
    io.read_run(x.capture_end, evicted_full);
    x.stun_succeeded = hash_set(kept ? kept->stun_answered_hosts() : io.stun_answered_hosts());
    // Split exchanges are only looked for when the table overflowed
    // (idle-timeout splits are long silences, not answers).
    if (evicted_full > 0) {
        std::vector<stage::TupleRow> rows;
        io.for_each_shared_tuple([&](const std::vector<store::TupleRow>& stored) {
            rows.clear();
            for (const auto& r : stored) rows.push_back({r.id, r.client_low, r.c2s, r.s2c});
            stage::add_split_rows(rows, x.split);
        });
    }
    io.for_each_flow_name([&](std::string_view name) { stage::note_flow_name(c, name, out.active_vendors); });
    // What follows reads nothing on the store's connection when the flows
    // are in memory and the DNS queries read ahead: its writer thread builds
    // the reader indexes meanwhile, and the rows wait for them.
    io.build_indexes_behind();
    // One row per name (dns_name), so each name is matched against the catalog once.
    stage::DnsFold dns(c, out.active_vendors);
    io.for_each_dns_name([&](std::string_view qname, bool resolved, uint32_t failed, std::string_view last_rcode) {
        dns.add_name(qname, resolved, failed, last_rcode);
    });
    x.dns_failed = dns.finish();
    if (kept)
        x.one_direction = kept->one_direction();
    else
        io.for_each_interface_set(interfaces, [&](uint32_t set, bool far_side, uint64_t flows) {
            x.one_direction.add(set, far_side, flows);
        });
    return x;
}

// A flow's rows: its matches, its gaps, and its outcome when it changed
// (rewriting a row costs ~2 µs; most outcomes stand between passes).
void write_flow(store::AttributionIo& io, const catalog::Catalog& c, const FlowResult& r, bool outcome_changed) {
    for (const auto& m : r.matches) io.write(match_record(r.flow_id, c, m.match, m.counted));
    for (const Gap& g : r.gaps) io.write(gap_record(r.flow_id, c, g));
    if (outcome_changed) io.write_flow_outcome(r.flow_id, r.outcome_column);
}

// A flow's result waiting for its rows (the flows kept in memory).
struct Pending {
    FlowResult result;
    bool outcome_changed = false;
};

void write_flows(store::AttributionIo& io, const catalog::Catalog& c, const std::vector<Pending>& pending) {
    for (const Pending& p : pending) write_flow(io, c, p.result, p.outcome_changed);
}

}  // namespace

void write_entry(store::AttributionIo& io, const catalog::Catalog& c, const catalog::Entry& e, const EntryVerdict& v) {
    const EntryRecords records(e, c.documents()[e.document].title, v);
    io.write(records.entry());
    io.write(records.verdict());
}

void write_verdicts(store::AttributionIo& io, const catalog::Catalog& c, const std::vector<EntryVerdict>& verdicts,
                    const std::vector<ProductConclusion>& products) {
    for (uint32_t i = 0; i < verdicts.size(); ++i) write_entry(io, c, c.entries()[i], verdicts[i]);
    io.replace_products(product_records(products));
    io.write_catalog_digest(c.digest());
}

RunVerdicts run_attribution(store::Store& store, int64_t run_id, const catalog::Catalog& c,
                            const std::function<bool()>& cancelled, const FlowContextHook& hook, KeptFlows* kept,
                            const KeptRows* rows, const EntryVerdictHook& entry_hook,
                            const FlowOutcomeHook& outcome_hook, RunDetail* detail) {
    const auto check = [&] {
        if (cancelled && cancelled()) throw AttributionCancelled();
    };
    // A file run's flows kept as their rows were written need not be read
    // back. A run given a second core (the store writes behind) reads on it
    // what it still reads (the pages, or only the DNS queries) while the
    // indexes are built and the flows attributed.
    // With everything in memory nothing is read back: the store's writer
    // thread finishes the rows meanwhile, and begin_writing waits for it.
    if (kept && !kept->complete()) kept = nullptr;
    const bool in_memory = all_in_memory(rows, run_id, kept);
    std::optional<store::AttributionIo> io_holder;
    if (in_memory)
        io_holder.emplace(store, run_id, store::AttributionIo::ReadsNothing{});
    else
        io_holder.emplace(store, run_id, store.write_behind() ? kPageFlows : 0, kept != nullptr);
    store::AttributionIo& io = *io_holder;
    RunVerdicts out;
    RunContext x = in_memory ? context_from_memory(*rows, run_id, c, *kept, out)
                             : read_context(io, c, kept, rows ? rows->interfaces_written(run_id) : std::nullopt, out);
    // A probe (the command that knows its flows: `hook`) captures both
    // directions of its own sockets: its silence is never the capture's.
    if (hook) x.one_direction = OneDirection();
    out.one_direction = x.one_direction;
    check();

    // Rows read back are written as they go; kept flows' rows a page at a
    // time, by the store's writer thread when it builds the indexes (while
    // the next pages are judged; in the same order, on the same connection).
    std::vector<Pending> pending;
    const std::set<int> kNoTtls;
    std::vector<EntryAccumulator> per_entry(c.entries().size());
    std::optional<RunDetailKeeper> keeper;
    if (detail) keeper.emplace(*detail, c.entries().size());
    if (kept)
        io.begin_writing_behind();
    else
        io.begin_writing();
    std::vector<FlowFacts> flows;
    size_t kept_at = 0;
    for (uint64_t after = 0;;) {
        check();
        if (kept)
            kept->page(kept_at, kPageFlows, flows);
        else
            io.read_flow_page(after, kPageFlows, flows);
        if (flows.empty()) break;
        after = flows.back().id;
        for (auto& f : flows) {
            ++out.flows;
            if (keeper) keeper->before_orienting(f);
            orient_flow(f);
            FlowContext ctx;
            ctx.host_pair_succeeded = x.stun_succeeded.count(f.client_ip) > 0;
            ctx.split_by_eviction = x.split.count(f.id) > 0;
            ctx.one_direction_flows = x.one_direction.flows_for(f.interfaces);
            if (hook) hook(f, ctx);
            // TTLs seen from the server elsewhere: only for flows answered by a RST (forged-RST check)
            // and unanswered name-server queries (needs_server_ttls).
            const bool rst_only = needs_server_ttls(f);
            const std::set<int>& ttls = !rst_only ? kNoTtls
                                        : kept    ? kept->server_ttls(f.server_ip)
                                                  : io.server_ttls(f.server_ip);
            FlowResult r =
                stage::attribute_flow(f, classify_flow(f, x.capture_end, ttls, ctx), c, per_entry, out, &ctx);
            if (outcome_hook) outcome_hook(f, r.outcome);
            if (keeper) keeper->add(f, r, per_entry, c);
            const bool outcome_changed = r.outcome_column != f.outcome;
            if (outcome_changed) ++out.outcomes_written;
            if (!kept)
                write_flow(io, c, r, outcome_changed);
            else if (outcome_changed || !r.matches.empty() || !r.gaps.empty())
                pending.push_back({std::move(r), outcome_changed});
        }
        if (!pending.empty()) {
            io.write_behind([&c, page = std::move(pending)](store::AttributionIo& w) { write_flows(w, c, page); });
            pending.clear();
        }
    }
    check();
    if (keeper) keeper->finish();
    stage::decide(c, per_entry, x.dns_failed, out);
    if (entry_hook)
        for (uint32_t i = 0; i < out.entries.size(); ++i) entry_hook(c.entries()[i], out.entries[i]);
    // `out` stays as it is until commit_behind has waited for the job.
    io.write_behind([&](store::AttributionIo& w) { write_verdicts(w, c, out.entries, out.products); });
    io.commit_behind();
    return out;
}

}  // namespace callwall::attrib
