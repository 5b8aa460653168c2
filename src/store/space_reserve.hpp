// Room kept on the database's disk for a run's last word. When the disk fills
// mid-run, the run's row must still say so ("stopped: the disk is full")
// rather than stay 'running', which a reader could only guess at. The room is
// a small file of callwall's own beside the database, allocated when the run
// begins and removed when the disk fills (so the status write fits) and when
// the writer closes.
#pragma once

#include <cstddef>
#include <string>

namespace callwall::store {

class SpaceReserve {
public:
    /// Enough for the run row's last update and its commit in the WAL, with
    /// room to spare (a few 4 KiB pages).
    static constexpr size_t kBytes = 64 * 1024;
    /// The file's name beside database `db`.
    static std::string path_for(const std::string& db) { return db + "-callwall-reserve"; }

    SpaceReserve() = default;
    ~SpaceReserve() { release(); }
    SpaceReserve(const SpaceReserve&) = delete;
    SpaceReserve& operator=(const SpaceReserve&) = delete;

    /// Allocates the room beside `db` (once; a disk already too full for it
    /// gets none, and the run goes on without).
    void hold(const std::string& db) noexcept;
    /// Gives the room back to the file system; true when there was any.
    bool release() noexcept;

private:
    std::string path_;
};

}  // namespace callwall::store
