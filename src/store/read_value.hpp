// One column of a row read into a field of its C++ type: text as
// std::string, a real as double, any integer type from SQLite's integer.
// For any statement that gives text(i), real(i) and int64(i)
// (store::Statement, store::ReadQuery), so that a record's columns read
// back in a loop over its column list (facts::each_read_column,
// facts::each_shown_column) need no per-column line.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

namespace callwall::store {

template <class Row, class T>
void read_value(const Row& st, int i, T& to) {
    if constexpr (std::is_same_v<T, std::string>)
        to = st.text(i);
    else if constexpr (std::is_same_v<T, double>)
        to = st.real(i);
    else
        to = static_cast<T>(st.int64(i));
}

}  // namespace callwall::store
