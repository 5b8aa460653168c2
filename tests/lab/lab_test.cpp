// The real-traffic firewall lab (tools/lab, captures/lab/README.md) holds
// callwall to its ground truth. For every profile directory (one lab run
// behind one firewall profile) it runs `callwall analyze` on the capture of
// the client-facing side and on the capture of the cloud side, and compares:
//
//   Flows        every flow in groundtruth.tsv: callwall's outcome equals the
//                expected one (accepted -> observed, dropped -> blocked
//                no-answer/stun-timeout, reset -> blocked reset, ICMP-rejected
//                -> blocked icmp-<type>-<code>, too short -> inconclusive); and
//                callwall has no flow through the firewall that the lab did
//                not start.
//   Attribution  every flow is counted for exactly the catalog entries the
//                ground truth lists.
//   Verdicts     every catalog entry's verdict and reasons equal
//                expected_verdicts.tsv.
//   CloudSide    on the cloud side, every accepted flow appears, observed,
//                and nothing the client sent on a refused flow does (a
//                remote peer's own checks towards the client may be there).
//
// The ground truth sees every flow from the client. A peer-to-peer leg whose
// far end spoke first is kept by callwall under the first packet's
// orientation in its `flow` row: the tests look such a row up under the
// reversed 5-tuple and say how many there were.
//
// Each test prints its agreement count ("lab restrictive: flows 143/143
// agree"). Anything short of full agreement fails: there is no tolerance.
// CALLWALL_LAB_DIR points the tests at another set of runs (tools/lab/ci.sh
// uses it for fresh captures); the default is the committed captures/lab.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "golden/run_util.hpp"

