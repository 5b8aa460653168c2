// DNS answers as their records. See facts/message_records.hpp.
#include "facts/message_records.hpp"

#include <charconv>

#include "decode/packet.hpp"
#include "proto/dns.hpp"
#include "proto/dns_text.hpp"
#include "util/clock.hpp"

namespace callwall::facts {
namespace {

void append_number(std::string& out, unsigned v) {
    char b[16];
    const auto r = std::to_chars(b, b + sizeof b, v);
    out.append(b, r.ptr);
}

void append_ip(std::string& out, const decode::IpAddr& a) {
    char b[64];
    out.append(b, decode::format_ip(a, b, sizeof b));
}

// HTTPS (65) and SVCB (64): a priority, a target and parameters.
bool is_svcb(uint16_t rrtype) noexcept { return rrtype == 64 || rrtype == 65; }

// "1 target alpn=h3,h2 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1" (RFC 9460 presentation, abridged).
void svcb_text(const DnsAnswerFact& f, std::string& out) {
    append_number(out, f.svc_priority);
    out += ' ';
    out += dns_target(f);
    if (!f.alpn.empty()) {
        out += " alpn=";
        bool first = true;
        for (ByteView id : proto::dns::alpn_ids(f.alpn)) {
            if (!first) out += ',';
            out += as_text(id);
            first = false;
        }
    }
    for (size_t off = 0; off + 4 <= f.ipv4hint.size(); off += 4) {
        out += off ? "," : " ipv4hint=";
        append_ip(out, decode::IpAddr::from_bytes(f.ipv4hint.subspan(off, 4)));
    }
    for (size_t off = 0; off + 16 <= f.ipv6hint.size(); off += 16) {
        out += off ? "," : " ipv6hint=";
        append_ip(out, decode::IpAddr::from_bytes(f.ipv6hint.subspan(off, 16)));
    }
}

}  // namespace

std::string_view dns_target(const DnsAnswerFact& f) noexcept {
    return f.target.empty() && is_svcb(f.rrtype) ? std::string_view(".") : f.target;
}

const records::DnsAnswer& DnsAnswerRecord::of(const DnsAnswerFact& f) {
    answer_.clear();
    if (f.has_address)
        append_ip(answer_, f.address);
    else if (f.rrtype == 5)
        answer_ = f.target;
    else if (is_svcb(f.rrtype))
        svcb_text(f, answer_);
    // Other types: recorded, value not decoded.
    proto::dns::rrtype_name(f.rrtype, rrtype_);
    row_.flow_id = static_cast<int64_t>(f.flow_id);
    row_.ts = util::us_to_s(f.ts_us);
    row_.client_ip = {client_, decode::format_ip(f.client, client_, sizeof client_)};
    row_.server_ip = {server_, decode::format_ip(f.server, server_, sizeof server_)};
    row_.qname = f.qname;
    row_.rrtype = rrtype_;
    row_.answer = answer_;
    row_.ttl = f.ttl_s;
    return row_;
}

}  // namespace callwall::facts
