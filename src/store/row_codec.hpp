// Private to the store module: binding a row's values to a prepared
// statement, and the write-behind encoding of the same values (Store::put
// encodes a row as the slot, the number of values, then each value as a tag
// and its bytes; Store::apply_row binds it back). The same overloads on
// both sides, so a row encodes exactly what it would have bound.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>

#include "facts/flow_facts.hpp"
#include "records/messages.hpp"

namespace callwall::store::codec {

inline void bind_text(sqlite3_stmt* st, int i, std::string_view s) {
    // An empty view may have a null data pointer, which SQLite would store as NULL.
    // Not copied (SQLITE_STATIC): every bind_all() is followed by its step
    // while the values it was given still live, and the next row binds anew.
    sqlite3_bind_text(st, i, s.empty() ? "" : s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

// One value per placeholder, in order: integers, reals, text, or NULL
// (std::nullopt). Keeps each row writer to the list of its values.
inline void bind_value(sqlite3_stmt* st, int i, int64_t v) { sqlite3_bind_int64(st, i, v); }
inline void bind_value(sqlite3_stmt* st, int i, double v) { sqlite3_bind_double(st, i, v); }
inline void bind_value(sqlite3_stmt* st, int i, std::string_view v) { bind_text(st, i, v); }
template <class T>
void bind_value(sqlite3_stmt* st, int i, const std::optional<T>& v) {
    if (v)
        bind_value(st, i, *v);
    else
        sqlite3_bind_null(st, i);
}

template <class... Values>
void bind_all(sqlite3_stmt* st, const Values&... values) {
    sqlite3_reset(st);
    int i = 1;
    (bind_value(st, i++, values), ...);
}

/// A record (records/record.hpp) after run_id, as its insert_sql() takes them.
template <class Record>
void bind_record(sqlite3_stmt* st, int64_t run_id, const Record& r) {
    std::apply([&](const auto&... values) { bind_all(st, run_id, values...); }, r.values());
}

// Write-behind rows: each value as a tag and its bytes (text: a 32-bit
// length and the bytes).
enum : char { kNullValue = 0, kIntValue = 1, kRealValue = 2, kTextValue = 3, kUnknownValue = 4 };

/// What a statement holds bound since its last row: SQLite keeps a
/// statement's bindings across sqlite3_reset, so an integer, real or NULL
/// equal to the one already bound at its place need not be bound again
/// (a flow row has 49 values or more, most of them the same zeros and NULLs from row
/// to row; each bind costs ~100 instructions). Text is always bound: it is
/// bound in place (SQLITE_STATIC), and the place changes from row to row.
/// Only for statements bound through it alone.
struct BoundValues {
    /// A row group's placeholders: 16 flow rows (store/row_group.hpp) of
    /// run_id and the record's columns (facts/flow_facts.hpp).
    static constexpr int kMax = 16 * (1 + static_cast<int>(std::size(facts::kFlowColumns)));
    char tag[kMax];
    uint64_t bits[kMax];
    BoundValues() noexcept { std::memset(tag, kUnknownValue, sizeof tag); }
    /// Binds value `i` (1-based) unless the same is bound there already.
    void bind_int(sqlite3_stmt* st, int i, int64_t v) noexcept {
        uint64_t b;
        std::memcpy(&b, &v, sizeof b);
        if (!same(i, kIntValue, b)) sqlite3_bind_int64(st, i, v);
    }
    void bind_real(sqlite3_stmt* st, int i, double v) noexcept {
        uint64_t b;
        std::memcpy(&b, &v, sizeof b);
        if (!same(i, kRealValue, b)) sqlite3_bind_double(st, i, v);
    }
    void bind_null(sqlite3_stmt* st, int i) noexcept {
        if (!same(i, kNullValue, 0)) sqlite3_bind_null(st, i);
    }
    void bind_text(sqlite3_stmt* st, int i, const char* p, size_t n) noexcept {
        if (i <= kMax) tag[i - 1] = kTextValue;
        sqlite3_bind_text(st, i, n ? p : "", static_cast<int>(n), SQLITE_STATIC);
    }

private:
    /// Whether (tag, bits) is bound at `i` already; records it as bound when not.
    bool same(int i, char t, uint64_t b) noexcept {
        if (i > kMax) return false;
        if (tag[i - 1] == t && bits[i - 1] == b) return true;
        tag[i - 1] = t;
        bits[i - 1] = b;
        return false;
    }
};

/// Binds one decoded value after another: through what the statement holds
/// already when there is a BoundValues for it, else straight; nothing when
/// there is no statement (a DNS question counted alone).
struct Binder {
    sqlite3_stmt* st;
    BoundValues* bv;
    void int64(int i, int64_t v) noexcept {
        if (bv)
            bv->bind_int(st, i, v);
        else if (st)
            sqlite3_bind_int64(st, i, v);
    }
    void real(int i, double v) noexcept {
        if (bv)
            bv->bind_real(st, i, v);
        else if (st)
            sqlite3_bind_double(st, i, v);
    }
    void text(int i, const char* p, size_t n) noexcept {
        if (bv)
            bv->bind_text(st, i, p, n);
        else if (st)
            sqlite3_bind_text(st, i, n ? p : "", static_cast<int>(n), SQLITE_STATIC);
    }
    void null(int i) noexcept {
        if (bv)
            bv->bind_null(st, i);
        else if (st)
            sqlite3_bind_null(st, i);
    }
};

inline void bind_value(BoundValues& bv, sqlite3_stmt* st, int i, int64_t v) { bv.bind_int(st, i, v); }
inline void bind_value(BoundValues& bv, sqlite3_stmt* st, int i, double v) { bv.bind_real(st, i, v); }
inline void bind_value(BoundValues& bv, sqlite3_stmt* st, int i, std::string_view v) {
    bv.bind_text(st, i, v.data(), v.size());
}
template <class T>
void bind_value(BoundValues& bv, sqlite3_stmt* st, int i, const std::optional<T>& v) {
    if (v)
        bind_value(bv, st, i, *v);
    else
        bv.bind_null(st, i);
}

/// bind_all through what `bv` says is bound already.
template <class... Values>
void bind_all(BoundValues& bv, sqlite3_stmt* st, const Values&... values) {
    sqlite3_reset(st);
    int i = 1;
    (bind_value(bv, st, i++, values), ...);
}
// A row is sized first and written in place: one resize of the batch per row
// instead of a capacity check per value (a flow row has 48).
constexpr size_t encoded_size(int64_t) noexcept { return 1 + sizeof(int64_t); }
constexpr size_t encoded_size(double) noexcept { return 1 + sizeof(double); }
constexpr size_t encoded_size(std::string_view v) noexcept { return 1 + sizeof(uint32_t) + v.size(); }
template <class T>
constexpr size_t encoded_size(const std::optional<T>& v) noexcept {
    return v ? encoded_size(*v) : 1;
}
inline char* encode(char* p, int64_t v) noexcept {
    *p++ = kIntValue;
    std::memcpy(p, &v, sizeof v);
    return p + sizeof v;
}
inline char* encode(char* p, double v) noexcept {
    *p++ = kRealValue;
    std::memcpy(p, &v, sizeof v);
    return p + sizeof v;
}
inline char* encode(char* p, std::string_view v) noexcept {
    *p++ = kTextValue;
    const auto n = static_cast<uint32_t>(v.size());
    std::memcpy(p, &n, sizeof n);
    p += sizeof n;
    if (n) std::memcpy(p, v.data(), n);
    return p + n;
}
template <class T>
char* encode(char* p, const std::optional<T>& v) noexcept {
    if (v) return encode(p, *v);
    *p++ = kNullValue;
    return p;
}

/// Hands the `n` encoded values at `p` to `bind` at placeholders `first`,
/// `first` + 1, ... (text in place: the bytes must outlive the step), and
/// calls `seen(i, tag, int, real, text)` for each (i from 0). Returns where
/// the values end.
template <class Seen>
const char* bind_encoded(const char* p, int n, Binder& bind, int first, Seen&& seen) noexcept {
    for (int i = 0; i < n; ++i) {
        const char tag = *p++;
        int64_t v = 0;
        double r = 0;
        std::string_view text;
        if (tag == kIntValue) {
            std::memcpy(&v, p, sizeof v);
            p += sizeof v;
            bind.int64(first + i, v);
        } else if (tag == kRealValue) {
            std::memcpy(&r, p, sizeof r);
            p += sizeof r;
            bind.real(first + i, r);
        } else if (tag == kTextValue) {
            uint32_t len;
            std::memcpy(&len, p, sizeof len);
            p += sizeof len;
            text = std::string_view(p, len);
            bind.text(first + i, p, len);
            p += len;
        } else {
            bind.null(first + i);
        }
        seen(i, tag, v, r, text);
    }
    return p;
}

inline const char* bind_encoded(const char* p, int n, Binder& bind, int first) noexcept {
    return bind_encoded(p, n, bind, first, [](int, char, int64_t, double, std::string_view) {});
}

// Where apply_row finds a DNS question's values (Store::put_dns: run_id,
// then records::DnsQuery's columns).
inline constexpr std::span<const records::Column> kDnsColumns = records::DnsQuery::kColumns;
inline constexpr int kDnsRunId = 0, kDnsQname = records::value_index(kDnsColumns, "qname"),
                     kDnsAnswered = records::value_index(kDnsColumns, "answered"),
                     kDnsRcode = records::value_index(kDnsColumns, "rcode"),
                     kDnsAnswers = records::value_index(kDnsColumns, "answers"),
                     kDnsValues = 1 + static_cast<int>(kDnsColumns.size());
static_assert(kDnsQname > 0 && kDnsAnswered > 0 && kDnsRcode > 0 && kDnsAnswers > 0);

}  // namespace callwall::store::codec