namespace callwall::test {
namespace {

namespace fs = std::filesystem;

std::string lab_dir() {
    if (const char* d = std::getenv("CALLWALL_LAB_DIR"); d && *d) return d;
    return source_dir() + "/captures/lab";
}

/// A TSV file with '#' comment lines and one header line.
struct Tsv {
    std::vector<std::map<std::string, std::string>> rows;
    std::string error;
};

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else if (c != '\r') {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

Tsv read_tsv(const std::string& path) {
    Tsv t;
    std::ifstream in(path);
    if (!in) {
        t.error = "cannot read " + path;
        return t;
    }
    std::string line;
    std::vector<std::string> header;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto cells = split(line, '\t');
        if (header.empty()) {
            header = cells;
            continue;
        }
        if (cells.size() != header.size()) {
            t.error = path + ": a row has " + std::to_string(cells.size()) + " cells, the header " +
                      std::to_string(header.size());
            return t;
        }
        std::map<std::string, std::string> row;
        for (size_t i = 0; i < header.size(); ++i) row[header[i]] = cells[i];
        t.rows.push_back(std::move(row));
    }
    if (header.empty()) t.error = path + ": no header line";
    return t;
}

std::set<std::string> set_of(const std::string& csv) {
    std::set<std::string> s;
    if (csv.empty() || csv == "-") return s;
    for (auto& x : split(csv, ',')) s.insert(x);
    return s;
}

std::string join(const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "" : ",") + x;
    return out.empty() ? "-" : out;
}

std::string flow_key(const std::map<std::string, std::string>& r) {
    return r.at("transport") + " " + r.at("client_ip") + ":" + r.at("client_port") + " > " + r.at("server_ip") + ":" +
           r.at("server_port");
}

/// The vendor cloud's services, and the remote peer of the P2P call
/// (tools/lab/labplan.py REMOTE_PEER: a documentation address beyond the cloud).
bool in_lab_cloud(const std::string& ip) {
    return ip.rfind("10.77.100.", 0) == 0 || ip.rfind("fd77:0:0:100:", 0) == 0 || ip == "203.0.113.91";
}

/// Runs `callwall analyze` on one capture into a temporary database.
struct Analysis {
    TempDb db;
    int exit_code = -1;
    std::string command;
};

const Analysis& analysis(const std::string& pcap) {
    static std::mutex mu;
    static std::map<std::string, std::unique_ptr<Analysis>> cache;
    std::lock_guard<std::mutex> lock(mu);
    auto& slot = cache[pcap];
    if (!slot) {
        slot = std::make_unique<Analysis>();
        slot->command = std::string("'") + CALLWALL_BINARY + "' analyze '" + pcap + "' --db '" + slot->db.path() +
                        "' -q >/dev/null 2>&1";
        const int rc = std::system(slot->command.c_str());
        slot->exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    }
    return *slot;
}

using FlowRows = std::map<std::string, std::map<std::string, std::string>>;

/// Flows of the latest run by 5-tuple key; a 5-tuple seen twice keeps the
/// earliest flow (the one that began with the client's first packet).
FlowRows callwall_flows(const std::string& db) {
    FlowRows out;
    const auto rows =
        query_rows(db,
                   "SELECT transport, client_ip, client_port, server_ip, server_port, outcome, id, "
                   "name, name_source, app, state, packets_c2s, packets_s2c FROM flow WHERE "
                   "run_id=(SELECT max(id) FROM run) AND transport IN ('tcp','udp') ORDER BY first_ts DESC");
    for (const auto& line : rows) {
        auto c = split(line, '\t');
        if (c.size() != 13) continue;
        std::map<std::string, std::string> r{{"transport", c[0]},   {"client_ip", c[1]},   {"client_port", c[2]},
                                             {"server_ip", c[3]},   {"server_port", c[4]}, {"outcome", c[5]},
                                             {"id", c[6]},          {"name", c[7]},        {"name_source", c[8]},
                                             {"app", c[9]},         {"state", c[10]},      {"packets_c2s", c[11]},
                                             {"packets_s2c", c[12]}};
        out[flow_key(r)] = r;  // DESC order: the earliest row is written last
    }
    return out;
}

/// callwall's row for a ground-truth flow. The ground truth sees every flow
/// from the client. callwall judges a peer-to-peer leg whose far end spoke
/// first from the inside host too (docs/verdicts.md "Each side by its own
/// transactions"), but its `flow` row keeps the first packet's orientation:
/// such a row is found under the reversed 5-tuple, and counted in `reversed`.
FlowRows::const_iterator find_flow(const FlowRows& flows, const std::map<std::string, std::string>& r,
                                   size_t* reversed = nullptr) {
    auto it = flows.find(flow_key(r));
    if (it != flows.end()) return it;
    const std::map<std::string, std::string> back{{"transport", r.at("transport")},
                                                  {"client_ip", r.at("server_ip")},
                                                  {"client_port", r.at("server_port")},
                                                  {"server_ip", r.at("client_ip")},
                                                  {"server_port", r.at("client_port")}};
    it = flows.find(flow_key(back));
    if (it != flows.end() && reversed) ++*reversed;
    return it;
}

std::vector<std::string> profiles() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(lab_dir(), ec))
        if (e.is_directory() && fs::exists(e.path() / "groundtruth.tsv")) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

class Lab : public ::testing::TestWithParam<std::string> {
protected:
    std::string dir() const { return lab_dir() + "/" + GetParam(); }
    const Analysis& client() const { return analysis(dir() + "/client.pcap"); }
    const Analysis& cloud() const { return analysis(dir() + "/cloud.pcap"); }
    Tsv truth() const { return read_tsv(dir() + "/groundtruth.tsv"); }
    void report(const char* what, size_t agree, size_t total) const {
        std::printf("lab %s: %s %zu/%zu agree\n", GetParam().c_str(), what, agree, total);
        std::fflush(stdout);
        RecordProperty(std::string(what) + "_agree", std::to_string(agree) + "/" + std::to_string(total));
    }
};

