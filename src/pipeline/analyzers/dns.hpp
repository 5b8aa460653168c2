// DNS analyzer (UDP; RFC 1035, mDNS RFC 6762 on 5353, LLMNR RFC 4795 on
// 5355): every message decoded; answers become facts and feed the name map
// (the question and every CNAME owner/target name each answered address);
// queries wait for their answer in a bounded per-flow table and are emitted
// as unanswered at the flow's end. DNS over TCP frames its messages and
// hands them here (pipeline/analyzers/dns_tcp.hpp).
//
// Ports are required, not hints: DNS headers are too weak a signature to
// probe on any port.
#pragma once

#include <array>
#include <cstdint>

#include "proto/dns.hpp"
#include "pipeline/app_analyzer.hpp"
#include "pipeline/buffer_pool.hpp"

namespace callwall::pipeline {

struct DnsFlow {
    int32_t pending = -1;  ///< DnsPendingSlot lent while a query awaits its answer
};

class DnsAnalyzer final : public AppAnalyzer {
public:
    // Outstanding DNS queries per flow; resolvers pipeline a handful.
    static constexpr size_t kPendingPerFlow = 16;
    // Flows with DNS queries awaiting an answer (256 B each).
    static constexpr size_t kPendingSlots = 65536;

    explicit DnsAnalyzer(DissectShared& shared) : s_(shared) {}
    void on_start(flow::Flow&, FlowApp& a, flow::Dir, ByteView) override { start_state<DnsFlow>(a); }
    void on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) override {
        (void)on_message(f, a, d, flow_state<DnsFlow>(a), m.payload, ts_us);
    }
    void describe(flow::Flow& f, FlowApp& a, FlowColumns&, bool final) override {
        if (final) flush_pending(f, flow_state<DnsFlow>(a));
    }
    void release(FlowApp& a) noexcept override { release_state(flow_state<DnsFlow>(a)); }

    /// One DNS message of the flow, sent in direction `d`; false when it does not decode.
    bool on_message(const flow::Flow& f, FlowApp& a, flow::Dir d, DnsFlow& st, ByteView msg, int64_t ts_us);
    /// Queries still waiting: emitted as unanswered.
    void flush_pending(const flow::Flow& f, DnsFlow& st);
    void release_state(DnsFlow& st) noexcept;

private:
    struct Pending {
        bool used = false;
        uint16_t id = 0;
        uint16_t qtype = 0;
        uint32_t qname = 0;
        int64_t ts_us = 0;
    };
    // Queries of one flow awaiting their answer; returned when none is pending.
    struct PendingSlot {
        std::array<Pending, kPendingPerFlow> pending{};
        void reset() noexcept { pending = {}; }
        [[nodiscard]] bool empty() const noexcept;
    };
    void on_query(DnsFlow& st, const proto::dns::Message& m, uint32_t qname_id, int64_t ts_us);
    void on_answer_section(const flow::Flow& f, const proto::dns::Message& m, uint32_t qname_id, int64_t ts_us);

    DissectShared& s_;
    Pool<PendingSlot> pool_{kPendingSlots};
    /// Every message is decoded into this one (on_message; ~5 KiB, reused).
    proto::dns::Message msg_;
};

// RFC 6762: mDNS on UDP 5353 (multicast, and one-shot queries answered from 5353).
[[nodiscard]] proto::dns::Dialect dns_dialect(const flow::Flow& f) noexcept;
[[nodiscard]] bool probe_dns(const ProbeInput& in) noexcept;
std::unique_ptr<AppAnalyzer> make_dns(DissectShared& shared);

inline constexpr PortRange kDnsPorts[] = {{53, 53}, {5353, 5353}, {5355, 5355}};
inline constexpr std::string_view kDnsLabels[] = {"dns"};
inline constexpr uint16_t kDnsLabel = 1u << 0;
inline constexpr AnalyzerRow kDnsRow{"dns", L4::Udp, PortUse::Required, kDnsPorts, probe_dns, kDnsLabels, make_dns};

}  // namespace callwall::pipeline
