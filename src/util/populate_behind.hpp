// Fresh memory first touched on a thread of its own.
//
// The first touch of a page is a fault, and the kernel zeroes the page right
// there. In a virtual machine that is dear, and in a busy run the decoding
// thread spent a tenth of its time zeroing the huge pages its flow-sized
// arrays grew into (docs/performance.md)
// (the flow table's slab, the dissectors' per-flow state, the kept flows'
// records). Those arrays now grow in place into memory reserved up front,
// and ask for the part they will grow into next to be populated here
// (madvise MADV_POPULATE_WRITE: faulted in writable, contents untouched), so
// that with a second core the decoding thread finds it mapped.
//
// Only while a PopulateBehind lives (run::Session makes one when the run has
// a second core); otherwise, and where the kernel cannot (before Linux 5.14),
// requests are ignored and pages fault where they are first touched, as
// before. The queue is bounded: a request that does not fit is dropped.
#pragma once

#include <cstddef>
#include <memory>

namespace callwall::util {

class PopulateBehind {
public:
    /// Starts the thread; requests go to it while this object lives. One at
    /// a time per process: a second one starts no thread and takes no requests.
    PopulateBehind();
    ~PopulateBehind();  ///< drops what is queued, waits for the thread
    PopulateBehind(const PopulateBehind&) = delete;
    PopulateBehind& operator=(const PopulateBehind&) = delete;

    /// True while one lives and the kernel populates.
    [[nodiscard]] static bool active() noexcept;
    /// Asks for [p, p + len) (memory mapped readable and writable) to be populated.
    static void request(const void* p, size_t len) noexcept;
    /// Before [p, p + len) is unmapped: drops the requests inside it and
    /// waits for the one being populated there, if any.
    static void forget(const void* p, size_t len) noexcept;
    /// Bytes populated by the live one so far (tests).
    [[nodiscard]] static size_t populated() noexcept;
    /// Waits until the queue is empty (tests).
    static void drain() noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace callwall::util
