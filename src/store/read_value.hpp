// One column of a row read into a field of its C++ type: text as
// std::string (or, where the statement offers it, a std::string_view into
// the row, valid until the next row), a real as double, any integer type
// from SQLite's integer, a std::optional of any of them NULL as nullopt.
// For any statement that gives text(i), real(i) and int64(i)
// (store::Statement, store::ReadQuery), so that a record's columns read
// back in a loop over its column list (facts::each_read_column,
// facts::each_shown_column, read_record) need no per-column line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace callwall::store {

template <class T>
inline constexpr bool kIsOptional = false;
template <class T>
inline constexpr bool kIsOptional<std::optional<T>> = true;

template <class Row, class T>
void read_value(const Row& st, int i, T& to) {
    if constexpr (kIsOptional<T>) {
        if (st.is_null(i)) {
            to.reset();
        } else {
            typename T::value_type v{};
            read_value(st, i, v);
            to = v;
        }
    } else if constexpr (std::is_same_v<T, std::string>) {
        to = st.text(i);
    } else if constexpr (std::is_same_v<T, std::string_view>) {
        to = st.text_view(i);
    } else if constexpr (std::is_same_v<T, double>) {
        to = st.real(i);
    } else {
        to = static_cast<T>(st.int64(i));
    }
}

}  // namespace callwall::store
