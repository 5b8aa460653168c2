// The addresses a capture's vendor names resolve to: DNS
// answers (A/AAAA) for a name the catalog gives a vendor, collected so the
// live kernel filter can also pass traffic to those addresses on ports the
// catalog does not list (the gaps the report is meant to show). Bounded by
// catalog::kMaxFilterAddresses; further ones are counted, not kept.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/bpf_filter.hpp"
#include "catalog/catalog.hpp"
#include "facts/fact_sink.hpp"

namespace callwall::run {

class VendorAddresses final : public facts::FactSink {
public:
    explicit VendorAddresses(const catalog::Catalog& c) noexcept : catalog_(c) {}

    /// Takes the addresses of DNS answers; drops the other facts.
    void write(facts::Fact f) override {
        if (const auto* answer = std::get_if<const facts::DnsAnswerFact*>(&f)) dns_answer(**answer);
    }

    /// Addresses in the order first seen (text, as live_filter takes them).
    [[nodiscard]] const std::vector<std::string>& addresses() const noexcept { return addresses_; }
    /// Vendor DNS answers whose address was not kept (beyond the bound).
    [[nodiscard]] uint64_t left_out() const noexcept { return left_out_; }
    [[nodiscard]] const catalog::Catalog& catalog() const noexcept { return catalog_; }
    /// How far take_from has read another collector.
    struct Cursor {
        size_t addresses = 0;
        uint64_t left_out = 0;
    };
    /// Takes what `other` (a sharded run's worker's: run/shards/shards.hpp)
    /// found since `at`, and moves `at` past it.
    void take_from(const VendorAddresses& other, Cursor& at);

private:
    void dns_answer(const facts::DnsAnswerFact& f);
    void add(const decode::IpAddr& a);

    const catalog::Catalog& catalog_;
    std::vector<decode::IpAddr> seen_;
    std::vector<std::string> addresses_;
    uint64_t left_out_ = 0;
};

}  // namespace callwall::run
