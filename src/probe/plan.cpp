// The probe plan. See probe/plan.hpp.
#include "probe/plan.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace callwall::probe {
namespace {

using catalog::DestinationKind;
using catalog::Entry;

std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return r;
}

bool tls_port(uint16_t p) { return p == 443 || p == 5349 || p == 8443; }

bool turn_service(const Entry& e) {
    const std::string s = lower(e.service);
    return s.find("turn") != std::string::npos || s.find("relay") != std::string::npos;
}

// An address inside the entry's published ranges (IPv4 first): the
// vendor's real address, not a documentation one.
std::string range_address(const Entry& e) {
    for (const auto f : {catalog::AddressFamily::V4, catalog::AddressFamily::V6})
        for (const auto& r : e.addresses)
            if (r.family == f) return catalog::ip_text(f, r.sample());
    return {};
}

bool chosen(const Entry& e, const PlanOptions& o) {
    const std::string v = lower(e.vendor);
    if (std::none_of(o.vendors.begin(), o.vendors.end(), [&](const std::string& n) { return lower(n) == v; }))
        return false;
    if (!o.entries.empty() && std::find(o.entries.begin(), o.entries.end(), e.id) == o.entries.end()) return false;
    return o.product.empty() || lower(o.product) == lower(e.product);
}

// The hosts an entry is probed through, or a reason why there is none.
std::vector<std::string> hosts_of(const Entry& e, const PlanOptions& o, std::string* why) {
    if (const auto t = o.targets.find(e.id); t != o.targets.end()) return {lower(t->second)};
    // The catalog's concrete names for the entry stand for the wildcards they match.
    std::vector<std::string> hosts = e.probe_hosts;
    std::vector<std::string> wildcards;
    for (const auto& d : e.destinations) {
        const bool named = std::any_of(e.probe_hosts.begin(), e.probe_hosts.end(),
                                       [&](const std::string& h) { return catalog::destination_matches(d, h); });
        switch (d.kind) {
            case DestinationKind::Exact: hosts.emplace_back(d.pattern); break;
            case DestinationKind::Suffix: hosts.emplace_back(d.base()); break;
            case DestinationKind::Wildcard:
                if (named) break;
                if (!o.reflector.empty())
                    hosts.push_back("callwall-probe." + std::string(d.base()));
                else
                    wildcards.push_back(d.pattern);
                break;
            case DestinationKind::Any:
                if (!o.reflector.empty()) hosts.emplace_back();
                break;
        }
    }
    // Published ranges and no names: the probe goes to an address inside the
    // vendor's first range (the host stays empty: no name to send).
    if (!e.has_names() && !e.addresses.empty() && !e.any_destination()) hosts.emplace_back();
    if (hosts.empty()) {
        if (!wildcards.empty())
            *why = "wildcard destination " + wildcards.front() + " names no host: give --target " + e.id +
                   "=HOST (or list probe_hosts in the catalog entry)";
        else
            *why = "destination ANY names no host: give --target " + e.id + "=HOST or --reflector";
    }
    std::sort(hosts.begin(), hosts.end());
    hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
    return hosts;
}

}  // namespace

std::string_view to_string(ProbeKind k) noexcept {
    switch (k) {
        case ProbeKind::Tcp: return "tcp";
        case ProbeKind::Tls: return "tls";
        case ProbeKind::StunBinding: return "stun-binding";
        case ProbeKind::TurnAllocate: return "turn-allocate";
    }
    return "?";
}

std::string system_resolve(const std::string& name, std::string* error, int family) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
    if (rc != 0 || !res) {
        *error = std::string("does not resolve: ") + ::gai_strerror(rc);
        return {};
    }
    char buf[INET6_ADDRSTRLEN] = {};
    if (res->ai_family == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr, buf, sizeof buf);
    else
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, buf, sizeof buf);
    ::freeaddrinfo(res);
    return buf;
}

namespace {
// 64512 -> "64,512".
std::string grouped(uint32_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
    return s;
}
}  // namespace

std::string coverage_text(const Coverage& c) {
    if (c.probed < c.ports) return grouped(c.probed) + " of " + grouped(c.ports) + " ports sampled";
    return "every port (" + grouped(c.ports) + ")" + (c.swept ? " swept" : "");
}

