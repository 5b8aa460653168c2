// A capture file read through a memory map. See capture/mapped_file.hpp.
#include "capture/mapped_file.hpp"

#include "util/huge_pages.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>

namespace callwall::capture {
namespace {

// The maps the SIGBUS handler may repair. The handler only loads these
// atomics (lock-free, so safe in a signal handler); open and close claim and
// free entries under a mutex.
struct Region {
    std::atomic<uintptr_t> begin{0};
    std::atomic<uintptr_t> end{0};
    std::atomic<bool> shrank{false};
};
static_assert(std::atomic<uintptr_t>::is_always_lock_free);
static_assert(std::atomic<bool>::is_always_lock_free);

constexpr int kRegions = MappedFile::kMaxMaps;
Region g_regions[kRegions];
std::mutex g_regions_mu;
uintptr_t g_page_size = 4096;
struct sigaction g_previous {};

void on_sigbus(int, siginfo_t* info, void*) {
    // A SIGBUS sent with kill() or sigqueue() is not a fault: nothing to repair.
    if (info->si_code > 0) {
        const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
        for (auto& r : g_regions) {
            const uintptr_t begin = r.begin.load(std::memory_order_acquire);
            if (begin == 0 || addr < begin || addr >= r.end.load(std::memory_order_acquire)) continue;
            // A page of the file that is gone: a private zero page takes its
            // place, the read that faulted finishes, and its caller sees the flag.
            void* page = reinterpret_cast<void*>(addr & ~(g_page_size - 1));
            if (mmap(page, g_page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
                r.shrank.store(true, std::memory_order_relaxed);
                return;
            }
            break;
        }
    }
    // Not ours: the disposition before ours takes it. A fault repeats when the
    // instruction runs again; a sent signal is raised again (blocked until we return).
    sigaction(SIGBUS, &g_previous, nullptr);
    if (info->si_code <= 0) raise(SIGBUS);
}

bool install_handler() noexcept {
    static const bool installed = [] {
        g_page_size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
        struct sigaction sa {};
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        return sigaction(SIGBUS, &sa, &g_previous) == 0;
    }();
    return installed;
}

int claim_region(const void* base, uint64_t size) noexcept {
    std::lock_guard<std::mutex> lk(g_regions_mu);
    for (int i = 0; i < kRegions; ++i) {
        Region& r = g_regions[i];
        if (r.begin.load(std::memory_order_relaxed) != 0) continue;
        r.shrank.store(false, std::memory_order_relaxed);
        r.end.store(reinterpret_cast<uintptr_t>(base) + size, std::memory_order_release);
        r.begin.store(reinterpret_cast<uintptr_t>(base), std::memory_order_release);
        return i;
    }
    return -1;
}

void free_region(int i) noexcept {
    std::lock_guard<std::mutex> lk(g_regions_mu);
    g_regions[i].begin.store(0, std::memory_order_release);
    g_regions[i].end.store(0, std::memory_order_release);
}

// stdio's buffer for the stream: each refill is one call of read_cookie.
constexpr size_t kStreamBuffer = 64 * 1024;

}  // namespace

std::unique_ptr<MappedFile> MappedFile::open(const std::string& path) noexcept {
    // Only a regular file is opened here: opening a FIFO would wait for, and
    // then cut off, its writer. O_NONBLOCK for one swapped in since the stat.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return nullptr;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || !install_handler()) {
        ::close(fd);
        return nullptr;
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    void* base = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) {
        ::close(fd);
        return nullptr;
    }
    std::unique_ptr<MappedFile> m(new (std::nothrow) MappedFile());
    if (!m) {
        munmap(base, size);
        ::close(fd);
        return nullptr;
    }
    m->base_ = static_cast<const uint8_t*>(base);
    m->size_ = size;
    m->fd_ = fd;  // kept for read_at(); closed with the map
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);  // a hint, failure is harmless
    m->slot_ = claim_region(base, size);
    if (m->slot_ < 0) return nullptr;  // every entry taken: the destructor unmaps
    m->shrank_ = &g_regions[m->slot_].shrank;
    madvise(base, size, MADV_SEQUENTIAL);  // read ahead of us; a hint, failure is harmless
    return m;
}

MappedFile::~MappedFile() {
    // The table entry goes first: from then on a fault in this range is not
    // ours, and the range is unmapped only after.
    if (slot_ >= 0) free_region(slot_);
    munmap(const_cast<uint8_t*>(base_), size_);
    if (fd_ >= 0) ::close(fd_);
}

ssize_t MappedFile::read_at(uint8_t* buf, size_t n, uint64_t offset) const noexcept {
    size_t got = 0;
    while (got < n) {
        const ssize_t r = ::pread(fd_, buf + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;  // the file's end
        got += static_cast<size_t>(r);
    }
    return static_cast<ssize_t>(got);
}

FILE* MappedFile::stream() noexcept {
    const cookie_io_functions_t io{&MappedFile::read_cookie, nullptr, nullptr, &MappedFile::close_cookie};
    FILE* f = fopencookie(this, "r", io);
    if (f) setvbuf(f, nullptr, _IOFBF, kStreamBuffer);
    return f;
}

ssize_t MappedFile::read_cookie(void* self, char* buf, size_t n) noexcept {
    return static_cast<MappedFile*>(self)->read(buf, n);
}

int MappedFile::close_cookie(void*) noexcept { return 0; }  // the map belongs to the MappedFile

ssize_t MappedFile::read(char* buf, size_t n) noexcept {
    if (shrank()) {
        errno = EIO;
        return -1;
    }
    n = static_cast<size_t>(std::min<uint64_t>(n, size_ - pos_));
    std::memcpy(buf, base_ + pos_, n);
    // The flag is set by the signal handler during the copy, on this thread:
    // the load must not be moved above it.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (shrank()) {
        errno = EIO;
        return -1;
    }
    pos_ += n;
    consumed(pos_);
    return static_cast<ssize_t>(n);
}

void MappedFile::populate_ahead(uint64_t pos) noexcept {
    if (pos + kReleaseWindow / 2 > populated_ && populated_ < size_) {
        // The next window's pages are mapped ahead, half a window per call,
        // instead of one page fault per fault-around (64 KiB): faults are
        // costly, in a virtual machine most of all. A kernel without it (before 5.14)
        // refuses the call and the pages fault in as before.
        const uint64_t upto = std::min(size_, (pos + kReleaseWindow) & ~uint64_t{g_page_size - 1});
        if (upto > populated_) madvise(const_cast<uint8_t*>(base_) + populated_, upto - populated_, MADV_POPULATE_READ);
        populated_ = std::max(populated_, upto);
    }
}

void MappedFile::release_before(uint64_t pos) noexcept {
    if (pos <= released_ || pos - released_ < kReleaseWindow) return;
    // Drops this process's mapping of the pages read (the page cache keeps
    // them): resident memory stays near the window, however big the file.
    // Up to a 2 MiB boundary of the address space: where the page cache
    // holds the file in huge folios (as after reading it from disk), the
    // kernel maps each with one page-table entry, and dropping part of one
    // first splits it into 512 (counted as thp_split_pmd in /proc/vmstat);
    // a whole one is dropped at once.
    const auto base = reinterpret_cast<uintptr_t>(base_);
    const uintptr_t end = (base + std::min(pos, size_)) & ~uintptr_t{util::kHugePage - 1};
    if (end <= base + released_) return;
    const uint64_t upto = end - base;
    madvise(const_cast<uint8_t*>(base_) + released_, upto - released_, MADV_DONTNEED);
    released_ = upto;
}

}  // namespace callwall::capture
