// Result<T>, DecodeError and StaticVector: the value types decoders return.
//
// Decoders never throw and never allocate. A decode yields either a value or a
// DecodeError whose code keeps "not mine" (NotThisProtocol) distinct from
// "mine but broken" (Truncated, Malformed) and "mine but not handled"
// (Unsupported) — compare tcpdump's truncated vs invalid, Zeek's Weird vs
// AnalyzerViolation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace callwall {

enum class DecodeErrorCode : uint8_t { NotThisProtocol, Truncated, Malformed, Unsupported };

[[nodiscard]] constexpr std::string_view to_string(DecodeErrorCode c) noexcept {
    switch (c) {
        case DecodeErrorCode::NotThisProtocol: return "not-this-protocol";
        case DecodeErrorCode::Truncated: return "truncated";
        case DecodeErrorCode::Malformed: return "malformed";
        case DecodeErrorCode::Unsupported: return "unsupported";
    }
    return "?";
}

struct DecodeError {
    DecodeErrorCode code = DecodeErrorCode::NotThisProtocol;
    uint32_t offset = 0;  ///< byte offset in the decoded view where it was found
};

/// Expected-like: holds a T or a DecodeError. T must be default-constructible
/// and cheap to move (decoder results are small structs of views).
template <class T>
class Result {
public:
    constexpr Result(T value) noexcept : value_(std::move(value)), ok_(true) {}  // NOLINT
    constexpr Result(DecodeError err) noexcept : error_(err), ok_(false) {}  // NOLINT

    [[nodiscard]] constexpr bool ok() const noexcept { return ok_; }
    constexpr explicit operator bool() const noexcept { return ok_; }
    [[nodiscard]] constexpr const T& value() const& noexcept { return value_; }
    [[nodiscard]] constexpr T& value() & noexcept { return value_; }
    [[nodiscard]] constexpr const T& operator*() const& noexcept { return value_; }
    [[nodiscard]] constexpr T& operator*() & noexcept { return value_; }
    [[nodiscard]] constexpr const T* operator->() const noexcept { return &value_; }
    [[nodiscard]] constexpr T* operator->() noexcept { return &value_; }
    [[nodiscard]] constexpr DecodeError error() const noexcept { return error_; }
    [[nodiscard]] constexpr DecodeErrorCode code() const noexcept { return error_.code; }

private:
    T value_{};
    DecodeError error_{};
    bool ok_ = false;
};

[[nodiscard]] constexpr DecodeError make_error(DecodeErrorCode c, size_t offset) noexcept {
    return DecodeError{c, static_cast<uint32_t>(offset)};
}

/// Fixed-capacity vector for decoder results: no heap. push_back on a full
/// vector drops the element and sets overflowed().
template <class T, size_t N>
class StaticVector {
public:
    constexpr bool push_back(const T& v) noexcept {
        if (size_ >= N) {
            overflowed_ = true;
            return false;
        }
        items_[size_++] = v;
        return true;
    }
    [[nodiscard]] constexpr size_t size() const noexcept { return size_; }
    [[nodiscard]] static constexpr size_t capacity() noexcept { return N; }
    [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] constexpr bool full() const noexcept { return size_ == N; }
    [[nodiscard]] constexpr bool overflowed() const noexcept { return overflowed_; }
    constexpr void clear() noexcept {
        size_ = 0;
        overflowed_ = false;
    }
    constexpr T& operator[](size_t i) noexcept { return items_[i]; }
    constexpr const T& operator[](size_t i) const noexcept { return items_[i]; }
    constexpr T* begin() noexcept { return items_.data(); }
    constexpr T* end() noexcept { return items_.data() + size_; }
    constexpr const T* begin() const noexcept { return items_.data(); }
    constexpr const T* end() const noexcept { return items_.data() + size_; }
    constexpr T& back() noexcept { return items_[size_ - 1]; }

private:
    std::array<T, N> items_{};
    size_t size_ = 0;
    bool overflowed_ = false;
};

}  // namespace callwall
