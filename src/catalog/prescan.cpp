// The toml++ guard: see loader_parts.hpp (prescan).
#include "catalog/loader_parts.hpp"

namespace callwall::catalog::loader_detail {

constexpr bool is_bare_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Where a table header's '[' at `i` is followed by something that cannot
// start a table name (npos when it can: a bare key, a quote, another bracket).
size_t bad_table_name_at(std::string_view t, size_t i) {
    size_t j = i + 1;
    if (j < t.size() && t[j] == '[') ++j;
    while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
    if (j < t.size() && !is_bare_key_char(t[j]) && t[j] != '"' && t[j] != '\'' && t[j] != ']' && t[j] != '[') return j;
    return std::string_view::npos;
}

// For a backslash at `i` in a multi-line basic string that ends its line:
// where the text goes on after the whitespace it trims (t.size() at the end);
// npos when the backslash does not end its line (an escape).
size_t continued_at(std::string_view t, size_t i) {
    size_t j = i + 1;
    while (j < t.size() && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r')) ++j;
    if (j >= t.size() || t[j] != '\n') return std::string_view::npos;
    while (j < t.size() && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r' || t[j] == '\n')) ++j;
    return j;
}

std::optional<PrescanError> prescan(std::string_view t) {
    enum class State { Normal, Comment, Basic, Literal, MlBasic, MlLiteral };
    State state = State::Normal;
    uint32_t line = 1, column = 1;
    int depth = 0;  // [ and { nesting outside strings: a '[' at depth 0 first on a line opens a table header
    bool line_start = true;
    size_t i = 0;
    // Columns count code points, as toml++ does.
    auto position_of = [&](size_t target) {
        uint32_t l = line, c = column;
        for (size_t k = i; k < target && k < t.size(); ++k) {
            if (t[k] == '\n') {
                ++l;
                c = 1;
            } else if ((static_cast<unsigned char>(t[k]) & 0xC0) != 0x80) {
                ++c;
            }
        }
        return std::pair{l, c};
    };
    auto advance = [&](size_t n) {
        for (size_t k = 0; k < n && i < t.size(); ++k, ++i) {
            if (t[i] == '\n') {
                ++line;
                column = 1;
            } else if ((static_cast<unsigned char>(t[i]) & 0xC0) != 0x80) {
                ++column;
            }
        }
    };
    auto fail = [&](size_t at, std::string message) {
        auto [l, c] = position_of(at);
        return PrescanError{l, c, std::move(message)};
    };
    if (t.substr(0, 3) == "\xEF\xBB\xBF")
        return fail(0,
                    "the file starts with a UTF-8 byte order mark (BOM); expected UTF-8 without a BOM (save the "
                    "file again without it)");
    while (i < t.size()) {
        const char c = t[i];
        switch (state) {
            case State::Normal:
                if (c == '\n') {
                    line_start = true;
                    advance(1);
                } else if (c == ' ' || c == '\t' || c == '\r') {
                    advance(1);
                } else if (c == '#') {
                    state = State::Comment;
                    advance(1);
                } else if (static_cast<unsigned char>(c) >= 0x80) {
                    return fail(i,
                                "non-ASCII character outside a quoted string or comment; expected it only inside "
                                "quotes or after '#'");
                } else if (c == '"' || c == '\'') {
                    const bool multi = t.substr(i, 3) == std::string(3, c);
                    state = c == '"' ? (multi ? State::MlBasic : State::Basic)
                                     : (multi ? State::MlLiteral : State::Literal);
                    line_start = false;
                    advance(multi ? 3 : 1);
                } else if (c == '[' && line_start && depth == 0) {
                    if (const size_t j = bad_table_name_at(t, i); j != std::string_view::npos)
                        return fail(j, "expected a table name (a bare key or a quoted string) after '['");
                    ++depth;
                    line_start = false;
                    advance(1);
                } else {
                    if (c == '[' || c == '{') ++depth;
                    if ((c == ']' || c == '}') && depth > 0) --depth;
                    line_start = false;
                    advance(1);
                }
                break;
            case State::Comment:
                if (c == '\n')
                    state = State::Normal;  // the newline itself is handled in Normal
                else
                    advance(1);
                break;
            case State::Basic:
            case State::Literal:
                if (c == '\n' || (state == State::Basic ? c == '"' : c == '\'')) state = State::Normal;
                if (c == '\n') break;
                advance(state == State::Basic && c == '\\' ? 2 : 1);
                break;
            case State::MlBasic:
            case State::MlLiteral: {
                const char q = state == State::MlBasic ? '"' : '\'';
                if (t.substr(i, 3) == std::string(3, q)) {
                    size_t run = 0;
                    while (i + run < t.size() && t[i + run] == q && run < 5) ++run;
                    state = State::Normal;
                    line_start = false;
                    advance(run);
                } else if (state == State::MlBasic && c == '\\') {
                    if (const size_t j = continued_at(t, i); j != std::string_view::npos) {
                        if (j < t.size() && static_cast<unsigned char>(t[j]) >= 0x80) {
                            return fail(j,
                                        "non-ASCII character first after a line-ending backslash in a multi-line "
                                        "string (toml++ 3.3 mishandles it); expected an ASCII character first");
                        }
                        advance(j - i);
                    } else {
                        advance(2);
                    }
                } else {
                    advance(1);
                }
                break;
            }
        }
    }
    return std::nullopt;
}

}  // namespace callwall::catalog::loader_detail
