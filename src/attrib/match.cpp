// Attribution: which catalog entries a flow serves. See attrib/attrib.hpp.
#include "attrib/attrib.hpp"

#include <algorithm>
#include <span>

namespace callwall::attrib {
namespace {

using catalog::Catalog;
using catalog::Entry;

// Confidence by evidence kind (documented in docs/verdicts.md): a flow's own SNI
// names it, and so (a little less surely: the proxy may rewrite it) does the
// host its client asked an explicit proxy for; a DNS answer the same client saw just before names it unless the
// address also served other names; a TURN peer relation is indirect; protocol
// evidence in a destination-ANY range, while that vendor is active by name,
// is circumstantial; a port alone is a hint that decides nothing.
constexpr double kConfidenceSni = 0.95;
constexpr double kConfidenceProxy = 0.9;
constexpr double kConfidenceDns = 0.85;
constexpr double kConfidenceDnsShared = 0.7;
constexpr double kConfidenceTurnPeer = 0.6;
constexpr double kConfidenceProtocolAny = 0.6;
// The flow's remote address is inside ranges the vendor publishes for the
// entry: the vendor's own servers, but the name (which service, which
// product on a shared range) is not seen. Below any name, above a port.
constexpr double kConfidenceAddress = 0.65;
constexpr double kConfidencePortOnly = 0.2;
// A flow named by the vendor on a port only its destination-ANY entry lists:
// the name says whose flow it is, the entry says any address on the port.
constexpr double kConfidenceNamedAny = 0.75;

}  // namespace

std::string_view to_string(Evidence e) noexcept {
    switch (e) {
        case Evidence::Sni: return "sni";
        case Evidence::Proxy: return "proxy";
        case Evidence::Dns: return "dns";
        case Evidence::TurnPeer: return "turn-peer";
        case Evidence::Protocol: return "protocol";
        case Evidence::PortOnly: return "port-only";
        case Evidence::Address: return "address";
    }
    return "?";
}

namespace {

// Which of a flow's names are its effective ones, without copying them. A
// TLS/QUIC SNI names its own flow: other names of the address (DNS answers
// for other services on a shared address) do not apply. So does the host a
// client asked its proxy for (the flow's name when there is no SNI).
struct EffectiveNames {
    const FlowFacts& f;
    std::string_view only;  ///< "" for every name
    explicit EffectiveNames(const FlowFacts& flow) : f(flow) {
        for (const auto& n : f.names)
            if (n.source == "sni") {
                only = "sni";
                return;
            }
        for (const auto& n : f.names)
            if (n.source == "proxy") {
                only = "proxy";
                return;
            }
    }
    [[nodiscard]] bool empty() const noexcept { return f.names.empty(); }
    template <class Fn>
    void each(Fn&& fn) const {
        for (const auto& n : f.names)
            if (only.empty() || n.source == only) fn(n);
    }
};

}  // namespace

namespace {

// A vendor whose name (its own, or only a shared one) a flow carries as the
// server's name.
struct NamedVendor {
    uint16_t vendor;
    const FlowFacts::Name* name;
    bool shared;
};

// The named vendors' destination-ANY entries on the flow's transport and
// port, per edition: an edition whose entry already took the flow (by name
// or address) has said where it goes.
template <class PortOk, class Add>
void add_named_any(const FlowFacts& f, const Catalog& c, catalog::Transport t, const std::set<uint16_t>& active_vendors,
                   const std::vector<NamedVendor>& named, const PortOk& port_ok, const Add& add,
                   const std::vector<Match>& out) {
    if (named.empty()) return;
    catalog::HostMatches hm;
    c.match_any_destination(t, f.service_port(), hm);
    const size_t matched_before = out.size();
    for (const NamedVendor& nv : named) {
        if (!active_vendors.count(nv.vendor)) continue;
        const Evidence ev = nv.name->source == "sni"     ? Evidence::Sni
                            : nv.name->source == "proxy" ? Evidence::Proxy
                                                         : Evidence::Dns;
        for (uint32_t idx : hm.view()) {
            const Entry& e = c.entries()[idx];
            if (e.vendor_index != nv.vendor || !port_ok(e, idx, false)) continue;
            const auto first_added = out.begin() + static_cast<std::ptrdiff_t>(matched_before);
            const bool edition_matched = std::any_of(
                out.begin(), first_added, [&](const Match& m) { return c.entries()[m.entry].document == e.document; });
            if (!edition_matched) add(idx, ev, kConfidenceNamedAny, nv.name->name, nv.shared);
        }
    }
}

// The port-hint entries listing the service port or the client's (port_ok
// asks for one, the other or either), ascending, each once: the catalog's
// two lists merged.
template <class Fn>
void each_port_hint_entry(const Catalog& c, catalog::Transport t, uint16_t service_port, uint16_t client_port,
                          const Fn& fn) {
    const std::span<const uint32_t> a = c.port_hint_entries(t, service_port);
    const std::span<const uint32_t> b = c.port_hint_entries(t, client_port);
    for (size_t i = 0, j = 0; i < a.size() || j < b.size();) {
        if (j == b.size() || (i < a.size() && a[i] < b[j])) {
            fn(a[i++]);
            continue;
        }
        if (i < a.size() && a[i] == b[j]) ++i;
        fn(b[j++]);
    }
}

}  // namespace

std::vector<FlowFacts::Name> effective_names(const FlowFacts& f) {
    std::vector<FlowFacts::Name> out;
    EffectiveNames(f).each([&](const FlowFacts::Name& n) { out.push_back(n); });
    return out;
}

std::vector<Match> match_flow(const FlowFacts& f, const Catalog& c, const std::set<uint16_t>& active_vendors) {
    std::vector<Match> out;
    const bool tcp = f.transport == "tcp";
    if (!tcp && f.transport != "udp") return out;
    const catalog::Transport t = tcp ? catalog::Transport::Tcp : catalog::Transport::Udp;
    // Ports: for a name of the server (the flow went out to it), an outbound
    // entry's ports are the server's, an inbound entry's ports are our side's
    // local port (the client's); for a name of the initiator (the vendor
    // opened the flow towards us), an inbound entry's ports are our local
    // port, which is the flow's server port.
    auto port_ok = [&](const Entry& e, uint32_t idx, bool initiator_named) {
        if (initiator_named) {
            return e.direction != catalog::Direction::Outbound && c.entry_has_port(idx, f.server_port);
        }
        switch (e.direction) {
            case catalog::Direction::Outbound: return c.entry_has_port(idx, f.service_port());
            case catalog::Direction::Inbound: return c.entry_has_port(idx, f.client_port);
            case catalog::Direction::Both:
                return c.entry_has_port(idx, f.service_port()) || c.entry_has_port(idx, f.client_port);
        }
        return false;
    };
    auto add = [&](uint32_t idx, Evidence ev, double conf, const std::string& name, bool shared = false) {
        // A vendor that constrains its clients' source ports: a flow from
        // another port is not that entry's (catalog schema 2 source_ports).
        const Entry& e = c.entries()[idx];
        if (e.direction == catalog::Direction::Outbound && !e.source_port_allowed(f.client_port)) return;
        for (auto& m : out) {
            if (m.entry != idx) continue;
            if (conf > m.confidence || (conf == m.confidence && m.shared && !shared))
                m = Match{idx, ev, conf, name, shared};
            return;
        }
        out.push_back(Match{idx, ev, conf, name, shared});
    };
    const EffectiveNames names(f);
    size_t dns_names = 0;
    names.each([&](const FlowFacts::Name& n) { dns_names += n.source == "dns"; });
    catalog::HostMatches hm;
    // Vendors whose names (their own or shared ones, not third parties') the
    // flow carries as a server's name, for their destination-ANY entries.
    std::vector<NamedVendor> named;
    names.each([&](const FlowFacts::Name& n) {
        const bool initiator = n.source == "dns-initiator";
        c.match_host(n.name, hm);
        for (uint32_t idx : hm.view()) {
            const Entry& e = c.entries()[idx];
            const bool shared = e.shared_only(n.name);
            if (!e.third_party && (n.source == "sni" || n.source == "proxy" || n.source == "dns")) {
                auto it = std::find_if(named.begin(), named.end(),
                                       [&](const NamedVendor& x) { return x.vendor == e.vendor_index; });
                if (it == named.end())
                    named.push_back({e.vendor_index, &n, shared});
                else if (it->shared && !shared)
                    *it = {e.vendor_index, &n, false};
            }
            if (e.transport != t || !port_ok(e, idx, initiator)) continue;
            if (n.source == "sni")
                add(idx, Evidence::Sni, kConfidenceSni, n.name, shared);
            else if (n.source == "proxy")
                add(idx, Evidence::Proxy, kConfidenceProxy, n.name, shared);
            else if (n.source == "dns" || initiator)
                add(idx, Evidence::Dns, dns_names > 1 ? kConfidenceDnsShared : kConfidenceDns, n.name, shared);
            else
                add(idx, Evidence::TurnPeer, kConfidenceTurnPeer, n.name, shared);
        }
    });
    // Address destinations: the server's address in an outbound entry's
    // ranges, or the initiator's in an inbound entry's (the vendor's servers
    // send to our local port, the flow's server port). A flow through an
    // explicit proxy goes to the proxy's address: no address evidence.
    if (f.proxy_port == 0 && c.has_addresses()) {
        for (const bool initiator : {false, true}) {
            c.match_address(initiator ? f.client_ip : f.server_ip, hm);
            for (uint32_t idx : hm.view()) {
                const Entry& e = c.entries()[idx];
                if (e.transport != t || !port_ok(e, idx, initiator)) continue;
                if (!initiator && e.direction == catalog::Direction::Inbound) continue;
                add(idx, Evidence::Address, kConfidenceAddress, initiator ? f.client_ip : f.server_ip);
            }
        }
    }
    // The vendor's own named flow on a port only its destination-ANY entries
    // list: those entries are the vendor's word for this port.
    add_named_any(f, c, t, active_vendors, named, port_ok, add, out);
    // Destination-ANY entries: only for flows no name explains, with protocol
    // evidence on the flow, and only for vendors active by name in the capture.
    const bool proto = f.has_protocol_evidence();
    if (proto && out.empty()) {
        c.match_any_destination(t, f.service_port(), hm);
        for (uint32_t idx : hm.view()) {
            const Entry& e = c.entries()[idx];
            if (active_vendors.count(e.vendor_index)) add(idx, Evidence::Protocol, kConfidenceProtocolAny, "");
        }
    }
    // A flow without a name on a named entry's port is only a hint, whatever
    // protocol it carries: with several vendors active, a peer's STUN check
    // on a high port would otherwise count for every vendor whose range
    // covers it (the lab's restrictive profile showed exactly that).
    // Web ports hint at nothing. The entries a port may hint at are the
    // catalog's list (first-party, named): this runs for every unnamed flow.
    if (names.empty() && f.service_port() != 443 && f.service_port() != 80) {
        each_port_hint_entry(c, t, f.service_port(), f.client_port, [&](uint32_t idx) {
            const Entry& e = c.entries()[idx];
            if (active_vendors.count(e.vendor_index) && port_ok(e, idx, false))
                add(idx, Evidence::PortOnly, kConfidencePortOnly, "");
        });
    }
    std::sort(out.begin(), out.end(), [](const Match& a, const Match& b) { return a.entry < b.entry; });
    return out;
}

std::vector<Gap> gap_vendors(const FlowFacts& f, const Catalog& c, const std::vector<Match>& matches) {
    std::vector<Gap> out;
    auto consider = [&](uint16_t v, const std::string& name) {
        bool matched = false;
        for (const auto& m : matches) matched |= decisive(m.evidence) && c.entries()[m.entry].vendor_index == v;
        const bool listed = std::any_of(out.begin(), out.end(), [v](const Gap& g) { return g.vendor == v; });
        if (!matched && !listed) out.push_back(Gap{v, name});
    };
    EffectiveNames(f).each([&](const FlowFacts::Name& n) {
        const catalog::VendorMatches vm = c.vendor_for_host(n.name);
        for (uint16_t v : vm.view()) consider(v, n.name);
    });
    // A flow to an address the vendor publishes (first-party ranges) that no
    // entry explains (another port, another transport): a catalog gap named
    // by the address.
    if (f.proxy_port == 0 && c.has_addresses() && (f.transport == "tcp" || f.transport == "udp")) {
        catalog::HostMatches hm;
        c.match_address(f.server_ip, hm);
        for (uint32_t idx : hm.view()) {
            const Entry& e = c.entries()[idx];
            if (!e.third_party) consider(e.vendor_index, f.server_ip);
        }
    }
    return out;
}

}  // namespace callwall::attrib
