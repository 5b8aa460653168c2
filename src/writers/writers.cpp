// The writers of records. See writers/writers.hpp.
#include "writers/writers.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "util/terminal_text.hpp"

namespace callwall::writers {
namespace {

// A number as its shortest text that reads back the same.
void append_number(const Value& v, std::string& out) {
    char b[32];
    const auto r = v.kind == Value::Kind::Integer ? std::to_chars(b, b + sizeof b, v.integer)
                                                  : std::to_chars(b, b + sizeof b, v.real);
    out.append(b, r.ptr);
}

// CSV (RFC 4180, but lines end in a bare newline, as the report's CSV and
// most tools' do): a header line of the column names, then one line per
// record; NULL is an empty field, a field holding a comma or a quote is
// quoted (quotes doubled). Text never holds a newline: terminal_text
// escapes it.
void csv_field(std::string_view s, std::string& out) {
    if (s.find_first_of(",\"") == std::string_view::npos) {
        out += s;
        return;
    }
    out += '"';
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

void csv_begin(std::span<const std::string> columns, std::string& out) {
    for (size_t i = 0; i < columns.size(); ++i) {
        if (i) out += ',';
        csv_field(columns[i], out);
    }
    out += '\n';
}

void csv_row(std::span<const std::string>, std::span<const Value> values, std::string& out) {
    for (size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        const Value& v = values[i];
        if (v.kind == Value::Kind::Text)
            csv_field(util::terminal_text(v.text), out);
        else if (v.kind != Value::Kind::Null)
            append_number(v, out);
    }
    out += '\n';
}

// JSON Lines: one object per record, its columns as keys in order; NULL is
// null, numbers are numbers.
void jsonl_begin(std::span<const std::string>, std::string&) {}

void jsonl_row(std::span<const std::string> columns, std::span<const Value> values, std::string& out) {
    out += '{';
    for (size_t i = 0; i < values.size() && i < columns.size(); ++i) {
        if (i) out += ',';
        out += nlohmann::json(columns[i]).dump();
        out += ':';
        const Value& v = values[i];
        switch (v.kind) {
            case Value::Kind::Null: out += "null"; break;
            case Value::Kind::Integer:
            case Value::Kind::Real: append_number(v, out); break;
            case Value::Kind::Text: out += nlohmann::json(util::terminal_text(v.text)).dump(); break;
        }
    }
    out += "}\n";
}

constexpr Writer kWriters[] = {
    {"csv", "comma-separated values, a header line of the column names first", csv_begin, csv_row},
    {"jsonl", "one JSON object per line, the columns as keys", jsonl_begin, jsonl_row},
};

}  // namespace

std::span<const Writer> registry() noexcept { return kWriters; }

std::vector<std::string> names() {
    std::vector<std::string> out;
    for (const Writer& w : kWriters) out.emplace_back(w.name);
    return out;
}

const Writer* find(std::string_view name) noexcept {
    for (const Writer& w : kWriters)
        if (w.name == name) return &w;
    return nullptr;
}

}  // namespace callwall::writers