TEST_P(Lab, FlowsMatchGroundTruth) {
    const Tsv t = truth();
    ASSERT_TRUE(t.error.empty()) << t.error;
    ASSERT_EQ(client().exit_code, 0) << client().command;
    const auto flows = callwall_flows(client().db.path());
    size_t agree = 0;
    std::string diffs;
    std::set<std::string> truth_keys;
    size_t reversed = 0;
    for (const auto& r : t.rows) {
        const std::string key = flow_key(r);
        truth_keys.insert(key);
        auto it = find_flow(flows, r, &reversed);
        const std::string got = it == flows.end() ? "(no such flow)" : it->second.at("outcome");
        if (got == r.at("expected")) {
            ++agree;
        } else {
            diffs +=
                "  " + key + " [" + r.at("step") + ", firewall " + r.at("action") + "]: expected " + r.at("expected") +
                ", callwall " + got +
                (it == flows.end() ? "" : " (state " + it->second.at("state") + ", app " + it->second.at("app") + ")") +
                "\n";
        }
    }
    // Nothing through the firewall that the lab did not start.
    size_t extra = 0;
    for (const auto& [key, r] : flows) {
        if (truth_keys.count(key) || !in_lab_cloud(r.at("server_ip"))) continue;
        ++extra;
        diffs += "  " + key + ": callwall has this flow (outcome " + r.at("outcome") + "), the ground truth does not\n";
    }
    report("flows", agree, t.rows.size());
    if (reversed)
        std::printf("lab %s: %zu flow row(s) keep the far end as the client (it spoke first)\n", GetParam().c_str(),
                    reversed);
    EXPECT_EQ(agree, t.rows.size()) << "flow outcomes that differ from the ground truth:\n" << diffs;
    EXPECT_EQ(extra, 0u) << diffs;
}

TEST_P(Lab, FlowAttributionMatchesGroundTruth) {
    const Tsv t = truth();
    ASSERT_TRUE(t.error.empty()) << t.error;
    ASSERT_EQ(client().exit_code, 0) << client().command;
    const auto flows = callwall_flows(client().db.path());
    std::map<std::string, std::set<std::string>> counted;  // flow id -> entries
    std::map<std::string, std::string> evidence;  // flow id + entry -> evidence kind
    for (const auto& line : query_rows(client().db.path(),
                                       "SELECT flow_id, entry_id, evidence FROM flow_match WHERE counted=1 AND "
                                       "run_id=(SELECT max(id) FROM run)")) {
        auto c = split(line, '\t');
        if (c.size() != 3) continue;
        counted[c[0]].insert(c[1]);
        evidence[c[0] + " " + c[1]] = c[2];
    }
    size_t agree = 0;
    std::string diffs;
    for (const auto& r : t.rows) {
        const std::string key = flow_key(r);
        auto it = find_flow(flows, r);
        const std::set<std::string> want = set_of(r.at("entries"));
        std::set<std::string> got;
        std::string id;
        if (it != flows.end()) {
            id = it->second.at("id");
            got = counted[id];
        }
        if (got == want) {
            ++agree;
            continue;
        }
        std::set<std::string> missing, unexpected;
        std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::inserter(missing, missing.end()));
        std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                            std::inserter(unexpected, unexpected.end()));
        std::string ev;
        for (const auto& e : unexpected) ev += (ev.empty() ? "" : ",") + e + "=" + evidence[id + " " + e];
        diffs += "  " + key + " [" + r.at("step") + ", names " + r.at("names") + " via " + r.at("name_source") +
                 ", evidence " + r.at("evidence") + "]" + (missing.empty() ? "" : " not counted for " + join(missing)) +
                 (unexpected.empty() ? "" : " counted for " + ev + " as well") + "\n";
    }
    report("attributions", agree, t.rows.size());
    EXPECT_EQ(agree, t.rows.size()) << "flows counted for other entries than the ground truth says:\n" << diffs;
}

