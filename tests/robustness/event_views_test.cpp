// The event stream's dns, name, run_start and run_end lines are views of
// the records the run wrote (events/events.hpp): each carries every column
// of its record, under a name of the line's own (the viewed columns) or
// under its own with the value the database holds, and no member twice. The
// line's own members keep what schema version 2 says they mean: an HTTPS
// answer's line names its target, its dns_answer row holds the whole record.
// tools/check_events_schema.py checks the same on every scenario capture.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "events/events.hpp"
#include "records/messages.hpp"
#include "records/run.hpp"
#include "robustness/cli_test.hpp"
#include "sqlite_rows.hpp"

namespace callwall::robustness {
namespace {

using nlohmann::json;

// Counts each object's keys while parsing: a member written twice is lost
// to json::parse (the last one wins), so it is caught here.
class RepeatedKeys : public json::json_sax_t {
public:
    std::vector<std::string> repeated;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(json::number_integer_t) override { return true; }
    bool number_unsigned(json::number_unsigned_t) override { return true; }
    bool number_float(json::number_float_t, const std::string&) override { return true; }
    bool string(std::string&) override { return true; }
    bool binary(json::binary_t&) override { return true; }
    bool start_object(size_t) override {
        keys_.emplace_back();
        return true;
    }
    bool key(std::string& k) override {
        if (!keys_.back().insert(k).second) repeated.push_back(k);
        return true;
    }
    bool end_object() override {
        keys_.pop_back();
        return true;
    }
    bool start_array(size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
    std::vector<std::set<std::string>> keys_;
};

bool listed(std::span<const std::string_view> list, std::string_view name) {
    for (const std::string_view v : list)
        if (v == name) return true;
    return false;
}

class EventViews : public CliTest {
protected:
    EventViews() : CliTest("event-views") {}

    // Analyses `capture` with --detail (the dns_answer rows) and --events;
    // the stream's lines, each checked for a repeated member.
    std::vector<json> analyse(const std::string& capture, const std::vector<std::string>& more = {}) {
        db_ = dir_ / "views.sqlite";
        const std::string events = dir_ / "views.jsonl";
        std::vector<std::string> args{"analyze", "-q", "--detail", capture, "--db", db_, "--events", events};
        args.insert(args.end(), more.begin(), more.end());
        const auto r = callwall(args);
        EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << head(r.err);
        std::vector<json> lines;
        for (const std::string& line : split_lines(read_file(events))) {
            RepeatedKeys keys;
            EXPECT_TRUE(json::sax_parse(line, &keys)) << line;
            EXPECT_TRUE(keys.repeated.empty()) << "repeated " << keys.repeated.front() << " in " << line;
            lines.push_back(json::parse(line));
        }
        return lines;
    }

