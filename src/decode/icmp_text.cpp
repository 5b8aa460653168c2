// The words for ICMP and ICMPv6 error types and codes. See
// callwall/decode/icmp_text.hpp.
#include "decode/icmp_text.hpp"

#include <array>

namespace callwall::decode {
namespace {

// RFC 792 and RFC 1812 §5.2.7.1, indexed by code.
constexpr std::array<std::string_view, 16> kUnreachableV4 = {"net unreachable",
                                                             "host unreachable",
                                                             "protocol unreachable",
                                                             "port unreachable",
                                                             "fragmentation needed",
                                                             "source route failed",
                                                             "net unknown",
                                                             "host unknown",
                                                             "source host isolated",
                                                             "net administratively prohibited",
                                                             "host administratively prohibited",
                                                             "net unreachable for TOS",
                                                             "host unreachable for TOS",
                                                             "communication administratively prohibited",
                                                             "host precedence violation",
                                                             "precedence cutoff"};

// RFC 4443 §3.1, indexed by code.
constexpr std::array<std::string_view, 7> kUnreachableV6 = {"no route",
                                                            "administratively prohibited",
                                                            "beyond scope of source",
                                                            "address unreachable",
                                                            "port unreachable",
                                                            "source address failed policy",
                                                            "reject route"};

}  // namespace

std::string_view icmp_type_text(bool v6, int type) noexcept {
    if (v6) {
        switch (type) {
            case 1: return "destination unreachable";
            case 2: return "packet too big";
            case 3: return "time exceeded";
            case 4: return "parameter problem";
            default: return {};
        }
    }
    switch (type) {
        case 3: return "destination unreachable";
        case 11: return "time exceeded";
        case 12: return "parameter problem";
        default: return {};
    }
}

std::string_view unreachable_code_text(bool v6, int code) noexcept {
    if (code < 0) return {};
    const auto i = static_cast<size_t>(code);
    if (v6) return i < kUnreachableV6.size() ? kUnreachableV6[i] : std::string_view{};
    return i < kUnreachableV4.size() ? kUnreachableV4[i] : std::string_view{};
}

}  // namespace callwall::decode
