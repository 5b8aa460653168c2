// Whether an existing file is callwall's database. See store/ownership.hpp.
#include "store/ownership.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "store/store.hpp"

namespace callwall::store {

int read_int(sqlite3* db, const char* sql, int& out) {
    sqlite3_stmt* q = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &q, nullptr);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) out = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

FileContents read_contents(sqlite3* db, int& rc) {
    FileContents c;
    rc = read_int(db, "PRAGMA user_version", c.user_version);
    if (rc == SQLITE_OK) rc = read_int(db, "PRAGMA application_id", c.application_id);
    if (rc != SQLITE_OK) return c;
    sqlite3_stmt* q = nullptr;
    rc = sqlite3_prepare_v2(
        db, "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY 1", -1,
        &q, nullptr);
    if (rc != SQLITE_OK) return c;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const auto* t = sqlite3_column_text(q, 0);
        c.objects.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(q);
    rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    return c;
}

namespace {

// The schema objects of a version-1 database as the callwall of that version
// made it (before application_id): these 14 tables exactly, and among other
// objects only its own index and views and the reader indexes. Such a file
// is callwall's and gets the application id on its next open; any other
// file with user_version 1 is someone else's.
constexpr std::array<const char*, 14> kV1Tables = {
    "catalog_entry",   "dns_answer", "dns_query", "flow",         "flow_match", "flow_name",      "icmp_error",
    "product_verdict", "rtp_stream", "run",       "stun_message", "tls_hello",  "unmatched_flow", "verdict"};
constexpr std::array<const char*, 10> kV1Others = {
    "index stun_txn",       "index flow_server",          "index unmatched_flow_idx", "index flow_match_entry",
    "index dns_query_run",  "index dns_answer_run",       "index tls_hello_flow",     "index rtp_stream_flow",
    "view verdict_summary", "view unmatched_vendor_flows"};

bool is_v1_callwall(const FileContents& c) {
    if (c.user_version != 1 || c.application_id != 0) return false;
    size_t tables = 0;
    for (const std::string& o : c.objects) {
        const bool known_table =
            o.rfind("table ", 0) == 0 && std::find_if(kV1Tables.begin(), kV1Tables.end(), [&](const char* t) {
                                             return o.compare(6, std::string::npos, t) == 0;
                                         }) != kV1Tables.end();
        if (known_table) {
            ++tables;
            continue;
        }
        if (std::find_if(kV1Others.begin(), kV1Others.end(), [&](const char* x) { return o == x; }) == kV1Others.end())
            return false;
    }
    return tables == kV1Tables.size();
}

}  // namespace

// "" when the file may be opened: new/empty (no schema, both header fields
// 0), marked with callwall's application id, or a version-1 callwall
// database from before the id. Otherwise why it is not callwall's.
std::string not_ours_reason(const FileContents& c) {
    if (c.application_id == kApplicationId) return "";
    if (c.application_id == 0 && c.user_version == 0 && c.objects.empty()) return "";
    if (is_v1_callwall(c)) return "";
    char id[16];
    std::snprintf(id, sizeof id, "0x%08x", static_cast<unsigned>(c.application_id));
    if (c.application_id != 0) return std::string("application_id ") + id + " is another program's";
    std::string names;
    size_t shown = 0;
    for (const std::string& o : c.objects) {
        if (o.rfind("table ", 0) != 0) continue;
        if (shown++ == 5) {
            names += ", ...";
            break;
        }
        names += (names.empty() ? "" : ", ") + o.substr(6);
    }
    return "no callwall application_id, user_version " + std::to_string(c.user_version) +
           (names.empty() ? std::string(", no tables") : ", tables " + names);
}
}  // namespace callwall::store
