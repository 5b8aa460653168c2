// A model of how the kernel runs a PACKET_FANOUT_CBPF program on a frame,
// for the tests and the fuzz target of capture/fanout.* (no GoogleTest
// here: unit/capture/cbpf_model.hpp wraps it for the tests): the frame as the kernel holds it when
// fanout picks a socket (link header pulled, one VLAN tag taken out into the
// packet's metadata, skb->protocol the ethertype behind it), and a classic
// BPF interpreter with the loads the program uses — relative to the network
// header (SKF_NET_OFF) and the ancillary protocol (SKF_AD_PROTOCOL). A load
// past the end ends the program with 0, as in the kernel. The netns test
// checks this model against the kernel itself.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bytes/reader.hpp"
#include "decode/packet.hpp"

namespace callwall::test {

/// What the program sees of a frame: the bytes from the network header on,
/// and the ethertype the kernel keeps beside them.
struct KernelView {
    ByteView net;
    uint32_t protocol = 0;
};

inline uint16_t be16_at(ByteView b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

/// The kernel's view of a captured frame of `linktype`; nullopt for a link
/// type the model does not know or a frame too short for its link header.
inline std::optional<KernelView> kernel_view(uint32_t linktype, ByteView frame) {
    KernelView v;
    size_t net = 0;
    const auto by_version = [&](size_t at) -> std::optional<KernelView> {
        if (frame.size() <= at) return std::nullopt;
        const uint8_t version = frame[at] >> 4;
        v.protocol = version == 4 ? 0x0800 : version == 6 ? 0x86DD : 0;
        v.net = frame.subspan(at);
        return v;
    };
    switch (linktype) {
        case 1: net = 14; break;  // Ethernet
        case 113:  // Linux cooked (SLL)
            if (frame.size() < 16) return std::nullopt;
            v.protocol = be16_at(frame, 14);
            net = 16;
            break;
        case 276:  // SLL2
            if (frame.size() < 20) return std::nullopt;
            v.protocol = be16_at(frame, 0);
            net = 20;
            break;
        case 101:
        case 12:
        case 14:
        case 228:
        case 229: return by_version(0);  // raw IP
        case 0:
        case 108: return by_version(4);  // BSD loopback
        default: return std::nullopt;
    }
    if (frame.size() < net) return std::nullopt;
    if (linktype == 1) v.protocol = be16_at(frame, 12);
    if ((v.protocol == 0x8100 || v.protocol == 0x88A8) && frame.size() >= net + 4) {
        v.protocol = be16_at(frame, net + 2);  // the tag the kernel takes out
        net += 4;
    }
    v.net = frame.subspan(net);
    return v;
}

/// The hash the fanout program is meant to return for an unordered address
/// pair (`len` bytes each, 4 or 16): the exclusive or of the addresses'
/// 32-bit words (network order), mixed.
inline uint32_t pair_hash(const uint8_t* a, const uint8_t* b, size_t len) {
    uint32_t h = 0;
    for (size_t i = 0; i < len; i += 4) {
        h ^= uint32_t{a[i]} << 24 | uint32_t{a[i + 1]} << 16 | uint32_t{a[i + 2]} << 8 | a[i + 3];
        h ^= uint32_t{b[i]} << 24 | uint32_t{b[i + 1]} << 16 | uint32_t{b[i + 2]} << 8 | b[i + 3];
    }
    for (int round = 0; round < 3; ++round) {
        h ^= h >> 16;
        if (round < 2) h *= 0x045D9F3B;
    }
    return h;
}

/// pair_hash of two decoded addresses (of one family).
inline uint32_t pair_hash(const decode::IpAddr& a, const decode::IpAddr& b) {
    return pair_hash(a.bytes.data(), b.bytes.data(), a.family == 6 ? 16 : 4);
}

/// Runs `prog` on `v`: the value returned (0 when a load falls outside the
/// packet); nullopt, with `fault`, for an instruction or a load the model
/// does not know, or a program that runs off its end.
inline std::optional<uint32_t> try_run_cbpf(const std::vector<sock_filter>& prog, const KernelView& v,
                                            std::string& fault) {
    uint32_t a = 0, x = 0, m[BPF_MEMWORDS] = {};
    const auto load = [&](int32_t k, uint32_t size, uint32_t& out) {
        if (k < SKF_NET_OFF || k >= SKF_AD_OFF) {
            fault = "load at " + std::to_string(k) + " is not relative to the network header";
            return false;
        }
        const size_t off = static_cast<size_t>(k - SKF_NET_OFF);
        if (off + size > v.net.size()) return false;
        out = 0;
        for (uint32_t i = 0; i < size; ++i) out = out << 8 | v.net[off + i];
        return true;
    };
    for (size_t pc = 0; pc < prog.size(); ++pc) {
        const sock_filter& i = prog[pc];
        const uint32_t src = BPF_SRC(i.code) == BPF_X ? x : i.k;
        switch (BPF_CLASS(i.code)) {
            case BPF_LD: {
                const uint32_t size = BPF_SIZE(i.code) == BPF_W ? 4 : BPF_SIZE(i.code) == BPF_H ? 2 : 1;
                switch (BPF_MODE(i.code)) {
                    case BPF_IMM: a = i.k; break;
                    case BPF_MEM: a = m[i.k]; break;
                    case BPF_ABS:
                        if (static_cast<int32_t>(i.k) == SKF_AD_OFF + SKF_AD_PROTOCOL) {
                            a = v.protocol;
                            break;
                        }
                        if (!load(static_cast<int32_t>(i.k), size, a))
                            return fault.empty() ? 0u : std::optional<uint32_t>();
                        break;
                    case BPF_IND:
                        if (!load(static_cast<int32_t>(x + i.k), size, a))
                            return fault.empty() ? 0u : std::optional<uint32_t>();
                        break;
                    default: fault = "load mode  " + std::to_string(i.code); return std::nullopt;
                }
                break;
            }
            case BPF_LDX:
                if (BPF_MODE(i.code) == BPF_IMM) {
                    x = i.k;
                } else if (BPF_MODE(i.code) == BPF_MEM) {
                    x = m[i.k];
                } else {
                    fault = "ldx mode " + std::to_string(i.code);
                    return std::nullopt;
                }
                break;
            case BPF_ST: m[i.k] = a; break;
            case BPF_STX: m[i.k] = x; break;
            case BPF_ALU:
                switch (BPF_OP(i.code)) {
                    case BPF_ADD: a += src; break;
                    case BPF_SUB: a -= src; break;
                    case BPF_MUL: a *= src; break;
                    case BPF_AND: a &= src; break;
                    case BPF_OR: a |= src; break;
                    case BPF_XOR: a ^= src; break;
                    case BPF_LSH: a = src < 32 ? a << src : 0; break;
                    case BPF_RSH: a = src < 32 ? a >> src : 0; break;
                    default: fault = "alu op  " + std::to_string(i.code); return std::nullopt;
                }
                break;
            case BPF_JMP:
                switch (BPF_OP(i.code)) {
                    case BPF_JA: pc += i.k; break;
                    case BPF_JEQ: pc += a == src ? i.jt : i.jf; break;
                    case BPF_JGT: pc += a > src ? i.jt : i.jf; break;
                    case BPF_JGE: pc += a >= src ? i.jt : i.jf; break;
                    case BPF_JSET: pc += (a & src) ? i.jt : i.jf; break;
                    default: fault = "jump op  " + std::to_string(i.code); return std::nullopt;
                }
                break;
            case BPF_RET: return BPF_RVAL(i.code) == BPF_A ? a : i.k;
            case BPF_MISC:
                if (BPF_MISCOP(i.code) == BPF_TAX)
                    x = a;
                else
                    a = x;
                break;
            default: fault = "class  " + std::to_string(i.code); return std::nullopt;
        }
    }
    fault = "the program ran off its end";
    return std::nullopt;
}

}  // namespace callwall::test