TEST_P(Lab, VerdictsMatchExpectedTable) {
    const Tsv want = read_tsv(dir() + "/expected_verdicts.tsv");
    ASSERT_TRUE(want.error.empty()) << want.error;
    ASSERT_EQ(client().exit_code, 0) << client().command;
    std::map<std::string, std::pair<std::string, std::string>> got;
    for (const auto& line : query_rows(client().db.path(), "SELECT entry_id, verdict, " + sql_list("reasons") +
                                                               ", flows_observed, flows_blocked "
                                                               "FROM verdict WHERE run_id=(SELECT max(id) FROM run)")) {
        auto c = split(line, '\t');
        if (c.size() == 5) got[c[0]] = {c[1], join(set_of(c[2]))};
    }
    size_t agree = 0;
    std::string diffs;
    for (const auto& r : want.rows) {
        const std::string& id = r.at("entry_id");
        const std::string expected = r.at("verdict") + " " + join(set_of(r.at("reasons")));
        auto it = got.find(id);
        const std::string actual = it == got.end() ? "(no verdict)" : it->second.first + " " + it->second.second;
        if (actual == expected) {
            ++agree;
        } else {
            diffs += "  " + id + ": expected " + expected + " (" + r.at("flows_observed") + " observed, " +
                     r.at("flows_blocked") + " blocked), callwall " + actual + "\n";
        }
    }
    report("verdicts", agree, want.rows.size());
    EXPECT_EQ(agree, want.rows.size()) << "entry verdicts that differ from expected_verdicts.tsv:\n" << diffs;
    EXPECT_EQ(got.size(), want.rows.size()) << "callwall has verdicts for entries the expected table does not list";
}

TEST_P(Lab, CloudSideShowsOnlyAcceptedFlows) {
    const Tsv t = truth();
    ASSERT_TRUE(t.error.empty()) << t.error;
    ASSERT_EQ(cloud().exit_code, 0) << cloud().command;
    const auto flows = callwall_flows(cloud().db.path());
    size_t agree = 0;
    std::string diffs;
    for (const auto& r : t.rows) {
        const std::string key = flow_key(r);
        auto it = find_flow(flows, r);
        const bool accepted = r.at("action") == "accept";
        // Packets the client sent that got through: a dropped peer-to-peer
        // leg may be on the cloud side with the far end's checks only.
        const bool client_first = it != flows.end() && it->second.at("client_ip") == r.at("client_ip");
        const bool client_through =
            it != flows.end() && it->second.at(client_first ? "packets_c2s" : "packets_s2c") != "0";
        if (accepted && it != flows.end() && it->second.at("outcome") == "observed") {
            ++agree;
        } else if (!accepted && !client_through) {
            ++agree;
        } else {
            diffs += "  " + key + " [" + r.at("step") + ", firewall " + r.at("action") + "]: on the cloud side " +
                     (it == flows.end() ? std::string("absent") : "callwall says " + it->second.at("outcome")) + "\n";
        }
    }
    report("cloud-side flows", agree, t.rows.size());
    EXPECT_EQ(agree, t.rows.size()) << diffs;
}

// The ground truth's row of the peer-to-peer call's leg to the remote's
// relay (the flow Sendbird's P2P entry counts).
// A lab profile's ground truth, callwall's analysis of its client capture
// and the flows of that analysis (open_profile fills it; a profile that was
// not run, or an analysis that failed, fails the test).
struct ProfileRun {
    Tsv truth;
    const Analysis* analysis = nullptr;
    FlowRows flows;
};

void open_profile(const std::string& profile, ProfileRun& out) {
    const std::string dir = lab_dir() + "/" + profile;
    ASSERT_TRUE(fs::exists(dir + "/groundtruth.tsv"))
        << "no " << profile << " profile run in " << lab_dir() << "; regenerate with: sudo tools/lab/run.sh --profiles "
        << profile;
    out.truth = read_tsv(dir + "/groundtruth.tsv");
    ASSERT_TRUE(out.truth.error.empty()) << out.truth.error;
    out.analysis = &analysis(dir + "/client.pcap");
    ASSERT_EQ(out.analysis->exit_code, 0) << out.analysis->command;
    out.flows = callwall_flows(out.analysis->db.path());
}

bool relay_leg(const std::map<std::string, std::string>& r) {
    return r.at("step") == "sb-p2p-call" && r.at("entries") == "sendbird-calls.p2p-stun.udp";
}

