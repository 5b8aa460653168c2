// libFuzzer target: TLS probe and stateless decoders, then both assemblers fed the input as
// three segments (cut points from the first two bytes) in the order 3, 1, 2, 1 (retransmit),
// as a first flight and as a second one (after a HelloRetryRequest: a ChangeCipherSpec may
// lead); a finished flight's next sequence number lies within what it was fed.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "proto/tls.hpp"

using namespace callwall;
using namespace callwall::proto::tls;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in{data, size};
    (void)probe(in);
    (void)decode_client_hello(in);
    (void)decode_server_hello(in);
    (void)decode_record_stream(in);
    (void)decode_server_flight(in);
    static std::vector<uint8_t> client_buffer(kMinFlightBuffer), server_buffer(kMinFlightBuffer);
    const size_t a = size < 2 ? 0 : data[0] * size / 256, b = size < 2 ? 0 : data[1] * size / 256;
    const size_t lo = a < b ? a : b, hi = a < b ? b : a;
    const uint32_t isn = 0xFFFFFFF0u;  // crosses 2^32 after 15 bytes
    for (const bool second : {false, true}) {
        ClientHelloAssembler c(client_buffer);
        ServerFlightAssembler s(server_buffer);
        for (FlightAssembler* f : {static_cast<FlightAssembler*>(&c), static_cast<FlightAssembler*>(&s)}) {
            if (second)
                f->start_second_flight(isn + 1);
            else
                f->anchor_syn(isn);
            (void)f->add_segment(isn + 1 + static_cast<uint32_t>(hi), in.subspan(hi));
            (void)f->add_segment(isn + 1, in.first(lo));
            (void)f->add_segment(isn + 1 + static_cast<uint32_t>(lo), in.subspan(lo, hi - lo));
            (void)f->add_segment(isn + 1, in.first(hi));
            uint32_t next = 0;
            if (f->next_flight_seq(next) && next - (isn + 1) > size) __builtin_trap();
        }
        if (const auto r = c.client_hello(); r.ok() && r->length > kMinFlightBuffer) __builtin_trap();
        (void)s.server_flight();
    }
    return 0;
}
