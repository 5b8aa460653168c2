// libFuzzer target: TCP in-order delivery, frame resynchronisation and proxy
// preambles (pipeline/tcp_reassembly.hpp, pipeline/proxy_preamble.hpp). The
// input is a list of segments (2-byte sequence offset, 1-byte length, bytes);
// delivered bytes must be contiguous in sequence space (gaps included), and
// every frame probe and preamble parser runs over each delivered chunk.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "pipeline/proxy_preamble.hpp"
#include "pipeline/tcp_reassembly.hpp"

namespace {
namespace cp = callwall::pipeline;

struct CheckingSink final : cp::TcpSink {
    uint32_t expect = 0;
    bool started = false;
    void bytes(uint32_t seq, callwall::ByteView d, int64_t) override {
        if (started && seq != expect) std::abort();  // out of order or overlapping delivery
        started = true;
        expect = seq + static_cast<uint32_t>(d.size());
        for (auto k : {cp::FrameSync::StunDirect, cp::FrameSync::Rfc4571, cp::FrameSync::Dns})
            if (cp::find_resync(k, d) > d.size()) std::abort();
        for (auto k : {cp::proxy::Kind::Socks4, cp::proxy::Kind::Socks5, cp::proxy::Kind::HttpConnect}) {
            const auto a = cp::proxy::parse_request(k, d), b = cp::proxy::parse_reply(k, d);
            if (a.length > d.size() || b.length > d.size()) std::abort();
        }
    }
    void gap(uint32_t lost) override { expect += lost; }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const callwall::ByteView all(data, size);
    (void)cp::proxy::probe(all);
    static auto store = std::make_unique<cp::TcpOooStore>();
    store->reset();
    cp::TcpReassembler r;
    CheckingSink sink;
    r.anchor_syn(0xFFFFF000u);  // wraps within the input's reach
    int64_t ts = 0;
    size_t off = 0;
    while (off + 3 <= size) {
        const uint32_t seq = 0xFFFFF001u + ((uint32_t{data[off]} << 8 | data[off + 1]) << 2);
        const size_t n = std::min<size_t>(data[off + 2], size - off - 3);
        off += 3;
        ts += 100'000;
        // The last byte of the length selects a snaplen cut or a missing store.
        const uint32_t wire = static_cast<uint32_t>(n) + (data[off - 1] % 7 == 0 ? 5 : 0);
        r.add(seq, callwall::ByteView(data + off, n), wire, ts, data[off - 1] % 11 == 0 ? nullptr : store.get(), sink);
        off += n;
    }
    r.flush(store.get(), sink);
    if (!store->empty()) std::abort();
    return 0;
}
