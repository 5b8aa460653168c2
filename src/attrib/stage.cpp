// Attribution's run-level steps and the pure stage attribute(). See
// attrib/attribute.hpp and attrib/stage.hpp.
#include "attrib/stage.hpp"

#include <algorithm>
#include <optional>
#include <tuple>

namespace callwall::attrib {
namespace {

using catalog::Catalog;
using catalog::Entry;

// One matched flow's contribution to an entry, by the entry's direction, or
// none when the flow says nothing about it. An outbound entry is judged on
// the flow's own outcome at the server's port. An inbound entry (local ports
// the vendor sends to) is judged only on traffic the vendor sent to those
// local ports: a flow the vendor opened towards us (its name is the
// initiator's) or the vendor's answers to our local port. Inbound traffic a
// firewall drops never reaches an inside capture, so an inbound entry is
// observed or not exercised; an outbound attempt from a local port in the
// range that failed at its remote port is no evidence about it. "The
// vendor" is a far end the vendor's own names lead to (SNI, a DNS answer, a
// proxy target): a TURN peer relation names someone the vendor's relay
// talks to, not the vendor, and protocol evidence or a port names no one;
// traffic from such far ends to a local port in the range says nothing
// about the entry (the lab's P2P peer, whose port lay in 40000-41000).
std::optional<EntryFlow> entry_flow(const FlowFacts& f, const FlowOutcome& fo, catalog::Direction dir,
                                    bool named_initiator, Evidence evidence) {
    const FlowOutcome arrived{Outcome::Observed, "", "", "inbound packets from the vendor reached the inside"};
    const bool arrived_unrefused = f.icmp_errors == 0;
    const bool vendor_named = evidence == Evidence::Sni || evidence == Evidence::Dns || evidence == Evidence::Proxy;
    switch (dir) {
        case catalog::Direction::Outbound: return EntryFlow{f.id, f.service_port(), fo};
        case catalog::Direction::Inbound:
            if (!vendor_named) return std::nullopt;
            if (named_initiator) {
                if (f.packets_c2s > 0 && arrived_unrefused) return EntryFlow{f.id, f.server_port, arrived};
                return std::nullopt;
            }
            if (f.packets_s2c > 0) return EntryFlow{f.id, f.client_port, arrived};
            return std::nullopt;
        case catalog::Direction::Both:
            // A flow the vendor opened got through inbound whether or not we
            // answered; one we opened is judged like an outbound one.
            if (vendor_named && named_initiator && f.packets_c2s > 0 && arrived_unrefused)
                return EntryFlow{f.id, f.server_port, arrived};
            return EntryFlow{f.id, f.service_port(), fo};
    }
    return std::nullopt;
}

}  // namespace

namespace stage {

// A name that resolved once has no failures; any other query that got no
// answer or an error code is one (store::DnsNames counts alike).
void DnsFold::add(std::string_view qname, bool answered, std::string_view rcode, uint32_t answers) {
    if (!in_group_ || qname != name_) {
        end_group();
        name_.assign(qname);
        in_group_ = true;
        resolved_ = false;
        failures_ = 0;
    }
    if (answered && rcode == "NOERROR") {
        if (answers > 0) resolved_ = true;
        return;  // an empty answer (e.g. no AAAA) is not a failure
    }
    ++failures_;
    why_ = !answered ? "no DNS response" : "DNS " + std::string(rcode);  // the last one is reported
}

void DnsFold::add_name(std::string_view qname, bool resolved, uint32_t failed, std::string_view last_rcode) {
    end_group();
    name_.assign(qname);
    in_group_ = true;
    resolved_ = resolved;
    failures_ = failed;
    if (failed > 0) why_ = last_rcode.empty() ? "no DNS response" : "DNS " + std::string(last_rcode);
    end_group();
    in_group_ = false;
}

void DnsFold::end_group() {
    if (!in_group_) return;
    const catalog::VendorMatches vm = c_.vendor_for_host(name_);
    for (uint16_t v : vm.view()) active_.insert(v);
    if (!resolved_ && failures_ > 0) failed_[name_] = {failures_, "query for " + name_ + ": " + why_};
}

DnsFailures DnsFold::finish() {
    end_group();
    in_group_ = false;
    return std::move(failed_);
}

// With a full flow table, an evicted flow's answer comes back as a new flow
// of the same 5-tuple: rows lacking a direction that another row of their
// 5-tuple carries cannot say "no answer".
void add_split_rows(const std::vector<TupleRow>& rows, std::set<uint64_t>& split) {
    bool low_sends = false, high_sends = false;  // from the lower / higher endpoint, in any row
    for (const auto& r : rows) {
        (r.client_low ? low_sends : high_sends) |= r.c2s;
        (r.client_low ? high_sends : low_sends) |= r.s2c;
    }
    for (const auto& r : rows)
        if (!r.s2c && (r.client_low ? high_sends : low_sends)) split.insert(r.id);
}

void note_flow_name(const Catalog& c, std::string_view name, std::set<uint16_t>& active_vendors) {
    const catalog::VendorMatches vm = c.vendor_for_host(name);
    for (uint16_t v : vm.view()) active_vendors.insert(v);
}

FlowResult attribute_flow(const FlowFacts& f, const FlowOutcome& fo, const Catalog& c,
                          std::vector<EntryAccumulator>* per_entry, std::vector<Contribution>* counted_out,
                          RunVerdicts& out, const FlowContext* ctx) {
    FlowResult r;
    r.flow_id = f.id;
    r.outcome = fo;
    r.outcome_column = outcome_column(fo);
    const auto entries = c.entries();
    bool named_initiator = false;
    for (const auto& n : f.names) named_initiator |= n.source == "dns-initiator";
    bool counted_any = false;
    std::vector<Match> matches = match_flow(f, c, out.active_vendors);
    // A probe's flow serves the entries it was sent for, whatever names the
    // address carries: through one reflector every flow carries every name
    // probed there, which would leave a destination-ANY entry unmatched.
    if (ctx)
        for (const std::string& id : ctx->sent_for) {
            const Entry* e = c.find_entry(id);
            if (!e || e->transport != (f.transport == "udp" ? catalog::Transport::Udp : catalog::Transport::Tcp) ||
                !e->port_set.contains(f.server_port))
                continue;
            const auto idx = static_cast<uint32_t>(e - entries.data());
            if (std::none_of(matches.begin(), matches.end(), [idx](const Match& m) { return m.entry == idx; }))
                matches.push_back(Match{idx, Evidence::Protocol, 1.0, ""});
        }
    for (const auto& m : matches) {
        const Entry& e = entries[m.entry];
        const std::optional<EntryFlow> ef = entry_flow(f, fo, e.direction, named_initiator, m.evidence);
        // Third-party names (a CDN on the vendor's list) never show that the
        // vendor is in use: they count for its entry only when the vendor is
        // active by its own names.
        // A probe's flow counts only for the entries it was sent for.
        const bool sent_for = ctx == nullptr || ctx->sent_for.empty() || ctx->sent_for.count(e.id) > 0;
        // Shared names (general web use, catalog `shared`) likewise: a
        // browser's www.google.com is no Meet call.
        const bool counted = decisive(m.evidence) && ef.has_value() && sent_for &&
                             ((!e.third_party && !m.shared) || out.active_vendors.count(e.vendor_index) > 0);
        counted_any |= counted;
        // A flow counted by the vendor's published addresses shows the
        // vendor in use, as its names would: its products get a conclusion.
        if (counted && m.evidence == Evidence::Address) out.address_vendors.insert(e.vendor_index);
        if (counted && per_entry) (*per_entry)[m.entry].add(*ef);
        if (counted && counted_out) counted_out->emplace_back(m.entry, *ef);
        r.matches.push_back({m, counted});
    }
    if (counted_any) ++out.matched_flows;
    r.gaps = gap_vendors(f, c, matches);
    if (!r.gaps.empty())
        ++out.vendor_gap_flows;
    else if (!counted_any)
        ++out.other_flows;
    return r;
}

void decide(const Catalog& c, const std::vector<EntryAccumulator>& per_entry, const DnsFailures& dns_failed,
            RunVerdicts& out) {
    const auto entries = c.entries();
    out.entries.resize(entries.size());
    // In a capture of one direction only, unanswered DNS queries are the
    // capture's silence too, no name's failure.
    static const DnsFailures kNone;
    const DnsFailures& failed = out.one_direction.flows() > 0 ? kNone : dns_failed;
    // Each failed name matched once; by entry, its failures and the first
    // failed name's detail (in name order).
    std::vector<uint32_t> failures(entries.size(), 0);
    std::vector<std::string> detail(entries.size());
    catalog::HostMatches hm;
    for (const auto& [q, fd] : failed) {
        c.match_host(q, hm);
        const auto matched = hm.view();
        for (size_t k = 0; k < matched.size(); ++k) {
            const uint32_t i = matched[k];
            if (k > 0 && matched[k - 1] == i) continue;  // sorted: an entry once per name
            // A failed lookup of a shared name (a browser's own
            // accounts.google.com) blocks no vendor's entry.
            if (entries[i].shared_only(q)) continue;
            failures[i] += fd.first;
            if (detail[i].empty()) detail[i] = fd.second;
        }
    }
    for (uint32_t i = 0; i < entries.size(); ++i) out.entries[i] = per_entry[i].decide(failures[i], detail[i]);
    out.active_vendors.insert(out.address_vendors.begin(), out.address_vendors.end());
    out.products = conclude_products(c, out.entries, out.active_vendors);
}

}  // namespace stage

namespace {

// Hosts with a STUN request of their own that was answered (flows as recorded).
std::set<std::string> stun_answered_hosts(const std::vector<FlowFacts>& flows) {
    std::set<std::string> hosts;
    for (const auto& f : flows) {
        if (f.stun_answered > f.stun_answered_s2c) hosts.insert(f.client_ip);
        if (f.stun_answered_s2c > 0) hosts.insert(f.server_ip);
    }
    return hosts;
}

// Rows of one 5-tuple (transport and the endpoints as "ip port" text, the
// lower first): the tuples the store groups (AttributionIo::for_each_shared_tuple,
// which orders the two endpoints by address, then port as a number; the
// split rows do not depend on which endpoint is called the lower).
std::set<uint64_t> split_flows(const std::vector<FlowFacts>& flows) {
    std::map<std::tuple<std::string, std::string, std::string>, std::vector<stage::TupleRow>> tuples;
    for (const auto& f : flows) {
        const std::string a = f.client_ip + " " + std::to_string(f.client_port);
        const std::string b = f.server_ip + " " + std::to_string(f.server_port);
        tuples[{f.transport, std::min(a, b), std::max(a, b)}].push_back(
            stage::TupleRow{f.id, a<b, f.packets_c2s> 0, f.packets_s2c > 0});
    }
    std::set<uint64_t> split;
    for (const auto& [key, rows] : tuples)
        if (rows.size() > 1) stage::add_split_rows(rows, split);
    return split;
}

// TTLs seen from `ip` on flows that completed a handshake or answered.
std::set<int> server_ttls(const std::vector<FlowFacts>& flows, const std::string& ip) {
    std::set<int> ttls;
    for (const auto& f : flows)
        if (f.server_ip == ip && f.server_ttl_min >= 0 &&
            (f.synack_count > 0 || (f.transport == "udp" && f.packets_s2c > 0))) {
            ttls.insert(f.server_ttl_min);
            ttls.insert(f.server_ttl_max);
        }
    return ttls;
}

}  // namespace

Result attribute(const RunFacts& facts, const Catalog& c) {
    Result res;
    RunVerdicts& out = res.verdicts;
    const std::set<std::string> stun_succeeded = stun_answered_hosts(facts.flows);
    const std::set<uint64_t> split = facts.table_overflowed ? split_flows(facts.flows) : std::set<uint64_t>{};
    std::vector<const DnsQueryFacts*> queries;
    for (const auto& q : facts.dns_queries) queries.push_back(&q);
    std::stable_sort(queries.begin(), queries.end(),
                     [](const DnsQueryFacts* a, const DnsQueryFacts* b) { return a->qname < b->qname; });
    stage::DnsFold dns(c, out.active_vendors);
    for (const auto* q : queries) dns.add(q->qname, q->answered, q->rcode, q->answers);
    const stage::DnsFailures dns_failed = dns.finish();
    for (const auto& f : facts.flows)
        for (const auto& n : f.names) stage::note_flow_name(c, n.name, out.active_vendors);
    // The capture's interfaces of one direction only (OneDirection).
    for (const FlowFacts& f : facts.flows)
        if (f.tcp_or_udp()) out.one_direction.add(f.interfaces, shows_far_side(f.packets_s2c, f.icmp_errors, f.roles));

    std::vector<EntryAccumulator> per_entry(c.entries().size());
    for (const FlowFacts& stored : facts.flows) {
        ++out.flows;
        FlowFacts f = stored;
        orient_flow(f);
        FlowContext ctx;
        ctx.host_pair_succeeded = stun_succeeded.count(f.client_ip) > 0;
        ctx.split_by_eviction = split.count(f.id) > 0;
        ctx.one_direction_flows = out.one_direction.flows_for(f.interfaces);
        const FlowOutcome fo = classify_flow(
            f, facts.capture_end, needs_server_ttls(f) ? server_ttls(facts.flows, f.server_ip) : std::set<int>{}, ctx);
        res.flows.push_back(stage::attribute_flow(f, fo, c, per_entry, out));
    }
    stage::decide(c, per_entry, dns_failed, out);
    return res;
}

}  // namespace callwall::attrib
