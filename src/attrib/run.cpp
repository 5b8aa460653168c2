// run_attribution: the pure stage's steps (attrib/stage.hpp) around the
// store's typed reads and writes (store/attribution_io.hpp), a page of flows
// at a time so that memory does not grow with the run.
#include "attrib/kept_flows.hpp"
#include "attrib/stage.hpp"
#include "callwall/attrib/attrib.hpp"
#include "attrib/store_io.hpp"
#include "store/attribution_io.hpp"

namespace callwall::attrib {

RunVerdicts run_attribution(store::Store& store, int64_t run_id, const catalog::Catalog& c,
                            const std::function<bool()>& cancelled, const FlowContextHook& hook, KeptFlows* kept) {
    const auto check = [&] {
        if (cancelled && cancelled()) throw AttributionCancelled();
    };
    // 1024 flows (about 400 KiB) reused page after page: a page of 8192 was
    // 3 MiB of fresh memory, and first touches are costly page faults here.
    constexpr int kPageFlows = 1024;
    // A run given a second core (the store writes behind) reads its flow
    // pages on it, while the indexes are built and the pages attributed.
    // A file run's flows kept as their rows were written need not be read back.
    const bool in_memory = kept != nullptr && kept->complete();
    store::AttributionIo io(store, run_id, store.write_behind() ? kPageFlows : 0, in_memory);
    RunVerdicts out;
    double capture_end = 0;
    int64_t evicted_full = 0;
    io.read_run(capture_end, evicted_full);
    // Hosts with a STUN request of their own that was answered: a pair of
    // their call got through, so their single unanswered checks elsewhere
    // were abandoned.
    const std::set<std::string> stun_succeeded = in_memory ? kept->stun_answered_hosts() : io.stun_answered_hosts();
    // Split exchanges are only looked for when the table overflowed
    // (idle-timeout splits are long silences, not answers).
    std::set<uint64_t> split;
    if (evicted_full > 0) {
        std::vector<stage::TupleRow> rows;
        io.for_each_shared_tuple([&](const std::vector<store::TupleRow>& stored) {
            rows.clear();
            for (const auto& r : stored) rows.push_back({r.id, r.client_low, r.c2s, r.s2c});
            stage::add_split_rows(rows, split);
        });
    }
    // The rows come grouped by name (the dns_query_run index gives that order
    // without a sort), so each name is matched against the catalog once.
    stage::DnsFold dns(c, out.active_vendors);
    io.for_each_dns_query([&](std::string_view qname, bool answered, std::string_view rcode, int answers) {
        dns.add(qname, answered, rcode, static_cast<uint32_t>(answers));
    });
    const stage::DnsFailures dns_failed = dns.finish();
    check();
    io.for_each_flow_name([&](std::string_view name) { stage::note_flow_name(c, name, out.active_vendors); });

    const std::set<int> kNoTtls;
    std::vector<EntryAccumulator> per_entry(c.entries().size());
    io.begin_writing();
    std::vector<FlowFacts> flows;
    size_t kept_at = 0;
    for (uint64_t after = 0;;) {
        check();
        if (in_memory)
            kept->page(kept_at, kPageFlows, flows);
        else
            io.read_flow_page(after, kPageFlows, flows);
        if (flows.empty()) break;
        after = flows.back().id;
        for (auto& f : flows) {
            ++out.flows;
            orient_by_inside_host(f);
            FlowContext ctx;
            ctx.host_pair_succeeded = stun_succeeded.count(f.client_ip) > 0;
            ctx.split_by_eviction = split.count(f.id) > 0;
            if (hook) hook(f, ctx);
            // TTLs seen from the server elsewhere: only for flows answered by a RST (forged-RST check).
            const bool rst_only = f.rst_ttl >= 0 && f.synack_count == 0;
            const std::set<int>& ttls = !rst_only   ? kNoTtls
                                        : in_memory ? kept->server_ttls(f.server_ip)
                                                    : io.server_ttls(f.server_ip);
            const FlowOutcome fo = classify_flow(f, capture_end, ttls, ctx);
            const FlowResult r = stage::attribute_flow(f, fo, c, per_entry, out, &ctx);
            for (const auto& m : r.matches)
                io.write_flow_match(f.id, {c.entries()[m.match.entry].id, m.match.evidence, m.match.confidence,
                                           m.match.name, m.counted});
            for (const Gap& g : r.gaps) io.write_unmatched_flow(f.id, c.vendors()[g.vendor], g.name);
            if (r.outcome_column != f.stored_outcome) {  // rewriting a row costs ~2 µs; most stand between passes
                io.write_flow_outcome(f.id, r.outcome_column);
                ++out.outcomes_written;
            }
        }
    }
    check();
    stage::decide(c, per_entry, dns_failed, out);
    for (uint32_t i = 0; i < out.entries.size(); ++i) io.write_entry(c.entries()[i], out.entries[i]);
    io.write_products(out.products);
    io.write_catalog_digest(c.digest());
    io.commit();
    return out;
}

}  // namespace callwall::attrib
