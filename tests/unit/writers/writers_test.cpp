// The writers of records (writers/writers.hpp): their quoting, NULLs,
// numbers and escaping, from column names and values alone.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "writers/writers.hpp"

namespace callwall::writers {
namespace {

Value text(std::string s) {
    Value v;
    v.kind = Value::Kind::Text;
    v.text = std::move(s);
    return v;
}
Value integer(int64_t i) {
    Value v;
    v.kind = Value::Kind::Integer;
    v.integer = i;
    return v;
}
Value real(double r) {
    Value v;
    v.kind = Value::Kind::Real;
    v.real = r;
    return v;
}

std::string write(std::string_view format, const std::vector<std::string>& columns,
                  const std::vector<std::vector<Value>>& rows) {
    const Writer* w = find(format);
    EXPECT_NE(w, nullptr) << format;
    std::string out;
    if (!w) return out;
    w->begin(columns, out);
    for (const auto& r : rows) w->row(columns, r, out);
    return out;
}

const std::vector<std::string> kColumns = {"flow_id", "ts", "name", "rcode"};
const std::vector<std::vector<Value>> kRows = {
    {integer(7), real(1767225600.25), text("turn.example.com"), Value{}},
    {integer(-1), real(0.5), text("a,\"b\"\x1b[2J\r\nc"), text("NOERROR")},
};

TEST(Writers, TheRegistryListsCsvAndJsonLines) {
    std::vector<std::string_view> names;
    for (const Writer& w : registry()) names.push_back(w.name);
    EXPECT_EQ(names, (std::vector<std::string_view>{"csv", "jsonl"}));
    EXPECT_EQ(find("xml"), nullptr);
}

TEST(Writers, CsvQuotesWhatNeedsItAndEscapesControlBytes) {
    EXPECT_EQ(write("csv", kColumns, kRows),
              "flow_id,ts,name,rcode\n"
              "7,1767225600.25,turn.example.com,\n"
              "-1,0.5,\"a,\"\"b\"\"\\x1b[2J\\x0d\\x0ac\",NOERROR\n");
    EXPECT_EQ(write("csv", kColumns, {}), "flow_id,ts,name,rcode\n");
}

TEST(Writers, JsonLinesKeepNullsAndNumbersAndEscapeControlBytes) {
    EXPECT_EQ(write("jsonl", kColumns, kRows),
              "{\"flow_id\":7,\"ts\":1767225600.25,\"name\":\"turn.example.com\",\"rcode\":null}\n"
              "{\"flow_id\":-1,\"ts\":0.5,\"name\":\"a,\\\"b\\\"\\\\x1b[2J\\\\x0d\\\\x0ac\",\"rcode\":\"NOERROR\"}\n");
    EXPECT_EQ(write("jsonl", kColumns, {}), "");
}

TEST(Writers, BytesThatAreNotUtf8ComeOutEscapedAndValid) {
    const std::vector<std::vector<Value>> rows = {{integer(1), real(1), text("a\xffz\xe2\x80\xae"), Value{}}};
    EXPECT_EQ(write("csv", kColumns, rows), "flow_id,ts,name,rcode\n1,1,a\\xffz\\xe2\\x80\\xae,\n");
    EXPECT_EQ(write("jsonl", kColumns, rows),
              "{\"flow_id\":1,\"ts\":1,\"name\":\"a\\\\xffz\\\\xe2\\\\x80\\\\xae\",\"rcode\":null}\n");
}

}  // namespace
}  // namespace callwall::writers