// The strict profile: every outbound UDP datagram of the client is dropped
// (its answers included), while UDP from the vendor cloud's range comes in;
// the remote peer is relay-only, so its checks reach the client from its TURN
// relay address, an address in private space like the client's, and the
// client answers them. The leg must read blocked (our own checks went
// unanswered), however many of the far end's checks arrived and were
// answered, and Sendbird's P2P entry blocked, not partial. Checked on
// callwall's analysis directly, not only against expected_verdicts.tsv, so
// that a ground truth gone wrong cannot hide it.
TEST(LabStrict, RelayedP2PLegBlockedAlthoughTheRemotesChecksArrive) {
    ProfileRun run;
    ASSERT_NO_FATAL_FAILURE(open_profile("strict", run));
    const Tsv& t = run.truth;
    const Analysis& a = *run.analysis;
    const FlowRows& flows = run.flows;
    size_t legs = 0;
    for (const auto& r : t.rows) {
        if (!relay_leg(r)) continue;
        ++legs;
        const std::string key = flow_key(r);
        EXPECT_EQ(r.at("action"), "drop") << key;
        EXPECT_EQ(r.at("expected"), "blocked:stun-timeout") << key;
        EXPECT_TRUE(r.at("server_ip").rfind("10.77.100.", 0) == 0) << key << ": the remote's relay, in the lab cloud";
        auto it = find_flow(flows, r);
        ASSERT_NE(it, flows.end()) << key;
        EXPECT_EQ(it->second.at("outcome"), "blocked:stun-timeout") << key;
        // Each side's STUN transactions, seen from the client (the row may
        // keep the relay as its client: it spoke first).
        const auto row = query_rows(a.db.path(),
                                    "SELECT client_ip, stun_requests, stun_answered, stun_requests_s2c, "
                                    "stun_answered_s2c FROM flow WHERE run_id=(SELECT max(id) FROM run) AND id=" +
                                        it->second.at("id"));
        ASSERT_EQ(row.size(), 1u) << key;
        const auto c = split(row[0], '\t');
        ASSERT_EQ(c.size(), 5u) << row[0];
        const bool relay_first = c[0] != r.at("client_ip");
        const long req = std::stol(c[1]), ans = std::stol(c[2]), req_s2c = std::stol(c[3]), ans_s2c = std::stol(c[4]);
        const long theirs = relay_first ? req - req_s2c : req_s2c,
                   theirs_answered = relay_first ? ans - ans_s2c : ans_s2c;
        const long ours = relay_first ? req_s2c : req - req_s2c, ours_answered = relay_first ? ans_s2c : ans - ans_s2c;
        std::printf(
            "lab strict: %s: the relay's checks %ld (answered by the client %ld), the client's %ld (answered %ld)\n",
            key.c_str(), theirs, theirs_answered, ours, ours_answered);
        EXPECT_GT(theirs, 0) << key << ": the remote's checks must arrive through its relay";
        EXPECT_GT(theirs_answered, 0) << key << ": the client answers them";
        EXPECT_GT(ours, 1) << key << ": the client's own checks";
        EXPECT_EQ(ours_answered, 0) << key << ": none of them answered";
    }
    EXPECT_EQ(legs, 1u) << "the peer-to-peer call's leg to the remote's relay in groundtruth.tsv";
    const auto v = query_rows(a.db.path(),
                              "SELECT verdict FROM verdict WHERE run_id=(SELECT max(id) FROM run) AND "
                              "entry_id='sendbird-calls.p2p-stun.udp'");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0], "blocked");
}