std::vector<uint16_t> spread_ports(catalog::PortRange r, uint32_t per_range) {
    per_range = std::max<uint32_t>(per_range, 2);
    const uint32_t count = uint32_t{r.hi} - r.lo + 1;
    std::vector<uint16_t> out;
    if (count <= per_range) {
        for (uint32_t p = r.lo; p <= r.hi; ++p) out.push_back(static_cast<uint16_t>(p));
        return out;
    }
    // lo + round(i * (count - 1) / (per_range - 1)) for i = 0 .. per_range - 1:
    // distinct because count > per_range, first lo and last hi.
    for (uint32_t i = 0; i < per_range; ++i) {
        const uint64_t step = (uint64_t{i} * (count - 1) * 2 + (per_range - 1)) / (2 * uint64_t{per_range - 1});
        out.push_back(static_cast<uint16_t>(r.lo + step));
    }
    return out;
}

Plan make_plan(const catalog::Catalog& c, const PlanOptions& o, const Resolver& resolve) {
    Plan plan;
    std::map<std::string, std::string> failed, resolved;  // name -> why, name -> address
    const auto address_of = [&](const std::string& host, std::string* why) -> std::string {
        if (!o.reflector.empty()) return o.reflector;
        if (const auto r = o.resolve.find(host); r != o.resolve.end()) return r->second;
        if (const auto f = failed.find(host); f != failed.end()) {
            *why = f->second;
            return {};
        }
        if (const auto n = resolved.find(host); n != resolved.end()) return n->second;
        std::string err;
        std::string a = resolve(host, &err);
        if (a.empty())
            failed[host] = *why = host + " " + err;
        else
            resolved[host] = a;
        return a;
    };
    uint32_t budget_cut = 0;
    for (const Entry& e : c.entries()) {
        if (!chosen(e, o)) continue;
        if (e.direction == catalog::Direction::Inbound) {
            plan.skipped.push_back({e.id, "inbound: the vendor's servers open it, a probe from here cannot"});
            continue;
        }
        std::string why;
        auto hosts = hosts_of(e, o, &why);
        // Through a reflector every name goes to one address, which keeps at
        // most NameMap::kNamesPerAddress (8) names: one name per entry, a
        // real one before a stand-in.
        if (!o.reflector.empty() && hosts.size() > 1) {
            std::stable_partition(hosts.begin(), hosts.end(),
                                  [](const std::string& h) { return h.rfind("callwall-probe.", 0) != 0; });
            hosts.resize(1);
        }
        size_t before = plan.probes.size();
        const bool sweep = o.sweep && !o.reflector.empty();
        std::set<uint16_t> probed;
        for (const auto& host : hosts) {
            const std::string addr =
                host.empty() && !e.addresses.empty() && o.reflector.empty() ? range_address(e) : address_of(host, &why);
            if (addr.empty()) continue;
            for (const auto& range : e.ports) {
                const uint32_t width = uint32_t{range.hi} - range.lo + 1;
                const bool swept = sweep && width > std::max<uint32_t>(o.ports_per_range, 2);
                for (uint16_t port : spread_ports(range, swept ? width : o.ports_per_range)) {
                    if (plan.probes.size() >= o.budget) {
                        ++budget_cut;
                        continue;
                    }
                    probed.insert(port);
                    Probe p{e.id, host, addr, port, ProbeKind::Tcp};
                    if (e.transport == catalog::Transport::Tcp)
                        p.kind = tls_port(port) ? ProbeKind::Tls : ProbeKind::Tcp;
                    else
                        p.kind = turn_service(e) ? ProbeKind::TurnAllocate : ProbeKind::StunBinding;
                    const bool listed = width <= std::max<uint32_t>(o.ports_per_range, 2);
                    p.answer_expected = e.transport == catalog::Transport::Udp &&
                                        ((p.kind == ProbeKind::TurnAllocate && listed) || port == 3478 || port == 5349);
                    p.swept = swept;
                    plan.probes.push_back(std::move(p));
                }
            }
        }
        if (plan.probes.size() == before) {
            plan.skipped.push_back({e.id, budget_cut ? "--budget " + std::to_string(o.budget) + " reached" : why});
            continue;
        }
        Coverage& cov = plan.coverage[e.id];
        for (const auto& r : e.ports) cov.ports += uint32_t{r.hi} - r.lo + 1;
        cov.probed = static_cast<uint32_t>(probed.size());
        cov.swept = sweep && cov.probed == cov.ports && cov.ports > std::max<uint32_t>(o.ports_per_range, 2);
    }
    std::set<std::string> dests;
    for (const auto& p : plan.probes) {
        dests.insert(p.addr);
        if (!p.host.empty()) plan.names[p.host] = p.addr;
    }
    plan.destinations.assign(dests.begin(), dests.end());
    return plan;
}

}  // namespace callwall::probe
