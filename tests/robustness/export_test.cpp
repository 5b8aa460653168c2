// `callwall export`: any stored record of a run through any writer. Its
// columns are the record's (records/), so a column added to a record's list
// reaches the export without another edit; its values are the database's.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "records/attribution.hpp"
#include "records/run.hpp"
#include "robustness/cli_test.hpp"

namespace callwall::robustness {
namespace {

class Export : public CliTest {
protected:
    Export() : CliTest("export") {}
    void SetUp() override {
        CliTest::SetUp();
        if (IsSkipped()) return;
        db_ = dir_ / "run.sqlite";
        const auto r = callwall(
            {"analyze", "-q", "--detail", capture_, source_dir() + "/captures/stun_binding.pcap", "--db", db_});
        ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << head(r.err);
    }
    std::string db_;
};

TEST_F(Export, EachRecordsHeaderIsItsColumnList){
#define CALLWALL_TEST_RECORD(Record)                                                                              \
    {                                                                                                             \
        std::string header;                                                                                       \
        for (const records::Column& c : records::Record::kColumns)                                                \
            header += (header.empty() ? "" : ",") + std::string(c.name);                                          \
        const auto e = callwall({"export", "--db", db_, "--record", std::string(records::Record::table().name)}); \
        ASSERT_TRUE(e.exit.exited&& e.exit.code == 0) << #Record << ": " << e.exit.describe() << head(e.err);     \
        EXPECT_EQ(e.out.substr(0, e.out.find('\n')), header) << #Record;                                          \
    }
    CALLWALL_TEST_RECORD(Run) CALLWALL_RUN_RECORDS(CALLWALL_TEST_RECORD)
#undef CALLWALL_TEST_RECORD
}

TEST_F(Export, TheRunRecordIsTheRunsRowWithoutItsId) {
    const auto csv = callwall({"export", "--db", db_, "--record", "run"});
    ASSERT_TRUE(csv.exit.exited && csv.exit.code == 0) << csv.exit.describe() << head(csv.err);
    EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 2) << csv.out;
    const auto jsonl = callwall({"export", "--db", db_, "--record", "run", "--format", "jsonl"});
    ASSERT_TRUE(jsonl.exit.exited && jsonl.exit.code == 0) << jsonl.exit.describe() << head(jsonl.err);
    Db d(db_);
    EXPECT_EQ(jsonl.out.substr(0, jsonl.out.find(",\"command_line\"")),
              d.text("SELECT '{\"kind\":\"' || kind || '\",\"source\":\"' || source || '\"' FROM run"))
        << jsonl.out;
    EXPECT_NE(jsonl.out.find(d.text("SELECT ',\"status\":\"completed\",\"packets\":' || packets || ',\"bytes\":' || "
                                    "bytes || ',' FROM run")),
              std::string::npos)
        << jsonl.out;
    EXPECT_EQ(jsonl.out.find("\"id\""), std::string::npos) << jsonl.out;
}

TEST_F(Export, RowsAreTheDatabasesInBothFormats) {
    // The DNS questions of dns_basic.pcap: one line each, in the order written.
    const auto csv = callwall({"export", "--db", db_, "--record", "dns_query"});
    ASSERT_TRUE(csv.exit.exited && csv.exit.code == 0) << csv.exit.describe() << head(csv.err);
    const auto n = std::count(csv.out.begin(), csv.out.end(), '\n');
    Db d(db_);
    EXPECT_EQ(std::to_string(n - 1), d.text("SELECT count(*) FROM dns_query"));
    EXPECT_GT(n, 1) << csv.out;
    // A NULL is an empty CSV field and a JSON null; numbers stay numbers.
    const auto jsonl = callwall({"export", "--db", db_, "--record", "stun_message", "--format", "jsonl"});
    ASSERT_TRUE(jsonl.exit.exited && jsonl.exit.code == 0) << jsonl.exit.describe() << head(jsonl.err);
    const std::string first = jsonl.out.substr(0, jsonl.out.find('\n'));
    // Its time as the shortest text that reads back the same: the rest as stored.
    const std::string head =
        d.text("SELECT '{\"flow_id\":' || flow_id || ',\"ts\":' FROM stun_message ORDER BY rowid LIMIT 1");
    const std::string tail = d.text(
        "SELECT ',\"direction\":\"' || direction || '\",\"method\":\"' || method || '\",\"class\":\"' || class || "
        "'\",\"transaction_id\":\"' || transaction_id || '\",\"answered\":' || coalesce(answered, 'null') || "
        "',\"error_code\":' || coalesce(error_code, 'null') || ',\"carried\":\"' || carried || '\"}' FROM stun_message "
        "ORDER BY rowid LIMIT 1");
    ASSERT_FALSE(head.empty());
    EXPECT_EQ(first.substr(0, head.size()), head) << first;
    ASSERT_GE(first.size(), tail.size());
    EXPECT_EQ(first.substr(first.size() - tail.size()), tail) << first;
    const std::string ts = first.substr(head.size(), first.size() - head.size() - tail.size());
    EXPECT_EQ(std::stod(ts), std::stod(d.text("SELECT ts FROM stun_message ORDER BY rowid LIMIT 1"))) << ts;
    // Every line one object.
    EXPECT_EQ(std::count(jsonl.out.begin(), jsonl.out.end(), '\n'),
              std::stol(d.text("SELECT count(*) FROM stun_message")));
}

TEST_F(Export, AWrongRecordFormatOrRunIsAUsageErrorThatNamesTheChoices) {
    const auto record = callwall({"export", "--db", db_, "--record", "flows"});
    EXPECT_EQ(record.exit.code, 2);
    EXPECT_EQ(record.err.rfind("callwall export: --record: no record 'flows' (one of: run, flow, flow_name, ", 0), 0u)
        << record.err;
    const auto format = callwall({"export", "--db", db_, "--record", "flow", "--format", "xml"});
    EXPECT_EQ(format.exit.code, 2);
    EXPECT_EQ(format.err, "callwall export: --format: no format 'xml' (one of: csv, jsonl)\n");
    const auto run = callwall({"export", "--db", db_, "--record", "flow", "--run", "9"});
    EXPECT_EQ(run.exit.code, 2);
    EXPECT_EQ(run.err, "callwall export: " + db_ + ": no run 9 (the last is 1)\n");
    const auto missing = callwall({"export", "--db", dir_ / "none.sqlite", "--record", "flow"});
    EXPECT_EQ(missing.exit.code, 5);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "none.sqlite"));
}

}  // namespace
}  // namespace callwall::robustness
