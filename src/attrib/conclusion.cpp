// Attribution: per vendor product, what the entry verdicts add up to. See attrib/attrib.hpp.
#include "callwall/attrib/attrib.hpp"

#include <map>

namespace callwall::attrib {

using catalog::Catalog;
using catalog::Entry;

std::vector<ProductConclusion> conclude_products(const Catalog& c, const std::vector<EntryVerdict>& v,
                                                 const std::set<uint16_t>& active_vendors) {
    struct Acc {
        ProductConclusion pc;
        bool any_exercised = false;
        std::vector<std::string> observed, blocked, partial;
        bool udp_blocked = false, udp_observed = false, tcp_observed = false;
        bool prefers_udp = false;
    };
    std::map<std::string, Acc> acc;
    for (uint32_t i = 0; i < c.entries().size(); ++i) {
        const Entry& e = c.entries()[i];
        if (!active_vendors.count(e.vendor_index)) continue;
        const std::string key = e.vendor + "\x1f" + e.edition + "\x1f" + e.product;
        Acc& a = acc[key];
        a.pc.vendor = e.vendor;
        a.pc.product = e.product;
        a.pc.edition = e.edition;
        const auto& doc = c.document_of(e);
        a.prefers_udp = doc.prefers && doc.prefers->preferred == catalog::Transport::Udp;
        const EntryVerdict& ev = v[i];
        const std::string label = e.service + " (" + std::string(catalog::to_string(e.transport)) + ")";
        switch (ev.verdict) {
            case Verdict::Observed:
                a.any_exercised = true;
                a.observed.push_back(label);
                (e.transport == catalog::Transport::Udp ? a.udp_observed : a.tcp_observed) = true;
                break;
            case Verdict::Partial:
                a.any_exercised = true;
                a.partial.push_back(label);
                (e.transport == catalog::Transport::Udp ? a.udp_observed : a.tcp_observed) = true;
                break;
            case Verdict::Blocked:
                a.any_exercised = true;
                a.blocked.push_back(label);
                if (e.transport == catalog::Transport::Udp) a.udp_blocked = true;
                break;
            case Verdict::Inconclusive: a.any_exercised = true; break;
            case Verdict::NotExercised: break;
        }
    }
    auto join = [](const std::vector<std::string>& xs) {
        std::string s;
        for (const auto& x : xs) s += (s.empty() ? "" : "; ") + x;
        return s;
    };
    std::vector<ProductConclusion> out;
    for (auto& [key, a] : acc) {
        if (!a.any_exercised) {
            a.pc.conclusion = "not exercised";
            a.pc.detail = "no traffic for this product in the capture";
        } else if (a.blocked.empty() && a.partial.empty()) {
            if (a.observed.empty()) {
                a.pc.conclusion = "inconclusive";
                a.pc.detail = "attempts were too short to judge";
            } else {
                a.pc.conclusion = "ready";
                a.pc.detail = "everything exercised got through: " + join(a.observed);
            }
        } else if (a.observed.empty() && a.partial.empty()) {
            a.pc.conclusion = "broken";
            a.pc.detail = "nothing got through; blocked: " + join(a.blocked);
        } else {
            a.pc.conclusion = "works, degraded";
            std::vector<std::string> parts;
            if (!a.observed.empty()) parts.push_back("in use: " + join(a.observed));
            if (!a.partial.empty()) parts.push_back("partly through: " + join(a.partial));
            if (!a.blocked.empty()) parts.push_back("blocked: " + join(a.blocked));
            std::string d = join(parts);
            if (a.udp_blocked && !a.udp_observed && a.tcp_observed && a.prefers_udp)
                d += " — media falls back to TCP/TLS although the vendor's page prefers UDP for call quality";
            a.pc.detail = d;
        }
        out.push_back(a.pc);
    }
    // Products the vendor says cannot be allow-listed, for active vendors.
    for (const auto& p : c.products()) {
        if (!active_vendors.count(p.vendor_index)) continue;
        out.push_back(ProductConclusion{p.vendor, p.product, p.edition, "cannot be allow-listed", p.advice});
    }
    return out;
}

}  // namespace callwall::attrib
