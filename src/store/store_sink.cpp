// Facts to store rows. See store/store_sink.hpp.
#include "store/store_sink.hpp"

#include <cstdio>
#include <memory>
#include <optional>
#include <variant>

#include "proto/dns.hpp"
#include "proto/dns_text.hpp"
#include "proto/tls_text.hpp"
#include "util/clock.hpp"

namespace callwall::store {
namespace {

namespace stun = proto::stun;

/// An address as text in a stack buffer (no allocation; decode::format_ip).
class IpText {
public:
    explicit IpText(const decode::IpAddr& a) noexcept : n_(decode::format_ip(a, buf_, sizeof buf_)) {}
    [[nodiscard]] std::string_view view() const noexcept { return {buf_, n_}; }

private:
    char buf_[64];
    size_t n_;
};

std::string_view direction(flow::Dir d) noexcept { return d == flow::kFromClient ? "c2s" : "s2c"; }

}  // namespace

std::unique_ptr<facts::FactSink> make_fact_writer(Store& store, int64_t run_id, std::exception_ptr& error,
                                                  bool per_message_rows) {
    return std::make_unique<StoreSink>(store, run_id, error, per_message_rows);
}

template <>
void StoreSink::add(const facts::DnsQueryFact& f) {
    guarded([&](store::Store& s) {
        records::DnsQuery q;
        q.flow_id = static_cast<int64_t>(f.flow_id);
        q.ts = util::us_to_s(f.ts_us);
        // The addresses are the dns_query row's alone (the count is per name).
        std::optional<IpText> client, server;
        if (per_message_rows_) {
            client.emplace(f.client);
            server.emplace(f.server);
            q.client_ip = client->view();
            q.server_ip = server->view();
        }
        q.qname = f.qname;
        q.qtype = f.qtype;
        q.answered = f.answered;
        if (f.answered) {
            q.rcode = proto::dns::rcode_name(f.rcode);
            q.answers = f.answers;
        }
        // Every question is counted in its name's dns_name row; its own
        // dns_query row only with --detail.
        if (per_message_rows_)
            s.add_dns_query(run_id_, q);
        else
            s.add_dns_question(run_id_, q);
    });
}

template <>
void StoreSink::add(const facts::DnsAnswerFact& f) {
    if (!per_message_rows_) return;
    const records::DnsAnswer& row = answers_.of(f);
    guarded([&](store::Store& s) { s.add(run_id_, row); });
}

template <>
void StoreSink::add(const facts::HelloFact& f) {
    if (!per_message_rows_) return;
    if (f.protocol == facts::HelloProtocol::Tls)
        proto::tls_version_name(f.tls_version, version_);
    else
        proto::quic_version_name(f.quic_version, version_);
    proto::tls_version_name(f.server_version, server_version_);
    guarded([&](store::Store& s) {
        records::TlsHello row;
        row.flow_id = static_cast<int64_t>(f.flow_id);
        row.ts = util::us_to_s(f.ts_us);
        row.protocol = f.protocol == facts::HelloProtocol::Tls    ? "tls"
                       : f.protocol == facts::HelloProtocol::Quic ? "quic"
                                                                  : "gquic";
        row.sni = f.sni;
        row.alpn = f.alpn;
        row.version = version_;
        row.ech = f.ech;
        row.server_hello = f.server_hello;
        if (f.server_hello) row.server_version = std::string_view(server_version_);
        if (f.alert >= 0) row.alert = f.alert;
        s.add(run_id_, row);
    });
}

template <>
void StoreSink::add(const facts::StunFact& f) {
    if (!per_message_rows_) return;
    static constexpr char kDigits[] = "0123456789abcdef";
    char txid[2 * 32];
    size_t txid_n = 0;
    for (uint8_t b : f.transaction_id) {
        if (txid_n + 2 > sizeof txid) break;  // 12 bytes (RFC 8489), 16 for RFC 3489
        txid[txid_n++] = kDigits[b >> 4];
        txid[txid_n++] = kDigits[b & 15];
    }
    const std::string_view txid_text(txid, txid_n);
    std::string_view method = stun::to_string(f.method);
    char method_num[16];
    if (method.empty()) {
        std::snprintf(method_num, sizeof method_num, "0x%03x", static_cast<unsigned>(f.method));
        method = method_num;
    }
    const bool request = f.msg_class == stun::MessageClass::Request;
    guarded([&](store::Store& s) {
        records::StunMessage row;
        row.flow_id = static_cast<int64_t>(f.flow_id);
        row.ts = util::us_to_s(f.ts_us);
        row.direction = direction(f.dir);
        row.method = method;
        row.msg_class = stun::to_string(f.msg_class);
        row.transaction_id = txid_text;
        if (request) row.answered = 0;
        if (f.error_code != 0) row.error_code = f.error_code;
        row.carried = f.carried == facts::Carrier::Tcp ? "tcp" : "udp";
        s.add(run_id_, row);
        if (f.answers_request) s.mark_stun_answered(run_id_, f.flow_id, txid_text);
    });
}

template <>
void StoreSink::add(const facts::RtpStreamFact& f) {
    const proto::rtp::StreamStats& st = *f.stats;
    char ssrc[16];
    std::snprintf(ssrc, sizeof ssrc, "0x%08x", f.ssrc);
    guarded([&](store::Store& s) {
        records::RtpStream row;
        row.flow_id = static_cast<int64_t>(f.flow_id);
        row.direction = direction(f.dir);
        row.ssrc = ssrc;
        row.payload_type = st.payload_type();
        row.packets = static_cast<int64_t>(st.packets());
        row.lost = st.lost();
        row.reordered = st.reordered();
        row.duplicates = st.duplicates();
        if (st.has_jitter()) {
            row.jitter_ms = st.jitter_ms();
            row.max_jitter_ms = st.max_jitter_ms();
        }
        row.clock_rate = st.clock_rate_hz();
        row.via_turn = f.via_turn;
        row.first_ts = util::us_to_s(f.first_us);
        row.last_ts = util::us_to_s(f.last_us);
        s.add(run_id_, row);
    });
}

template <>
void StoreSink::add(const facts::FlowNameFact& f) {
    guarded([&](store::Store& s) {
        s.add(run_id_, records::FlowName{static_cast<int64_t>(f.flow_id), f.name, f.source});
    });
}

void StoreSink::write(facts::Fact f) {
    std::visit([this](const auto* x) { add(*x); }, f);
}

}  // namespace callwall::store
