// The fanout program and the fanout group. See capture/fanout.hpp.
#include "capture/fanout.hpp"

#include <linux/if_packet.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <array>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>

namespace callwall::capture {
namespace {

// A classic BPF assembler with forward labels (classic BPF jumps forward
// only; a conditional jump reaches 255 instructions, `ja` any distance).
class Assembler {
public:
    using Label = size_t;
    Label label() {
        at_.push_back(kUnbound);
        return at_.size() - 1;
    }
    void bind(Label l) { at_[l] = code_.size(); }
    void op(uint16_t code, uint32_t k = 0) { code_.push_back(sock_filter{code, 0, 0, k}); }
    /// if (A == k) goto yes (else fall through).
    void jeq(uint32_t k, Label yes) { jump(BPF_JMP | BPF_JEQ | BPF_K, k, yes); }
    /// if (A & k) goto yes (else fall through).
    void jset(uint32_t k, Label yes) { jump(BPF_JMP | BPF_JSET | BPF_K, k, yes); }
    /// if (A >= k) goto yes (else fall through).
    void jge(uint32_t k, Label yes) { jump(BPF_JMP | BPF_JGE | BPF_K, k, yes); }
    /// if (A > X) goto yes (else fall through).
    void jgt_x(Label yes) { jump(BPF_JMP | BPF_JGT | BPF_X, 0, yes); }
    void ja(Label to) {
        fixes_.push_back({code_.size(), to, true});
        op(BPF_JMP | BPF_JA);
    }
    std::vector<sock_filter> finish() {
        for (const Fix& f : fixes_) {
            const size_t target = at_[f.to];
            if (target == kUnbound || target <= f.at)
                throw std::logic_error("fanout program: jump to an unbound or earlier label");
            const size_t off = target - f.at - 1;
            if (f.always) {
                code_[f.at].k = static_cast<uint32_t>(off);
            } else {
                if (off > 255) throw std::logic_error("fanout program: conditional jump beyond 255 instructions");
                code_[f.at].jt = static_cast<uint8_t>(off);
            }
        }
        if (code_.size() > BPF_MAXINSNS) throw std::logic_error("fanout program: too long");
        return code_;
    }

private:
    static constexpr size_t kUnbound = SIZE_MAX;
    struct Fix {
        size_t at;
        Label to;
        bool always;
    };
    void jump(uint16_t code, uint32_t k, Label yes) {
        fixes_.push_back({code_.size(), yes, false});
        op(code, k);
    }
    std::vector<sock_filter> code_;
    std::vector<size_t> at_;
    std::vector<Fix> fixes_;
};

// Loads relative to the network header, X added (BPF_IND).
constexpr uint32_t net(uint32_t off) { return static_cast<uint32_t>(SKF_NET_OFF) + off; }
constexpr uint16_t kLdW = BPF_LD | BPF_W | BPF_IND, kLdH = BPF_LD | BPF_H | BPF_IND, kLdB = BPF_LD | BPF_B | BPF_IND;

// Scratch memory: M[0] the hash, M[1] a value kept across an X update,
// M[2] IPv6's next header or GRE's protocol, M[3] a header's length, M[4]
// GRE's flags, M[5] where the current IP datagram ends by its length field,
// M[15] the current IP header's offset (the tunnel's inner one once the
// program is past a tunnel) while X walks past it.
constexpr uint32_t kHash = 0, kKeep = 1, kNext = 2, kLen = 3, kFlags = 4, kEnd = 5, kBase = 15;

// X += n, keeping A.
void advance(Assembler& a, uint32_t n) {
    a.op(BPF_ST, kKeep);
    a.op(BPF_MISC | BPF_TXA);
    a.op(BPF_ALU | BPF_ADD | BPF_K, n);
    a.op(BPF_MISC | BPF_TAX);
    a.op(BPF_LD | BPF_MEM, kKeep);
}

// X += IPv4's header length (X at the IPv4 header): X at its payload.
void past_ipv4_header(Assembler& a) {
    a.op(kLdB, net(0));
    a.op(BPF_ALU | BPF_AND | BPF_K, 0x0F);
    a.op(BPF_ALU | BPF_LSH | BPF_K, 2);
    a.op(BPF_ALU | BPF_ADD | BPF_X);
    a.op(BPF_MISC | BPF_TAX);
}

// M[kEnd] = X + `header` + the 16-bit length field at X + `field` (X at an
// IP header): where the datagram ends, as the decoder bounds what it reads
// (an ICMP error's quote in the frame's padding is no quote to it). A
// length of 0 (a TSO super-frame, a jumbogram) bounds nothing: the decoder
// then takes what was captured, which the program cannot know, so an error
// there whose quote is cut short goes to the first socket, not by its own
// pair (the decoder flags such datagrams: kAnomalyIpv4ZeroTotalLength,
// kAnomalyIpv6ZeroPayloadLength).
void datagram_end(Assembler& a, uint32_t field, uint32_t header) {
    const Assembler::Label unbounded = a.label(), done = a.label();
    a.op(kLdH, net(field));
    a.jeq(0, unbounded);
    a.op(BPF_ALU | BPF_ADD | BPF_K, header);
    a.op(BPF_ALU | BPF_ADD | BPF_X);
    a.op(BPF_ST, kEnd);
    a.ja(done);
    a.bind(unbounded);
    a.op(BPF_LD | BPF_IMM, 0xFFFFFFFF);
    a.op(BPF_ST, kEnd);
    a.bind(done);
}

// A ^= word at X + off (X kept in M[kBase], the hash in M[kHash]).
void xor_word(Assembler& a, uint32_t off) {
    a.op(BPF_LDX | BPF_MEM, kBase);
    a.op(kLdW, net(off));
    a.op(BPF_LDX | BPF_MEM, kHash);
    a.op(BPF_ALU | BPF_XOR | BPF_X);
    a.op(BPF_ST, kHash);
}

// With the ethertype in A and X just past it: through `tags` VLAN tags or
// Cisco MetaData headers at most, then PPPoE's session header, to `ip` with
// X at the IP header.
void tags_and_pppoe(Assembler& a, int tags, Assembler::Label ip) {
    const Assembler::Label untagged = a.label();
    for (int tag = 0; tag < tags; ++tag) {
        const Assembler::Label tagged = a.label(), metadata = a.label(), next = a.label();
        a.jeq(0x8100, tagged);
        a.jeq(0x88A8, tagged);
        a.jeq(0x9100, tagged);
        a.jeq(0x8909, metadata);
        a.ja(untagged);
        a.bind(tagged);
        a.op(kLdH, net(2));  // the tag's inner ethertype
        advance(a, 4);
        a.ja(next);
        a.bind(metadata);
        a.op(kLdH, net(6));  // after version, length, option and SGT
        advance(a, 8);
        a.bind(next);
    }
    a.bind(untagged);
    const Assembler::Label pppoe = a.label();
    a.jeq(0x8864, pppoe);
    a.jeq(0x0800, ip);
    a.jeq(0x86DD, ip);
    a.op(BPF_RET | BPF_K, 0);  // not IP (or too many tags): the first socket
    a.bind(pppoe);
    a.op(kLdH, net(6));  // PPP protocol
    advance(a, 8);
    a.jeq(0x0021, ip);
    a.jeq(0x0057, ip);
    a.op(BPF_RET | BPF_K, 0);
}

// The frame's own link layer: the ethertype (the kernel has taken the first
// VLAN tag out) through any further tags — the decoder walks four at most —
// then PPPoE. Ends at `ip` with X at the IP header.
void link_layer(Assembler& a, Assembler::Label ip) {
    a.op(BPF_LDX | BPF_IMM, 0);
    a.op(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL));
    tags_and_pppoe(a, 4, ip);
}

// Where an IP layer's code goes on (labels further on in the program).
struct Exits {
    Assembler::Label quote;  ///< an ICMP or ICMPv6 error, X at its header
    Assembler::Label own;  ///< the pair of the IP header at M[kBase]
    /// The outermost layer only: GRE, UDP that may carry a tunnel, IP in IP
    /// (protocols 4 and 41) and EtherIP (97), X at the GRE, UDP, inner IP or
    /// EtherIP header. A tunnel inside a tunnel is hashed by the pair around
    /// it (the decoder goes deeper: see fanout.hpp).
    std::optional<Assembler::Label> gre, udp, ipip, etherip;
};

// An ICMP message (X at its header): an error to `quote`, anything else to
// `own`. By the protocol number, not the IP version: the decoder reads
// ICMPv6 over IPv4 (and ICMP over IPv6) by its own types.
void icmp(Assembler& a, bool v6, const Exits& to) {
    const Assembler::Label error = a.label();
    // The type. ICMP's errors: unreachable, source quench, time exceeded,
    // parameter problem; ICMPv6's: unreachable, packet too big, time
    // exceeded, parameter problem.
    a.op(kLdB, net(0));
    const std::array<uint32_t, 4> errors =
        v6 ? std::array<uint32_t, 4>{1, 2, 3, 4} : std::array<uint32_t, 4>{3, 4, 11, 12};
    for (uint32_t t : errors) a.jeq(t, error);
    a.ja(to.own);
    a.bind(error);
    a.ja(to.quote);
}

// IPv6 (X at its header): the extension headers the decoder walks (eight
// at most), to ICMP or ICMPv6 (`icmp4`, `icmp6`, X at its header), GRE or
// UDP (when the exits take them); a fragment header, or anything else, goes
// to `own`.
void ipv6(Assembler& a, Assembler::Label icmp4, Assembler::Label icmp6, const Exits& to) {
    a.op(BPF_MISC | BPF_TXA);
    a.op(BPF_ST, kBase);
    datagram_end(a, 4, 40);  // the payload length
    a.op(kLdB, net(6));
    advance(a, 40);
    for (int e = 0; e < 8; ++e) {
        const Assembler::Label to_icmp6 = a.label(), to_icmp4 = a.label(), ext = a.label(), ah = a.label(),
                               next = a.label(), gre = a.label(), udp = a.label(), ipip = a.label(),
                               etherip = a.label();
        a.jeq(58, to_icmp6);
        a.jeq(1, to_icmp4);
        for (uint32_t h : {0u, 43u, 60u, 135u, 139u, 140u}) a.jeq(h, ext);
        a.jeq(51, ah);
        if (to.gre) a.jeq(47, gre);
        if (to.udp) a.jeq(17, udp);
        if (to.ipip) a.jeq(4, ipip);
        if (to.ipip) a.jeq(41, ipip);
        if (to.etherip) a.jeq(97, etherip);
        a.ja(to.own);
        a.bind(to_icmp6);
        a.ja(icmp6);
        a.bind(to_icmp4);
        a.ja(icmp4);
        a.bind(gre);
        if (to.gre) a.ja(*to.gre);
        a.bind(udp);
        if (to.udp) a.ja(*to.udp);
        a.bind(ipip);
        if (to.ipip) a.ja(*to.ipip);
        a.bind(etherip);
        if (to.etherip) a.ja(*to.etherip);
        for (const bool is_ah : {false, true}) {
            a.bind(is_ah ? ah : ext);
            a.op(kLdB, net(1));  // length: 8-octet units beyond the first 8, or AH's 4-octet units minus 2
            a.op(BPF_ALU | BPF_ADD | BPF_K, is_ah ? 2 : 1);
            a.op(BPF_ALU | BPF_LSH | BPF_K, is_ah ? 2 : 3);
            a.op(BPF_ST, kLen);
            a.op(kLdB, net(0));  // next header
            a.op(BPF_ST, kNext);
            a.op(BPF_LD | BPF_MEM, kLen);
            a.op(BPF_ALU | BPF_ADD | BPF_X);
            a.op(BPF_MISC | BPF_TAX);
            a.op(BPF_LD | BPF_MEM, kNext);
            a.ja(next);
        }
        a.bind(next);
    }
    a.ja(to.own);
}

// One IP layer, X at its header (`at` bound here): by the version, as the
// decoder goes.
void ip_layer(Assembler& a, Assembler::Label at, const Exits& to) {
    const Assembler::Label v4 = a.label(), v6 = a.label(), icmp4 = a.label(), icmp6 = a.label();
    a.bind(at);
    a.op(kLdB, net(0));
    a.op(BPF_ALU | BPF_RSH | BPF_K, 4);
    a.jeq(4, v4);
    a.jeq(6, v6);
    a.op(BPF_RET | BPF_K, 0);

    // IPv4: a fragment (more fragments, or an offset) by its own pair; so is
    // an ICMP message that is not an error (echo: its pair is its flow's).
    a.bind(v4);
    a.op(BPF_MISC | BPF_TXA);
    a.op(BPF_ST, kBase);
    datagram_end(a, 2, 0);  // the total length
    {
        const Assembler::Label own = a.label(), over4 = a.label(), over4_v6 = a.label(), gre = a.label(),
                               udp = a.label(), ipip = a.label(), etherip = a.label();
        a.op(kLdH, net(6));
        a.jset(0x3FFF, own);
        a.op(kLdB, net(9));
        a.jeq(1, over4);
        a.jeq(58, over4_v6);
        if (to.gre) a.jeq(47, gre);
        if (to.udp) a.jeq(17, udp);
        if (to.ipip) a.jeq(4, ipip);
        if (to.ipip) a.jeq(41, ipip);
        if (to.etherip) a.jeq(97, etherip);
        a.bind(own);
        a.ja(to.own);
        for (const auto& [here, there] :
             {std::pair{over4, std::optional{icmp4}}, std::pair{over4_v6, std::optional{icmp6}}, std::pair{gre, to.gre},
              std::pair{udp, to.udp}, std::pair{ipip, to.ipip}, std::pair{etherip, to.etherip}}) {
            a.bind(here);
            if (!there) continue;
            past_ipv4_header(a);
            a.ja(*there);
        }
    }

    a.bind(v6);
    ipv6(a, icmp4, icmp6, to);
    a.bind(icmp4);
    icmp(a, false, to);
    a.bind(icmp6);
    icmp(a, true, to);
}

// An MPLS label stack (X at its first entry), as decode's parse_mpls: eight
// entries at most to the one with the bottom-of-stack bit, then IPv4 or
// IPv6 to `inner_ip`, a pseudowire control word (first nibble 0) and an
// Ethernet frame to `inner_ether`; anything else to `own`.
void mpls(Assembler& a, Assembler::Label own, Assembler::Label inner_ip, Assembler::Label inner_ether) {
    const Assembler::Label bottom = a.label(), to_ip = a.label(), control_word = a.label();
    for (int entry = 0; entry < 8; ++entry) {
        a.op(kLdB, net(2));
        advance(a, 4);
        a.jset(0x01, bottom);
    }
    a.ja(own);
    a.bind(bottom);
    a.op(kLdB, net(0));
    a.op(BPF_ALU | BPF_RSH | BPF_K, 4);
    a.jeq(4, to_ip);
    a.jeq(6, to_ip);
    a.jeq(0, control_word);
    a.ja(own);
    a.bind(to_ip);
    a.ja(inner_ip);
    a.bind(control_word);
    advance(a, 4);
    a.ja(inner_ether);
}

// GRE (X at its header), as decode's parse_gre: IPv4 or IPv6 inside (also
// behind Cisco MetaData or a WCCP redirect header) to `inner_ip`, Ethernet (transparent bridging,
// ERSPAN types I, II and III) to
// `inner_ether`, with X at the inner header; anything else to `own`.
void gre(Assembler& a, Assembler::Label own, Assembler::Label inner_ip, Assembler::Label inner_ether) {
    a.op(kLdH, net(2));  // protocol type
    a.op(BPF_ST, kNext);
    a.op(kLdH, net(0));  // C, K, S and the version
    a.op(BPF_ST, kFlags);
    {
        const Assembler::Label v1 = a.label(), v0 = a.label();
        a.jset(0x7, v1);  // version 1 (PPTP): not decoded
        a.ja(v0);
        a.bind(v1);
        a.ja(own);
        a.bind(v0);
    }
    a.op(BPF_LD | BPF_IMM, 4);
    a.op(BPF_ST, kLen);
    for (uint32_t optional : {0x8000u, 0x2000u, 0x1000u}) {  // checksum, key, sequence number: 4 bytes each
        const Assembler::Label present = a.label(), next = a.label();
        a.op(BPF_LD | BPF_MEM, kFlags);
        a.jset(optional, present);
        a.ja(next);
        a.bind(present);
        a.op(BPF_LD | BPF_MEM, kLen);
        a.op(BPF_ALU | BPF_ADD | BPF_K, 4);
        a.op(BPF_ST, kLen);
        a.bind(next);
    }
    a.op(BPF_LD | BPF_MEM, kLen);
    a.op(BPF_ALU | BPF_ADD | BPF_X);
    a.op(BPF_MISC | BPF_TAX);
    const Assembler::Label erspan2 = a.label(), erspan3 = a.label(), metadata = a.label(), wccp = a.label(),
                           label_stack = a.label();
    a.op(BPF_LD | BPF_MEM, kNext);
    a.jeq(0x0800, inner_ip);
    a.jeq(0x86DD, inner_ip);
    a.jeq(0x6558, inner_ether);
    a.jeq(0x8847, label_stack);
    a.jeq(0x8848, label_stack);
    a.jeq(0x88BE, erspan2);
    a.jeq(0x22EB, erspan3);
    a.jeq(0x8909, metadata);
    a.jeq(0x883E, wccp);
    a.ja(own);
    a.bind(label_stack);  // MPLS in GRE (RFC 4023 §3)
    mpls(a, own, inner_ip, inner_ether);
    a.bind(wccp);  // WCCP: version 2's 4-byte redirect header unless an IPv4 header follows at once
    {
        const Assembler::Label ipv4_next = a.label();
        a.op(kLdB, net(0));
        a.op(BPF_ALU | BPF_AND | BPF_K, 0xF0);
        a.jeq(0x40, ipv4_next);
        advance(a, 4);
        a.bind(ipv4_next);
        a.ja(inner_ip);
    }
    a.bind(metadata);  // Cisco MetaData: the inner ethertype first, then 6 bytes, then IP
    {
        const Assembler::Label to_ip = a.label();
        a.op(kLdH, net(0));
        advance(a, 8);
        a.jeq(0x0800, to_ip);
        a.jeq(0x86DD, to_ip);
        a.ja(own);
        a.bind(to_ip);
        a.ja(inner_ip);
    }
    a.bind(erspan2);  // type II has the sequence number and an 8-byte header; type I neither
    {
        const Assembler::Label type2 = a.label();
        a.op(BPF_LD | BPF_MEM, kFlags);
        a.jset(0x1000, type2);
        a.ja(inner_ether);
        a.bind(type2);
        advance(a, 8);
        a.ja(inner_ether);
    }
    a.bind(erspan3);  // 12 bytes, 8 more when O (the last byte's low bit) says a subheader follows
    {
        const Assembler::Label subheader = a.label();
        a.op(kLdB, net(11));
        a.jset(0x01, subheader);
        advance(a, 12);
        a.ja(inner_ether);
        a.bind(subheader);
        advance(a, 20);
        a.ja(inner_ether);
    }
}

// UDP (X at its header), as decode's parse_transport takes a tunnel by its
// destination port, to the inner packet with X at it; anything else to
// `own`:
// - 4789, a payload of a VXLAN header and an Ethernet header at least (by
//   the UDP length), the I flag set and the last byte clear: VXLAN, to
//   `inner_ether`;
// - 4754, a payload of 24 bytes at least, GRE's routing, reserved and
//   version bits clear and a protocol GRE in UDP carries: to `gre` (X at the
//   GRE header);
// - 4790, a payload of 28 bytes at least, P set, version 0 and the last
//   byte clear: VXLAN-GPE, next protocol 1 or 2 to `inner_ip`, 3 to
//   `inner_ether` (MPLS and the rest to `own`).
// AYIYA, Teredo and MPLS in UDP are not walked (see fanout.hpp).
void udp_tunnels(Assembler& a, Assembler::Label own, Assembler::Label inner_ip, Assembler::Label inner_ether,
                 Assembler::Label gre) {
    const Assembler::Label vxlan = a.label(), gre_udp = a.label(), gpe = a.label();
    a.op(kLdH, net(2));
    a.jeq(4789, vxlan);
    a.jeq(4754, gre_udp);
    a.jeq(4790, gpe);
    a.ja(own);

    // The UDP length is at least `n` bytes (0 is a jumbogram's, elsewhere no
    // datagram to the decoder): on to the next instruction, else to `own`.
    const auto at_least = [&](uint32_t n) {
        const Assembler::Label long_enough = a.label();
        a.op(kLdH, net(4));
        a.jge(n, long_enough);
        a.jeq(0, long_enough);
        a.ja(own);
        a.bind(long_enough);
    };
    // A equals `k`, or the bits of `mask` in A are set (clear): on to the
    // next instruction, else to `own`.
    const auto only_if_eq = [&](uint32_t k) {
        const Assembler::Label yes = a.label();
        a.jeq(k, yes);
        a.ja(own);
        a.bind(yes);
    };
    const auto only_if_set = [&](uint32_t mask) {
        const Assembler::Label yes = a.label();
        a.jset(mask, yes);
        a.ja(own);
        a.bind(yes);
    };
    const auto only_if_clear = [&](uint32_t mask) {
        const Assembler::Label set = a.label(), clear = a.label();
        a.jset(mask, set);
        a.ja(clear);
        a.bind(set);
        a.ja(own);
        a.bind(clear);
    };

    a.bind(vxlan);
    at_least(8 + 8 + 14);
    a.op(kLdB, net(8));
    only_if_set(0x08);
    a.op(kLdB, net(15));
    only_if_eq(0);
    advance(a, 16);
    a.ja(inner_ether);

    a.bind(gre_udp);
    {
        const Assembler::Label carried = a.label();
        at_least(8 + 4 + 20);
        a.op(kLdH, net(8));
        only_if_clear(0x4FFF);
        a.op(kLdH, net(10));
        for (uint32_t proto : {0x0800u, 0x86DDu, 0x6558u, 0x8847u, 0x8848u, 0x88BEu, 0x22EBu}) a.jeq(proto, carried);
        a.ja(own);
        a.bind(carried);
        advance(a, 8);
        a.ja(gre);
    }

    a.bind(gpe);
    {
        const Assembler::Label to_ip = a.label(), to_ether = a.label();
        at_least(8 + 8 + 20);
        a.op(kLdB, net(8));
        a.op(BPF_ALU | BPF_AND | BPF_K, 0x34);
        only_if_eq(0x04);
        a.op(kLdB, net(15));
        only_if_eq(0);
        a.op(kLdB, net(11));
        a.jeq(1, to_ip);
        a.jeq(2, to_ip);
        a.jeq(3, to_ether);
        a.ja(own);
        a.bind(to_ip);
        advance(a, 16);
        a.ja(inner_ip);
        a.bind(to_ether);
        advance(a, 16);
        a.ja(inner_ether);
    }
}

std::vector<sock_filter> build() {
    Assembler a;
    const Assembler::Label ip = a.label(), quote = a.label(), own = a.label(), pair4 = a.label(), pair6 = a.label(),
                           mix = a.label(), tunnel_gre = a.label(), tunnel_udp = a.label(), tunnel_ipip = a.label(),
                           tunnel_etherip = a.label(), inner_ether = a.label(), inner_ip = a.label();
    link_layer(a, ip);
    ip_layer(a, ip, Exits{quote, own, tunnel_gre, tunnel_udp, tunnel_ipip, tunnel_etherip});

    // Through a tunnel: the inner packet's layers, as the decoder takes the
    // inner packet in the outer one's place. UDP first: GRE in UDP goes on
    // to GRE's code, and classic BPF jumps forward only.
    a.bind(tunnel_udp);
    udp_tunnels(a, own, inner_ip, inner_ether, tunnel_gre);
    a.bind(tunnel_gre);
    gre(a, own, inner_ip, inner_ether);
    a.bind(tunnel_ipip);  // X at the inner IP header already
    a.ja(inner_ip);
    a.bind(tunnel_etherip);  // a 2-byte EtherIP header, then an Ethernet frame
    advance(a, 2);
    a.ja(inner_ether);
    a.bind(inner_ether);  // the ethertype 12 bytes in; the kernel has taken no tag out of an inner frame
    a.op(kLdH, net(12));
    advance(a, 14);
    tags_and_pppoe(a, 4, inner_ip);
    ip_layer(a, inner_ip, Exits{quote, own, std::nullopt, std::nullopt, std::nullopt, std::nullopt});

    // An error (X at its ICMP header): the pair of the IPv4 or IPv6 header
    // it quotes, 8 bytes in; by its own IP header's pair if the quote shows
    // neither, or its addresses do not end within the error's datagram (the
    // decoder then finds no quote).
    a.bind(quote);
    {
        // Whether `quoted_header` bytes after the ICMP header fit in the
        // datagram: on to the next instruction, else to `own`.
        const auto fits = [&](uint32_t quoted_header) {
            a.op(BPF_LD | BPF_MEM, kKeep);
            a.op(BPF_ALU | BPF_ADD | BPF_K, 8 + quoted_header);
            a.op(BPF_LDX | BPF_MEM, kEnd);
            a.jgt_x(own);
            a.op(BPF_LDX | BPF_MEM, kKeep);
        };
        const Assembler::Label q4 = a.label(), q6 = a.label();
        a.op(BPF_MISC | BPF_TXA);
        a.op(BPF_ST, kKeep);
        fits(20);  // an IPv4 header's addresses at least, before reading its version
        a.op(kLdB, net(8));
        a.op(BPF_ALU | BPF_RSH | BPF_K, 4);
        a.jeq(4, q4);
        a.jeq(6, q6);
        a.ja(own);
        a.bind(q6);
        fits(40);
        a.bind(q4);
        advance(a, 8);
        a.op(BPF_MISC | BPF_TXA);
        a.op(BPF_ST, kBase);  // the quoted header's pair, by its version, below
    }

    a.bind(own);  // the pair of the IP header at M[kBase]
    a.op(BPF_LDX | BPF_MEM, kBase);
    a.op(kLdB, net(0));
    a.op(BPF_ALU | BPF_RSH | BPF_K, 4);
    a.jeq(6, pair6);

    // Symmetric: the exclusive or of the two addresses' words.
    a.bind(pair4);
    a.op(kLdW, net(12));
    a.op(BPF_ST, kHash);
    xor_word(a, 16);
    a.ja(mix);
    a.bind(pair6);
    a.op(kLdW, net(8));
    a.op(BPF_ST, kHash);
    for (uint32_t off = 12; off < 40; off += 4) xor_word(a, off);

    // Mixed so every bit counts modulo any group size.
    a.bind(mix);
    for (int round = 0; round < 3; ++round) {
        a.op(BPF_ST, kHash);
        a.op(BPF_ALU | BPF_RSH | BPF_K, 16);
        a.op(BPF_LDX | BPF_MEM, kHash);
        a.op(BPF_ALU | BPF_XOR | BPF_X);
        if (round < 2) a.op(BPF_ALU | BPF_MUL | BPF_K, 0x045D9F3B);
    }
    a.op(BPF_RET | BPF_A);
    return a.finish();
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Joins `fd` to fanout group `id`, or to a new group running the program
// when `id` is empty; the group's id, or nullopt and `why`.
std::optional<uint32_t> join(int fd, std::optional<uint32_t> id, std::string& why) {
    const uint32_t type = PACKET_FANOUT_CBPF | (id ? 0 : PACKET_FANOUT_FLAG_UNIQUEID);  // flags: the high byte
    const uint32_t arg = id.value_or(0) | type << 16;
    if (::setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) {
        why = errno_text("PACKET_FANOUT");
        return std::nullopt;
    }
    if (id) return id;
    uint32_t got = 0;
    socklen_t len = sizeof got;
    if (::getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &got, &len) != 0) {
        why = errno_text("PACKET_FANOUT (reading the group's id)");
        return std::nullopt;
    }
    const std::vector<sock_filter>& prog = fanout_program();
    sock_fprog fprog{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
    if (::setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &fprog, sizeof fprog) != 0) {
        why = errno_text("PACKET_FANOUT_DATA");
        return std::nullopt;
    }
    return got & 0xFFFF;
}

// Reads and drops what the sources hold, until none has had anything for
// longer than a TPACKET_V3 block's timeout (`quiet_ms`), or `max_ms` have passed.
void discard(const std::vector<std::unique_ptr<PcapSource>>& sources, int quiet_ms, int max_ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
    std::vector<pollfd> fds;
    for (const auto& s : sources) fds.push_back(pollfd{s->selectable_fd(), POLLIN, 0});
    RawFrame f;
    while (std::chrono::steady_clock::now() < end) {
        for (pollfd& p : fds) p.revents = 0;
        if (::poll(fds.data(), fds.size(), quiet_ms) <= 0) return;
        for (const auto& s : sources)
            while (s->next(f) == NextStatus::Frame) {}
    }
}

}  // namespace

const std::vector<sock_filter>& fanout_program() {
    static const std::vector<sock_filter> program = build();
    return program;
}

std::vector<std::unique_ptr<PcapSource>> open_fanout(const LiveOptions& options, int sockets) {
    LiveOptions closed = options;
    closed.filter = "less 1";  // no frame is that short: nothing, until every socket has joined
    std::vector<std::unique_ptr<PcapSource>> out;
    for (int i = 0; i < sockets; ++i) {
        out.push_back(PcapSource::open_live(closed));
        out.back()->set_nonblocking();
    }
    std::optional<uint32_t> id;
    for (auto& s : out) {
        std::string why;
        id = join(s->selectable_fd(), id, why);
        if (!id)
            throw CaptureError(CaptureErrorKind::FanoutRefused,
                               options.interface + ": cannot split the capture across sockets (" + why + ")");
    }
    // A socket saw every packet between its opening and its filter: dropped
    // with whatever else it holds from before it joined (its last block is
    // handed over after the read timeout).
    discard(out, options.read_timeout_ms + 50, 2000);
    for (auto& s : out) s->set_filter(options.filter, PcapSource::FilterSwap::Drain);  // "" passes everything
    return out;
}

}  // namespace callwall::capture
