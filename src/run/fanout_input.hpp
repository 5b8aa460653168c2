// What a sharded run needs besides the packet path's configuration: the
// readers of a live capture's PACKET_FANOUT group, which its decoding
// workers read themselves, and the vendor addresses collector the workers
// feed (run/shards/shards.hpp takes both; run/read_loop.hpp owns the readers).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace callwall::capture {
class LiveReader;
}  // namespace callwall::capture

namespace callwall::run {

class VendorAddresses;

/// Live capture with several workers (capture --workers N): each reads the
/// sockets the kernel splits the interfaces across (capture/fanout.hpp)
/// itself, worker i from `readers[i]`. Owned by the command; outlives the
/// runs, which read on from where the run before stopped.
struct FanoutInput {
    std::vector<capture::LiveReader*> readers;
    /// --count: frames taken by every worker of every run so far; a worker
    /// takes no frame once it reaches `limit` (0: no limit).
    std::atomic<uint64_t>* taken = nullptr;
    uint64_t limit = 0;
};

/// A sharded run's inputs beyond pipeline::AnalyzerConfig (none owned).
struct ShardInputs {
    /// Live capture with workers reading a PACKET_FANOUT group (null: none):
    /// the run's `workers` must be its readers' number. The reading thread's
    /// Analyzer is then not given frames: the workers read, and the totals
    /// come from them at every refresh and at the end.
    const FanoutInput* fanout = nullptr;
    /// The vendor addresses collector (live capture with the catalog's
    /// filter; null: none). Each worker collects into its own and the run's
    /// gets what they found at every refresh and at the end. (One thread
    /// decoding takes it as the AnalyzerConfig's extra_sink instead.)
    VendorAddresses* vendor_addresses = nullptr;
};

}  // namespace callwall::run
