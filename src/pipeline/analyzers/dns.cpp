// DNS analyzer. See pipeline/analyzers/dns.hpp.
#include "pipeline/analyzers/dns.hpp"

#include <algorithm>

namespace callwall::pipeline {

namespace dns = proto::dns;
using decode::IpAddr;

dns::Dialect dns_dialect(const flow::Flow& f) noexcept {
    return f.proto == decode::kProtoUdp && (f.server_port == 5353 || f.client_port == 5353) ? dns::Dialect::Mdns
                                                                                            : dns::Dialect::Dns;
}

bool probe_dns(const ProbeInput& in) noexcept { return dns::probe(in.payload, dns_dialect(in.flow)); }

std::unique_ptr<AppAnalyzer> make_dns(DissectShared& shared) { return std::make_unique<DnsAnalyzer>(shared); }

bool DnsAnalyzer::PendingSlot::empty() const noexcept {
    for (const auto& p : pending)
        if (p.used) return false;
    return true;
}

void DnsAnalyzer::release_state(DnsFlow& st) noexcept {
    if (st.pending >= 0) pool_.release(st.pending);
    st.pending = -1;
}

bool DnsAnalyzer::on_message(const flow::Flow& f, FlowApp& a, flow::Dir d, DnsFlow& st, ByteView msg, int64_t ts_us) {
    if (!dns::decode_into(msg, dns_dialect(f), msg_)) {
        ++s_.stats.dns_malformed;
        return false;
    }
    ++s_.stats.dns_messages;
    a.labels |= kDnsLabel;
    const dns::Message& m = msg_;
    a.roles |= flow::role_bit(d, m.header.qr);
    if (st.pending < 0 && !m.header.qr) st.pending = s_.lend(pool_);
    const std::string_view qname = m.has_question ? m.name(m.question.qname) : std::string_view();
    const uint32_t qname_id = s_.naming.intern(qname);
    if (!m.header.qr) {
        on_query(st, m, qname_id, ts_us);
        return true;
    }
    // A response: the client is the flow's client (the side that asked).
    if (st.pending >= 0) {
        PendingSlot& slot = pool_.at(st.pending);
        for (auto& p : slot.pending)
            if (p.used && p.id == m.header.id) p.used = false;
        if (slot.empty()) release_state(st);  // nothing awaits an answer: give the slot back
    }
    facts::DnsQueryFact q;
    q.flow_id = f.id;
    q.ts_us = ts_us;
    q.client = f.client_ip;
    q.server = f.server_ip;
    q.qname = s_.naming.get(qname_id);
    q.qtype = m.question.qtype;
    q.answered = true;
    q.rcode = m.extended_rcode;
    q.answers = static_cast<uint32_t>(m.answers.size());
    s_.sink->write(&q);
    on_answer_section(f, m, qname_id, ts_us);
    return true;
}

void DnsAnalyzer::on_query(DnsFlow& st, const dns::Message& m, uint32_t qname_id, int64_t ts_us) {
    if (st.pending < 0 || !m.has_question) return;
    PendingSlot& slot = pool_.at(st.pending);
    Pending* free_p = nullptr;
    for (auto& p : slot.pending) {
        if (p.used && p.id == m.header.id && p.qname == qname_id) return;  // retransmission
        if (!p.used && !free_p) free_p = &p;
    }
    if (!free_p) free_p = &slot.pending[m.header.id % kPendingPerFlow];  // overwrite: bounded
    *free_p = Pending{true, m.header.id, m.question.qtype, qname_id, ts_us};
}

void DnsAnalyzer::on_answer_section(const flow::Flow& f, const dns::Message& m, uint32_t qname_id, int64_t ts_us) {
    // Names of this answer: the question and every CNAME owner/target.
    uint32_t chain[8];
    size_t chain_n = 0;
    if (qname_id) chain[chain_n++] = qname_id;
    for (const auto& an : m.answers) {
        if (an.type != 5) continue;
        for (uint32_t id : {s_.naming.intern(m.name(an.name)), s_.naming.intern(m.name(an.target))}) {
            if (id && chain_n < 8 && std::find(chain, chain + chain_n, id) == chain + chain_n) chain[chain_n++] = id;
        }
    }
    for (const auto& an : m.answers) {
        facts::DnsAnswerFact row;
        row.flow_id = f.id;
        row.ts_us = ts_us;
        row.client = f.client_ip;
        row.server = f.server_ip;
        row.qname = m.name(an.name);
        row.rrtype = an.type;
        row.ttl_s = an.ttl_s;
        if ((an.type == 1 || an.type == 28) && !an.address.empty()) {
            row.has_address = true;
            row.address = IpAddr::from_bytes(an.address);
            s_.add_answer(f.client_ip, row.address, chain, chain_n, ts_us);
        } else if (an.type == 5 || an.type == 64 || an.type == 65) {
            row.target = m.name(an.target);
        }
        if (an.type == 64 || an.type == 65) {
            row.svc_priority = an.svc_priority;
            row.alpn = an.alpn;
            row.ipv4hint = an.ipv4hint;
            row.ipv6hint = an.ipv6hint;
            for (size_t off = 0; off + 4 <= an.ipv4hint.size(); off += 4)
                s_.add_answer(f.client_ip, IpAddr::from_bytes(an.ipv4hint.subspan(off, 4)), chain, chain_n, ts_us);
            for (size_t off = 0; off + 16 <= an.ipv6hint.size(); off += 16)
                s_.add_answer(f.client_ip, IpAddr::from_bytes(an.ipv6hint.subspan(off, 16)), chain, chain_n, ts_us);
        }
        s_.sink->write(&row);
    }
}

void DnsAnalyzer::flush_pending(const flow::Flow& f, DnsFlow& st) {
    if (st.pending < 0) return;
    for (auto& p : pool_.at(st.pending).pending) {
        if (!p.used) continue;
        facts::DnsQueryFact q;
        q.flow_id = f.id;
        q.ts_us = p.ts_us;
        q.client = f.client_ip;
        q.server = f.server_ip;
        q.qname = s_.naming.get(p.qname);
        q.qtype = p.qtype;
        q.answered = false;
        s_.sink->write(&q);
        p.used = false;
    }
}

}  // namespace callwall::pipeline
