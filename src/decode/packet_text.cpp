// The decode layer's names and text forms, off the packet path: encapsulation
// names, supported link types, addresses to and from text (see decode/packet.hpp).
#include "decode/packet.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <string_view>

namespace callwall::decode {

std::string_view to_string(Encap e) noexcept {
    switch (e) {
        case Encap::None: return "";
        case Encap::Gre: return "gre";
        case Encap::ErspanI: return "erspan1";
        case Encap::ErspanII: return "erspan2";
        case Encap::ErspanIII: return "erspan3";
        case Encap::Vxlan: return "vxlan";
        case Encap::Geneve: return "geneve";
        case Encap::Gtpu: return "gtpu";
        case Encap::Mpls: return "mpls";
        case Encap::Pptp: return "pptp";
        case Encap::IpInIp: return "ip-in-ip";
        case Encap::EtherIp: return "etherip";
        case Encap::GreUdp: return "gre-in-udp";
        case Encap::VxlanGpe: return "vxlan-gpe";
        case Encap::Ayiya: return "ayiya";
        case Encap::Teredo: return "teredo";
    }
    return "?";
}

bool link_type_supported(uint32_t linktype) noexcept {
    switch (static_cast<LinkType>(linktype)) {
        case LinkType::Null:
        case LinkType::Ethernet:
        case LinkType::Raw:
        case LinkType::DltRaw:
        case LinkType::DltRawBsd:
        case LinkType::Loop:
        case LinkType::LinuxSll:
        case LinkType::Ipv4:
        case LinkType::Ipv6:
        case LinkType::LinuxSll2:
        case LinkType::Ppp:
        case LinkType::PppHdlc:
        case LinkType::PppEther:
        case LinkType::Nflog:
        case LinkType::CiscoHdlc:
        case LinkType::Ieee80211:
        case LinkType::Ieee80211Radiotap:
        case LinkType::Ppi: return true;
    }
    return false;
}

std::string to_string(const IpAddr& a) {
    char buf[INET6_ADDRSTRLEN];
    return std::string(buf, format_ip(a, buf, sizeof buf));
}

bool parse_ip(std::string_view text, IpAddr& out) noexcept {
    char buf[INET6_ADDRSTRLEN + 1];
    if (text.size() >= sizeof buf) return false;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddr a;
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
        a.family = 4;
    } else if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
        a.family = 6;
    } else {
        return false;
    }
    out = a;
    return true;
}

size_t format_ip(const IpAddr& a, char* buf, size_t cap) noexcept {
    if (a.family == 4 && cap >= 16) {
        // Dotted quad by hand: inet_ntop costs ~2000 instructions, this ~50;
        // two per flow row and per DNS row.
        char* p = buf;
        for (int i = 0; i < 4; ++i) {
            unsigned v = a.bytes[static_cast<size_t>(i)];
            if (v >= 100)
                *p++ = static_cast<char>('0' + v / 100), v %= 100, *p++ = static_cast<char>('0' + v / 10);
            else if (v >= 10)
                *p++ = static_cast<char>('0' + v / 10);
            *p++ = static_cast<char>('0' + v % 10);
            if (i < 3) *p++ = '.';
        }
        *p = '\0';
        return static_cast<size_t>(p - buf);
    }
    const char* r = nullptr;
    if (a.family == 4)
        r = inet_ntop(AF_INET, a.bytes.data(), buf, static_cast<socklen_t>(cap));
    else if (a.family == 6)
        r = inet_ntop(AF_INET6, a.bytes.data(), buf, static_cast<socklen_t>(cap));
    if (!r) {
        if (cap > 1) {
            buf[0] = '?';
            buf[1] = '\0';
            return 1;
        }
        return 0;
    }
    return std::strlen(buf);
}

}  // namespace callwall::decode
