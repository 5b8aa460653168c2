// A record's columns as members of an event line: a line is a view of the
// record it reports (the flow line of the flow record), some columns under
// names of the line's own (Zeek's), every other column under its own name,
// so a column added to the record's list reaches the line without an edit.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "records/record.hpp"

namespace callwall::events {

/// `,"key":value` appended to `out`: integers as integers, reals as the
/// stream writes its times (six decimals), text as a JSON string (bytes
/// that are not UTF-8 also under key_raw, catalog::json_field), nullopt as null.
void append_member(std::string& out, std::string_view key, int64_t v);
void append_member(std::string& out, std::string_view key, double v);
void append_member(std::string& out, std::string_view key, std::string_view v);
template <class T>
void append_member(std::string& out, std::string_view key, const std::optional<T>& v) {
    if (v) {
        append_member(out, key, *v);
        return;
    }
    out += ",\"";
    out += key;
    out += "\":null";
}

[[nodiscard]] inline std::string_view column_name(const char* name) noexcept { return name; }
[[nodiscard]] inline std::string_view column_name(std::string_view name) noexcept { return name; }
[[nodiscard]] inline std::string_view column_name(const records::Column& c) noexcept { return c.name; }

/// `,"key":` and `json`, a JSON value callwall made (a verdict's list), as it is.
void append_json_member(std::string& out, std::string_view key, std::string_view json);

/// A member per column (column_name(names[i]) and value i of `values`, a
/// tuple of the column values as the store binds them: records/record.hpp's
/// values(), facts::column_values) whose name is not in `viewed` (the
/// columns the line carries under names of its own), in column order. A
/// column in `json` holds a JSON value as text (records/attribution.hpp's
/// lists): it is written as that value, not as a string.
template <class Names, class Values>
void append_columns(const Names& names, const Values& values, std::span<const std::string_view> viewed,
                    std::string& out, std::span<const std::string_view> json = {}) {
    size_t i = 0;
    const auto one = [&](const auto& v) {
        const std::string_view name = column_name(names[i++]);
        for (const std::string_view n : viewed)
            if (n == name) return;
        if constexpr (std::is_convertible_v<decltype(v), std::string_view>) {
            for (const std::string_view n : json)
                if (n == name) return append_json_member(out, name, v);
        }
        append_member(out, name, v);
    };
    std::apply([&](const auto&... v) { (one(v), ...); }, values);
}

}  // namespace callwall::events