// The high-ports profile: outbound UDP leaves only for ports 49152-65535
// (STUN's 3478 refused), UDP from the vendor cloud comes in, and the remote
// peer is relay-only, so the far end speaks first: the relay's checks, from
// a port of coturn's 49152-65535, reach the client's ephemeral port before
// the client's own. Both ends are private (the relay sits in the lab's
// cloud), so the addresses cannot tell the inside host; the TTLs can (the
// client's packets crossed no router, the relay's two). The leg must count
// for Sendbird's P2P entry alone, observed, and no entry of another vendor
// may count it by the client's ephemeral port.
TEST(LabHighPorts, TheFarEndSpeakingFirstIsJudgedFromTheInside) {
    ProfileRun run;
    ASSERT_NO_FATAL_FAILURE(open_profile("high-ports", run));
    const Tsv& t = run.truth;
    const Analysis& a = *run.analysis;
    const FlowRows& flows = run.flows;
    size_t legs = 0;
    for (const auto& r : t.rows) {
        if (!relay_leg(r)) continue;
        ++legs;
        const std::string key = flow_key(r);
        EXPECT_EQ(r.at("action"), "accept") << key;
        EXPECT_EQ(r.at("expected"), "observed") << key;
        auto it = find_flow(flows, r);
        ASSERT_NE(it, flows.end()) << key;
        EXPECT_EQ(it->second.at("outcome"), "observed") << key;
        const auto row = query_rows(a.db.path(),
                                    "SELECT client_ip, ttl_first_c2s, ttl_first_s2c FROM flow WHERE "
                                    "run_id=(SELECT max(id) FROM run) AND id=" +
                                        it->second.at("id"));
        ASSERT_EQ(row.size(), 1u) << key;
        const auto c = split(row[0], '\t');
        ASSERT_EQ(c.size(), 3u) << row[0];
        EXPECT_NE(c[0], r.at("client_ip")) << key << ": the relay must speak first for this profile to show anything";
        EXPECT_LT(std::stoi(c[1]), std::stoi(c[2])) << key << ": the relay's TTL (two routers away) below the client's";
        const auto counted = query_rows(a.db.path(),
                                        "SELECT entry_id FROM flow_match WHERE run_id=(SELECT max(id) FROM run) AND "
                                        "counted=1 AND flow_id=" +
                                            it->second.at("id"));
        EXPECT_EQ(counted, std::vector<std::string>{"sendbird-calls.p2p-stun.udp"}) << key;
    }
    EXPECT_EQ(legs, 1u) << "the peer-to-peer call's leg to the remote's relay in groundtruth.tsv";
    // The entry lists the relay's port as observed, never the client's
    // ephemeral one (the flow seen from the inside).
    const auto v = query_rows(a.db.path(),
                              "SELECT verdict, ports_observed FROM verdict WHERE run_id=(SELECT max(id) FROM run) AND "
                              "entry_id='sendbird-calls.p2p-stun.udp'");
    ASSERT_EQ(v.size(), 1u);
    const auto c = split(v[0], '\t');
    ASSERT_EQ(c.size(), 2u) << v[0];
    EXPECT_NE(c[0], "blocked") << v[0];
    for (const auto& r : t.rows) {
        if (!relay_leg(r)) continue;
        EXPECT_NE(c[1].find(r.at("server_port")), std::string::npos) << v[0] << ": the relay's port";
        EXPECT_EQ(c[1].find(r.at("client_port")), std::string::npos) << v[0] << ": the client's own port";
    }
}

INSTANTIATE_TEST_SUITE_P(Profiles, Lab, ::testing::ValuesIn(profiles()), [](const auto& info) {
    std::string name = info.param;  // "udp-egress" -> "udp_egress"
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
});
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Lab);

// The committed runs must be there (tools/lab/run.sh writes them); with
// CALLWALL_LAB_DIR set, so must the fresh ones.
TEST(LabCaptures, ProfilesPresent) {
    const auto p = profiles();
    std::string names;
    for (const auto& x : p) names += x + " ";
    std::printf("lab runs in %s: %s\n", lab_dir().c_str(), names.c_str());
    EXPECT_GE(p.size(), 6u)
        << "expected at least six profile runs (open, restrictive, corporate, udp-egress, strict, high-ports) in "
        << lab_dir() << "; regenerate with: sudo tools/lab/run.sh";
}

}  // namespace
}  // namespace callwall::test