    // Each row of `sql` as its columns by name, typed as SQLite holds them.
    std::vector<json> rows(const std::string& sql) {
        std::vector<json> out;
        sqlite3* db = nullptr;
        EXPECT_EQ(sqlite3_open_v2(db_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        std::string why;
        EXPECT_EQ(test::prepare_one(db, sql, &st, why), SQLITE_OK) << why;
        while (st && sqlite3_step(st) == SQLITE_ROW) {
            json row = json::object();
            for (int i = 0; i < sqlite3_column_count(st); ++i) {
                json& v = row[sqlite3_column_name(st, i)];
                switch (sqlite3_column_type(st, i)) {
                    case SQLITE_INTEGER: v = sqlite3_column_int64(st, i); break;
                    case SQLITE_FLOAT: v = sqlite3_column_double(st, i); break;
                    case SQLITE_TEXT: v = reinterpret_cast<const char*>(sqlite3_column_text(st, i)); break;
                    default: v = nullptr;
                }
            }
            out.push_back(std::move(row));
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
    }

    // The line holds column `name` of `row` under that name, with its value
    // (reals to the microsecond the stream writes).
    static void expect_column(const json& line, const json& row, const std::string& name) {
        ASSERT_TRUE(line.contains(name)) << name << " is not on " << line.dump();
        const json& got = line.at(name);
        const json& want = row.at(name);
        if (want.is_number_float())
            EXPECT_NEAR(got.get<double>(), want.get<double>(), 1e-6) << name << " on " << line.dump();
        else
            EXPECT_EQ(got, want) << name << " on " << line.dump();
    }

    static std::vector<json> of_kind(const std::vector<json>& lines, const std::string& kind) {
        std::vector<json> out;
        for (const json& l : lines)
            if (l.at("event") == kind) out.push_back(l);
        return out;
    }

    std::string db_;
};

TEST_F(EventViews, TheRunLinesCarryEveryColumnOfTheRunsRowWithItsValue) {
    const std::vector<json> lines = analyse(capture_);
    ASSERT_GE(lines.size(), 2u);
    const json& start = lines.front();
    const json& end = lines.back();
    ASSERT_EQ(start.at("event"), "run_start");
    ASSERT_EQ(end.at("event"), "run_end");
    const std::vector<json> run = rows("SELECT * FROM run");
    ASSERT_EQ(run.size(), 1u);
    // Every viewed column is one the line's half of the record has.
    for (const std::string_view v : events::kRunStartViewedColumns)
        EXPECT_TRUE(listed(records::kRunOnceColumns, v)) << v << " is not written when the run starts";
    for (const std::string_view v : events::kRunEndViewedColumns)
        EXPECT_TRUE(listed(records::kRunTotalsColumns, v)) << v << " is not written by the run's end";
    size_t carried = 0;
    for (const std::string_view c : records::kRunOnceColumns) {
        if (listed(events::kRunStartViewedColumns, c)) continue;
        expect_column(start, run[0], std::string(c));
        EXPECT_FALSE(end.contains(std::string(c))) << c << " is on both run lines";
        ++carried;
    }
    for (const std::string_view c : records::kRunTotalsColumns) {
        if (listed(events::kRunEndViewedColumns, c)) continue;
        expect_column(end, run[0], std::string(c));
        EXPECT_FALSE(start.contains(std::string(c))) << c << " is on both run lines";
        ++carried;
    }
    EXPECT_GE(carried, 13u);  // command_line, the writer's three, origin; the other counts and the notes
    // The viewed columns under the lines' own names mean what they meant.
    EXPECT_EQ(start.at("kind"), run[0].at("kind"));
    EXPECT_EQ(start.at("tool_version"), run[0].at("tool_version"));
    EXPECT_EQ(start.at("sources"), json::array({capture_}));
    EXPECT_EQ(end.at("status"), run[0].at("status"));
    EXPECT_EQ(end.at("packets"), run[0].at("packets"));
    EXPECT_EQ(start.at("writer_pid").get<int64_t>(), run[0].at("writer_pid").get<int64_t>());
    EXPECT_GT(start.at("writer_pid").get<int64_t>(), 0);
}

TEST_F(EventViews, EachDnsLineIsItsDnsAnswerRowAndAnHttpsLineKeepsItsTarget) {
    // A catalog of one vendor whose names are whereby.com's, so that its
    // HTTPS answer in dns_basic.pcap is a vendor's answer.
    const std::string catalog = dir_ / "catalog";
    std::filesystem::create_directories(catalog);
    write_file(catalog + "/views.toml",
               "schema = 2\n[document]\ntitle = \"T\"\nurl = \"https://t.example/\"\nundated = true\n"
               "transcribed = 2026-11-27\nvendor = \"Views\"\ndirection = \"outbound\"\n\n[[entry]]\n"
               "id = \"views.web.tcp\"\nproduct = \"Views\"\nservice = \"Web\"\ntransport = \"tcp\"\n"
               "ports = [443]\ndestinations = [\"whereby.com\", \"*.whereby.com\"]\nrequired = true\n"
               "[entry.source]\nsection = \"Ports\"\n");
    const std::vector<json> dns = of_kind(analyse(capture_, {"--no-bundled-catalog", "--catalog", catalog}), "dns");
    ASSERT_FALSE(dns.empty()) << "dns_basic.pcap resolves whereby.com";
    const std::vector<json> answers = rows("SELECT * FROM dns_answer");
    for (const records::Column& c : records::DnsAnswer::kColumns)
        if (!listed(events::kDnsViewedColumns, c.name))
            for (const json& line : dns) EXPECT_TRUE(line.contains(c.name)) << c.name << " is not on " << line.dump();
    bool https_seen = false;
    for (const json& line : dns) {
        const json* row = nullptr;
        for (const json& a : answers)
            if (a.at("flow_id") == line.at("flow_id") && a.at("qname") == line.at("qname") &&
                a.at("rrtype") == line.at("rrtype") && a.at("client_ip") == line.at("client") &&
                a.at("ttl") == line.at("ttl") &&
                std::abs(a.at("ts").get<double>() - line.at("ts").get<double>()) < 1e-6 &&
                (a.at("answer") == line.at("answer") || a.at("rrtype") == "HTTPS"))
                row = &a;
        ASSERT_NE(row, nullptr) << line.dump() << " is no dns_answer row";
        expect_column(line, *row, "server_ip");
        if (line.at("rrtype") == "HTTPS") {
            https_seen = true;
            // The target, "." (the owner name itself); the row holds the
            // whole record in presentation form, as dig prints it.
            EXPECT_EQ(line.at("answer"), ".");
            EXPECT_EQ(row->at("answer"), "1 . alpn=h3,h2 ipv4hint=198.51.100.60 ipv6hint=2001:db8:2::60")
                << row->dump();
        }
    }
    EXPECT_TRUE(https_seen) << "dns_basic.pcap answers an HTTPS question for whereby.com";
}

TEST_F(EventViews, EachNameLineIsAFlowNameRowOfItsFlow) {
    const std::string path = source_dir() + "/captures/scenarios/whereby.pcap";
    const std::vector<json> names = of_kind(analyse(path), "name");
    ASSERT_FALSE(names.empty()) << "whereby.pcap has TLS to Whereby's names";
    const std::vector<json> flow_names = rows("SELECT * FROM flow_name");
    for (const json& line : names) {
        const json* row = nullptr;
        for (const json& r : flow_names)
            if (r.at("flow_id") == line.at("flow_id") && r.at("name") == line.at("name") && r.at("source") == "sni")
                row = &r;
        ASSERT_NE(row, nullptr) << line.dump() << " is no flow_name row";
        for (const records::Column& c : records::FlowName::kColumns)
            if (!listed(events::kNameViewedColumns, c.name)) expect_column(line, *row, std::string(c.name));
    }
}

}  // namespace
}  // namespace callwall::robustness
