// Bounds-checked reading of untrusted packet bytes.
//
// ByteView and Reader are the only code in callwall that turns packet bytes
// into integers. Packet data is unaligned and big-endian, so values are
// assembled byte by byte; nothing casts structs or integer pointers onto
// packet memory (tcpdump's GET_* rationale).
//
// Reader is a cursor with a sticky failure flag, modelled on LLVM's
// DataExtractor::Cursor: a short read returns 0 (or an empty view), marks the
// reader failed and stops it advancing. Check ok() before branching on a value
// and once at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace callwall {

/// A borrowed, read-only view of bytes. Never owns; valid only as long as the
/// memory it points at (for packets: during the packet callback).
using ByteView = std::span<const uint8_t>;

/// Views the characters of a byte range as text (no copy, no validation).
inline std::string_view as_text(ByteView v) noexcept { return {reinterpret_cast<const char*>(v.data()), v.size()}; }

/// Bounds-checked big-endian cursor over a ByteView.
class Reader {
public:
    constexpr Reader() noexcept = default;
    constexpr explicit Reader(ByteView view) noexcept : view_(view) {}

    /// True while every read so far was within bounds.
    [[nodiscard]] constexpr bool ok() const noexcept { return ok_; }
    /// Bytes consumed from the start of this reader's view.
    [[nodiscard]] constexpr size_t offset() const noexcept { return pos_; }
    [[nodiscard]] constexpr size_t remaining() const noexcept { return view_.size() - pos_; }
    [[nodiscard]] constexpr bool empty() const noexcept { return pos_ >= view_.size(); }
    [[nodiscard]] constexpr size_t size() const noexcept { return view_.size(); }
    /// The whole underlying view (from offset 0).
    [[nodiscard]] constexpr ByteView whole() const noexcept { return view_; }

    /// Marks the reader failed (for semantic errors found by the caller).
    constexpr void fail() noexcept { ok_ = false; }

    [[nodiscard]] constexpr bool can_read(size_t n) const noexcept { return ok_ && n <= view_.size() - pos_; }

    constexpr uint8_t u8() noexcept {
        if (!can_read(1)) return fail_zero();
        return view_[pos_++];
    }
    constexpr uint16_t u16() noexcept {
        if (!can_read(2)) return fail_zero();
        const uint16_t v = static_cast<uint16_t>((view_[pos_] << 8) | view_[pos_ + 1]);
        pos_ += 2;
        return v;
    }
    constexpr uint32_t u24() noexcept {
        if (!can_read(3)) return fail_zero();
        const uint32_t v = (uint32_t{view_[pos_]} << 16) | (uint32_t{view_[pos_ + 1]} << 8) | uint32_t{view_[pos_ + 2]};
        pos_ += 3;
        return v;
    }
    constexpr uint32_t u32() noexcept {
        if (!can_read(4)) return fail_zero();
        const uint32_t v = (uint32_t{view_[pos_]} << 24) | (uint32_t{view_[pos_ + 1]} << 16) |
                           (uint32_t{view_[pos_ + 2]} << 8) | uint32_t{view_[pos_ + 3]};
        pos_ += 4;
        return v;
    }
    constexpr uint64_t u64() noexcept {
        const uint64_t hi = u32();
        const uint64_t lo = u32();
        return ok_ ? (hi << 32) | lo : 0;
    }

    /// The next n bytes as a view; empty and failed when fewer remain.
    constexpr ByteView bytes(size_t n) noexcept {
        if (!can_read(n)) {
            ok_ = false;
            return {};
        }
        const ByteView v = view_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    /// A child reader over the next n bytes; this reader advances past them.
    /// Use for every length-prefixed structure.
    constexpr Reader sub(size_t n) noexcept {
        if (!can_read(n)) {
            ok_ = false;
            Reader r;
            r.ok_ = false;
            return r;
        }
        return Reader{bytes(n)};
    }
    constexpr void skip(size_t n) noexcept { (void)bytes(n); }
    /// Everything not yet read; the reader ends up at its end.
    constexpr ByteView rest() noexcept {
        if (!ok_) return {};
        const ByteView v = view_.subspan(pos_);
        pos_ = view_.size();
        return v;
    }
    /// The next n bytes without advancing; empty (and NOT failed) when short.
    [[nodiscard]] constexpr ByteView peek(size_t n) const noexcept {
        if (!can_read(n)) return {};
        return view_.subspan(pos_, n);
    }
    /// Moves to an absolute offset within the view (DNS compression pointers).
    constexpr void seek(size_t off) noexcept {
        if (!ok_ || off > view_.size()) {
            ok_ = false;
            return;
        }
        pos_ = off;
    }

private:
    constexpr uint8_t fail_zero() noexcept {
        ok_ = false;
        return 0;
    }

    ByteView view_{};
    size_t pos_ = 0;
    bool ok_ = true;
};

/// Loads without a cursor, for probes: 0 when out of range.
[[nodiscard]] constexpr uint8_t load_u8(ByteView v, size_t off) noexcept { return off < v.size() ? v[off] : 0; }
[[nodiscard]] constexpr uint16_t load_u16(ByteView v, size_t off) noexcept {
    return (off <= v.size() && v.size() - off >= 2) ? static_cast<uint16_t>((v[off] << 8) | v[off + 1]) : 0;
}
[[nodiscard]] constexpr uint32_t load_u32(ByteView v, size_t off) noexcept {
    return (off <= v.size() && v.size() - off >= 4) ? (uint32_t{v[off]} << 24) | (uint32_t{v[off + 1]} << 16) |
                                                          (uint32_t{v[off + 2]} << 8) | uint32_t{v[off + 3]}
                                                    : 0;
}

}  // namespace callwall
