// Writers of records: each a row of one registry, knowing nothing of what a
// record's columns mean, only their names and values. `callwall export`
// writes any stored record through any of them. Every text value goes
// through util::terminal_text first (a byte a terminal must not see, or one
// that is not UTF-8, as \xHH), so a name off the wire can neither move the
// terminal's cursor nor forge a line; the writer's own quoting follows.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace callwall::writers {

/// One value of a record as a writer gets it.
struct Value {
    enum class Kind { Null, Integer, Real, Text } kind = Kind::Null;
    int64_t integer = 0;
    double real = 0;
    std::string text;
};

struct Writer {
    std::string_view name;  ///< as --format names it
    std::string_view summary;  ///< one line for --help
    /// What comes before the first row (the CSV header), appended to `out`.
    void (*begin)(std::span<const std::string> columns, std::string& out);
    /// One record, its values in the columns' order, appended to `out`.
    void (*row)(std::span<const std::string> columns, std::span<const Value> values, std::string& out);
};

/// Every writer, in the order --help lists them.
[[nodiscard]] std::span<const Writer> registry() noexcept;
/// Every writer's name, in the registry's order (for --help and messages).
[[nodiscard]] std::vector<std::string> names();
/// The writer called `name`; null when there is none.
[[nodiscard]] const Writer* find(std::string_view name) noexcept;

}  // namespace callwall::writers
