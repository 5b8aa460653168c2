// DNS values as text. See proto/dns_text.hpp.
#include "proto/dns_text.hpp"

#include <charconv>

namespace callwall::proto::dns {

std::string_view rcode_name(uint16_t rc) noexcept {
    switch (rc) {
        case 0: return "NOERROR";
        case 1: return "FORMERR";
        case 2: return "SERVFAIL";
        case 3: return "NXDOMAIN";
        case 4: return "NOTIMP";
        case 5: return "REFUSED";
        default: return "OTHER";
    }
}

void rrtype_name(uint16_t t, std::string& out) {
    switch (t) {
        case 1: out = "A"; return;
        case 5: out = "CNAME"; return;
        case 28: out = "AAAA"; return;
        case 64: out = "SVCB"; return;
        case 65: out = "HTTPS"; return;
        default: {
            out = "TYPE";
            char b[8];
            const auto r = std::to_chars(b, b + sizeof b, t);
            out.append(b, r.ptr);
            return;
        }
    }
}

}  // namespace callwall::proto::dns
