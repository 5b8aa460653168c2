// Attribution: per vendor product, what the entry verdicts add up to. See attrib/attrib.hpp.
#include "attrib/attrib.hpp"

#include <map>
#include <set>

namespace callwall::attrib {

using catalog::Catalog;
using catalog::Entry;

namespace {

// The vendor's order of fallbacks decides the one-line conclusion: when a
// chain's first step did not get through (blocked, or not seen) and a later
// step did, the product works, degraded, and says which step it fell back
// to ("fell back to TURN/TLS"). A chain whose first step got through, or is
// inconclusive, adds nothing; one where no step got through is already
// broken or degraded.
void apply_fallbacks(ProductConclusion& pc,
                     const std::map<std::string, std::map<uint32_t, std::pair<std::string, Verdict>>>& chains) {
    std::vector<std::string> fell_back;
    for (const auto& [chain, steps] : chains) {
        (void)chain;
        if (steps.empty()) continue;
        const auto passed = [](Verdict x) { return x == Verdict::Observed || x == Verdict::Partial; };
        const auto& first = steps.begin()->second;
        // An inconclusive first step may have got through unseen (a capture
        // of one direction): nothing says the product fell back.
        if (passed(first.second) || first.second == Verdict::Inconclusive) continue;
        for (const auto& [order, step] : steps) {
            (void)order;
            if (!passed(step.second)) continue;
            fell_back.push_back("fell back to " + step.first + " (" + first.first +
                                (first.second == Verdict::Blocked ? " blocked" : " not seen") + ")");
            break;
        }
    }
    if (fell_back.empty()) return;
    std::string lead;
    for (const auto& x : fell_back) lead += (lead.empty() ? "" : "; ") + x;
    if (pc.conclusion == "ready") {
        constexpr std::string_view kAll = "everything exercised got through: ";
        pc.conclusion = "works, degraded";
        pc.detail = lead + "; in use: " + (pc.detail.starts_with(kAll) ? pc.detail.substr(kAll.size()) : pc.detail);
    } else if (pc.conclusion == "works, degraded") {
        pc.detail = lead + "; " + pc.detail;
    }
}

// What an edition answers for its vendor: its products' conclusions, in
// product order ("ready", or "Recording: broken; RTC SDK: ready" when they
// differ). Products the vendor says cannot be allow-listed are facts of the
// edition, not an answer about the traffic.
std::string edition_answer(const std::vector<const ProductConclusion*>& products) {
    std::set<std::string> conclusions;
    for (const auto* p : products)
        if (p->conclusion != "cannot be allow-listed") conclusions.insert(p->conclusion);
    if (conclusions.size() <= 1) return conclusions.empty() ? std::string() : *conclusions.begin();
    std::string s;
    for (const auto* p : products)
        if (p->conclusion != "cannot be allow-listed") s += (s.empty() ? "" : "; ") + p->product + ": " + p->conclusion;
    return s;
}

// How the report names an edition: its name, else its catalog file.
std::string edition_name(const catalog::Document& d) {
    if (!d.edition.empty()) return d.edition;
    const size_t slash = d.catalog_file.find_last_of('/');
    return d.catalog_file.substr(slash == std::string::npos ? 0 : slash + 1);
}

// One answer per vendor: only the judging edition's products
// (Catalog::judging_document) are concluded; when another edition of the
// vendor would answer differently, each of the judging edition's products
// says so in one clause.
std::vector<ProductConclusion> one_edition_per_vendor(const Catalog& c, std::vector<ProductConclusion> all,
                                                      const std::vector<uint32_t>& document) {
    std::map<std::string, std::map<uint32_t, std::vector<const ProductConclusion*>>> by_vendor;
    for (size_t i = 0; i < all.size(); ++i) by_vendor[all[i].vendor][document[i]].push_back(&all[i]);
    std::map<std::string, std::string> note;  // by vendor
    std::map<std::string, uint32_t> judging;  // by vendor
    for (const auto& [vendor, editions] : by_vendor) {
        const auto vi = c.vendor_index(vendor);
        const uint32_t j = vi ? c.judging_document(*vi) : editions.begin()->first;
        judging[vendor] = j;
        if (editions.size() < 2 || !editions.count(j)) continue;
        const std::string answer = edition_answer(editions.at(j));
        std::string others;
        for (const auto& [doc, products] : editions) {
            if (doc == j) continue;
            const std::string other = edition_answer(products);
            if (other == answer || other.empty()) continue;
            const bool older = catalog::edition_rank(c.documents()[doc]) < catalog::edition_rank(c.documents()[j]);
            others += std::string(others.empty() ? "" : "; ") + (older ? "the older edition '" : "the edition '") +
                      edition_name(c.documents()[doc]) + "' would answer: " + other;
        }
        if (!others.empty()) note[vendor] = others;
    }
    std::vector<ProductConclusion> out;
    for (size_t i = 0; i < all.size(); ++i) {
        auto j = judging.find(all[i].vendor);
        // Every edition of an active vendor has its products here; should the
        // judging one have none, the vendor's other rows stay.
        if (j != judging.end() && by_vendor[all[i].vendor].count(j->second) && document[i] != j->second) continue;
        ProductConclusion p = std::move(all[i]);
        if (auto n = note.find(p.vendor); n != note.end() && p.conclusion != "cannot be allow-listed")
            p.detail += " (judged by edition '" + edition_name(c.documents()[document[i]]) + "'; " + n->second + ")";
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace

std::vector<ProductConclusion> conclude_products(const Catalog& c, const std::vector<EntryVerdict>& v,
                                                 const std::set<uint16_t>& active_vendors) {
    struct Acc {
        ProductConclusion pc;
        bool any_exercised = false;
        std::vector<std::string> observed, blocked, partial;
        bool udp_blocked = false, udp_observed = false, tcp_observed = false;
        bool prefers_udp = false;
        // Catalog schema 2 fallback chains: chain -> order -> (label, verdict).
        std::map<std::string, std::map<uint32_t, std::pair<std::string, Verdict>>> chains;
    };
    std::map<std::string, Acc> acc;
    std::map<std::string, uint32_t> document_of_key;
    for (uint32_t i = 0; i < c.entries().size(); ++i) {
        const Entry& e = c.entries()[i];
        if (!active_vendors.count(e.vendor_index)) continue;
        const std::string key = e.vendor + "\x1f" + e.edition + "\x1f" + e.product;
        document_of_key[key] = e.document;
        Acc& a = acc[key];
        a.pc.vendor = e.vendor;
        a.pc.product = e.product;
        a.pc.edition = e.edition;
        const auto& doc = c.document_of(e);
        a.prefers_udp = doc.prefers && doc.prefers->preferred == catalog::Transport::Udp;
        const EntryVerdict& ev = v[i];
        if (e.fallback) {
            // Two entries of one step (names and ranges, TCP and UDP): the best verdict of the step.
            auto [it, fresh] =
                a.chains[e.fallback->chain].try_emplace(e.fallback->order, e.fallback->label, ev.verdict);
            const auto passed = [](Verdict x) { return x == Verdict::Observed || x == Verdict::Partial; };
            if (!fresh && passed(ev.verdict) && !passed(it->second.second)) it->second.second = ev.verdict;
        }
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
    std::vector<uint32_t> out_document;  // parallel to out
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
        apply_fallbacks(a.pc, a.chains);
        out.push_back(a.pc);
        out_document.push_back(document_of_key[key]);
    }
    // Products the vendor says cannot be allow-listed, for active vendors.
    for (const auto& p : c.products()) {
        if (!active_vendors.count(p.vendor_index)) continue;
        out.push_back(ProductConclusion{p.vendor, p.product, p.edition, "cannot be allow-listed", p.advice});
        out_document.push_back(p.document);
    }
    return one_edition_per_vendor(c, std::move(out), out_document);
}

}  // namespace callwall::attrib
