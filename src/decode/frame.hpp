// One frame as a packet source hands it to the packet path: its capture
// time, link type, lengths and bytes. The sources (capture/) make them; the
// packet path (pipeline/) takes them.
#pragma once

#include <cstdint>

#include "bytes/reader.hpp"

namespace callwall::decode {

/// One frame as read. `bytes` is borrowed until the source's next read.
struct RawFrame {
    int64_t ts_us = 0;
    uint32_t linktype = 0;
    uint32_t caplen = 0;
    uint32_t wirelen = 0;
    ByteView bytes{};
    /// Which of the capture's interfaces saw it: a pcapng file's interface
    /// id, a live run's source in the order given (-i); 0 for a pcap file.
    uint16_t interface = 0;
};

}  // namespace callwall::decode
