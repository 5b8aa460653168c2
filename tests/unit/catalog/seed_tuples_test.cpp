// The bundled catalog holds exactly the requirements of the five seed documents
// (shared/seeds/): nothing missing, nothing invented, each with its source file.
// Documents transcribed from web pages (schema 2, with a URL instead of seed
// sources) are checked by vendor_tuples_test.cpp and left out here.
//
// The expected data below was typed from the seed texts, independently of the
// catalog files: ports as the vendor lists them, destination patterns as the
// vendor writes them, the condition each one carries.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "catalog/catalog.hpp"
#include "unit/catalog/catalog_test_util.hpp"

namespace callwall::catalog {
namespace {

constexpr const char* kSendbird = "000_41778c2c40109936.txt";
constexpr const char* kWhereby = "001_eaeeebfdd0024e7a.txt";
constexpr const char* kAgora2020 = "002_4e67e0e5b74e4d76.txt";
constexpr const char* kAgora2018 = "003_896b9188205df0be.txt";
constexpr const char* kWherebyCopy = "004_dbdf93de677adebf.txt";

// One row of a seed's port table: transport, the ports as a list ("80 443
// 5866-6000"), the names they go to, and the condition.
struct Requirement {
    std::string vendor, product, edition, file;
    std::string transport;  // "tcp" / "udp"
    std::string ports;  // space-separated ports and lo-hi ranges
    std::vector<std::string> destinations;
    std::string condition;  // "", "feature:X", "sdk>=V", "sdk<V", "config:KEY"
    bool required = true;
};

const std::vector<std::string> kAgora2020RtcWeb = {".agora.io", ".edge.agora.io", ".agoraio.cn", ".edge.agoraio.cn"};
const std::vector<std::string> kAgora2020RtmWeb = {".agora.io",
                                                   ".agoraio.cn",
                                                   ".edge.agora.io",
                                                   ".edge.agoraio.cn",
                                                   "ap-web-1.agora.io",
                                                   "ap-web-1.agoraio.cn",
                                                   "ap-web-2.agora.io",
                                                   "ap-web-2.agoraio.cn",
                                                   "webcollector-rtm.agora.io",
                                                   "logservice-rtm.agora.io",
                                                   "webcollector-rtm.agoraio.cn",
                                                   "logservice-rtm.agoraio.cn"};
const std::vector<std::string> kAgora2018Native = {
    ".agora.io",      "vocs1.agora.io",     "vocs2.agora.io",  "vocs3.agora.io", "vocs4.agora.io",
    "vocs5.agora.io", "qoslbs.agoralab.co", "qos.agoralab.co", "ap1.agora.io",   "ap2.agora.io",
    "ap3.agora.io",   "ap4.agora.io",       "ap5.agora.io"};
const std::vector<std::string> kAgora2018Recording = {".agora.io", "vocs.agora.io", "qoslbs.agora.io", "qos.agora.io"};
const std::vector<std::string> kWherebySignaling = {"*.sfu.whereby.com", "*.sfu.svc.whereby.com", "*.srv.whereby.com",
                                                    "*.svc.whereby.com", "*.appearin.net"};
const std::vector<std::string> kWherebyTurn = {"*.turn.whereby.com", "*.turn.svc.whereby.com",
                                               "turnserver.appearin.net"};
const std::vector<std::string> kWherebyThirdParty = {"*.posthog.com", "*.sentry.io", "*.helpscout.net",
                                                     "*.amazonaws.net", "*.cloudfront.net"};

const std::vector<Requirement>& expected_requirements() {
    static const std::vector<Requirement> r = {
        // 000: Sendbird Calls, undated.
        {"Sendbird", "Calls SDK", "", kSendbird, "tcp", "443", {"*.calls.sendbird.com"}, ""},
        {"Sendbird", "Calls SDK", "", kSendbird, "udp", "5349", {"*.calls.sendbird.com"}, "feature:Direct Call"},
        {"Sendbird", "Calls SDK", "", kSendbird, "udp", "1024-65535", {"ANY"}, "", false},

        // 001 (+ 004): Whereby, undated. The third-party domain list has no port on the
        // page; the catalog's TCP 443 for it is an assumption checked separately below.
        {"Whereby", "Whereby (browser)", "", kWhereby, "tcp", "443", kWherebySignaling, ""},
        {"Whereby", "Whereby (browser)", "", kWhereby, "tcp", "443", kWherebyTurn, ""},
        {"Whereby", "Whereby (browser)", "", kWhereby, "udp", "443", kWherebyTurn, ""},
        {"Whereby", "Whereby (browser)", "", kWhereby, "udp", "1024-65535", kWherebyTurn, ""},
        {"Whereby", "Whereby (browser)", "", kWhereby, "tcp", "443", kWherebyThirdParty, "", false},

        // 002: Agora 2020.
        {"Agora", "RTC Web SDK", "2020", kAgora2020, "tcp", "80 443 3433 5668 5669 5866-6000 6080 6443 8667 9667",
         kAgora2020RtcWeb, ""},
        {"Agora", "RTC Web SDK", "2020", kAgora2020, "tcp", "30011-30013", kAgora2020RtcWeb, "feature:RTMP converter"},
        {"Agora", "RTC Web SDK", "2020", kAgora2020, "udp", "3478", kAgora2020RtcWeb, ""},
        {"Agora", "RTC Web SDK", "2020", kAgora2020, "udp", "5866-6000", kAgora2020RtcWeb, "sdk>=2.9.0"},
        {"Agora", "RTC Web SDK", "2020", kAgora2020, "udp", "10000-65535", kAgora2020RtcWeb, "sdk<2.9.0"},
        {"Agora", "RTM Native SDK", "2020", kAgora2020, "tcp", "9130 9131", {".agora.io"}, ""},
        {"Agora", "RTM Native SDK", "2020", kAgora2020, "udp", "8000 1080 25000", {".agora.io"}, ""},
        {"Agora", "RTM Web SDK", "2020", kAgora2020, "tcp", "443 6443 9591 9593", kAgora2020RtmWeb, ""},

        // 003: Agora 2018.
        {"Agora", "Native SDK", "2018", kAgora2018, "tcp", "1080 8000 9700 25000 30000", kAgora2018Native, ""},
        {"Agora", "Native SDK", "2018", kAgora2018, "udp", "1080 4000-4030 7000 8000 8913 9700 25000", kAgora2018Native,
         ""},
        {"Agora",
         "Web SDK",
         "2018",
         kAgora2018,
         "tcp",
         "80 443 3433 5668 5669 5866-5890 6080 6443 8667 9667",
         {".agora.io"},
         ""},
        {"Agora", "Web SDK", "2018", kAgora2018, "udp", "3478 10000-65535", {".agora.io"}, ""},
        {"Agora", "Signaling SDK", "2018", kAgora2018, "tcp", "1080 8001-8199", {".agora.io"}, ""},
        {"Agora", "Signaling SDK", "2018", kAgora2018, "udp", "8180-8199", {".agora.io"}, ""},
        {"Agora", "Recording SDK", "2018", kAgora2018, "tcp", "1080 8000", kAgora2018Recording, ""},
        {"Agora", "Recording SDK", "2018", kAgora2018, "udp", "1080 4000-4030 8000 9700 25000", kAgora2018Recording,
         ""},
        {"Agora", "Recording SDK", "2018", kAgora2018, "udp", "40000-41000", kAgora2018Recording,
         "config:lowUdpPort..highUdpPort"},
        {"Agora", "Gaming SDK", "2018", kAgora2018, "tcp", "1080 8000", kAgora2018Recording, ""},
        {"Agora", "Gaming SDK", "2018", kAgora2018, "udp", "1080 4000-4030 8000 9700 25000", kAgora2018Recording, ""},
    };
    return r;
}

// Products the vendor says cannot be allow-listed: (vendor, product, edition, file).
const std::set<std::tuple<std::string, std::string, std::string, std::string>> kNotAllowListable = {
    {"Agora", "RTC Native SDK", "2020", kAgora2020},
    {"Agora", "On-premise Recording SDK", "2020", kAgora2020},
    {"Agora", "Gaming SDK", "2020", kAgora2020},
};

// (vendor, product, edition, transport, lo, hi, destinations, condition, required, file)
using Tuple = std::tuple<std::string, std::string, std::string, std::string, int, int, std::string, std::string, bool,
                         std::string>;

std::vector<Tuple> expand(const Requirement& r) {
    std::vector<Tuple> out;
    for (const auto& [lo, hi] : test::port_ranges(r.ports)) {
        out.emplace_back(r.vendor, r.product, r.edition, r.transport, lo, hi, test::sorted_joined(r.destinations),
                         r.condition, r.required, r.file);
    }
    return out;
}

std::string describe(const Tuple& t) {
    std::ostringstream o;
    o << std::get<0>(t) << " | " << std::get<1>(t) << " | " << std::get<2>(t) << " | " << std::get<3>(t) << " "
      << std::get<4>(t) << "-" << std::get<5>(t) << " | " << std::get<6>(t) << "| " << std::get<7>(t) << " | "
      << (std::get<8>(t) ? "required" : "optional") << " | " << std::get<9>(t);
    return o.str();
}

class SeedTuples : public ::testing::Test {
protected:
    static void SetUpTestSuite() { catalog_ = test::load_catalog_or_fail(bundled_catalog_dir()); }
    static void TearDownTestSuite() {
        delete catalog_;
        catalog_ = nullptr;
    }
    // Built from the seed files (not from a web page).
    static bool seed_document(uint32_t document) { return !catalog_->documents()[document].sources.empty(); }
    static Catalog* catalog_;
};
Catalog* SeedTuples::catalog_ = nullptr;

TEST_F(SeedTuples, ExactlyTheSeedRequirements) {
    ASSERT_NE(catalog_, nullptr);
    std::vector<Tuple> expected;
    for (const Requirement& r : expected_requirements()) {
        for (Tuple& t : expand(r)) expected.push_back(std::move(t));
    }
    std::vector<Tuple> actual;
    for (const Entry& e : catalog_->entries()) {
        if (!seed_document(e.document)) continue;
        std::vector<std::string> dests;
        for (const Destination& d : e.destinations) dests.push_back(d.as_written);
        for (const PortRange& p : e.ports) {
            actual.emplace_back(e.vendor, e.product, e.edition, std::string(to_string(e.transport)), p.lo, p.hi,
                                test::sorted_joined(dests), test::condition_text(e), e.required, e.source.file);
        }
    }
    test::expect_same_tuples(std::move(expected), std::move(actual), describe, "not in the seeds");
}

TEST_F(SeedTuples, NotAllowListableProducts) {
    ASSERT_NE(catalog_, nullptr);
    std::set<std::tuple<std::string, std::string, std::string, std::string>> actual;
    for (const Product& p : catalog_->products()) {
        if (!seed_document(p.document)) continue;
        EXPECT_FALSE(p.allowlist_supported);
        EXPECT_NE(p.advice.find("cloud proxy"), std::string::npos) << p.id;
        actual.emplace(p.vendor, p.product, p.edition, p.source.file);
        // Recorded as a fact about the product, never as an empty rule.
        for (const Entry& e : catalog_->entries()) {
            EXPECT_FALSE(e.vendor == p.vendor && e.product == p.product && e.edition == p.edition) << e.id;
        }
    }
    EXPECT_EQ(actual, kNotAllowListable);
}

TEST_F(SeedTuples, DestinationPatternsPerSeedDocument) {
    ASSERT_NE(catalog_, nullptr);
    // Every pattern each document names, as a set (from the seed text).
    const std::map<std::string, std::set<std::string>> expected = {
        {kSendbird, {"*.calls.sendbird.com", "ANY"}},
        {kWhereby,
         {"*.sfu.whereby.com", "*.sfu.svc.whereby.com", "*.srv.whereby.com", "*.svc.whereby.com", "*.appearin.net",
          "*.turn.whereby.com", "*.turn.svc.whereby.com", "*.posthog.com", "*.sentry.io", "*.helpscout.net",
          "*.amazonaws.net", "*.cloudfront.net", "turnserver.appearin.net"}},
        {kAgora2020,
         {".agora.io", ".edge.agora.io", ".agoraio.cn", ".edge.agoraio.cn", "ap-web-1.agora.io", "ap-web-1.agoraio.cn",
          "ap-web-2.agora.io", "ap-web-2.agoraio.cn", "webcollector-rtm.agora.io", "logservice-rtm.agora.io",
          "webcollector-rtm.agoraio.cn", "logservice-rtm.agoraio.cn"}},
        {kAgora2018,
         {".agora.io", "vocs1.agora.io", "vocs2.agora.io", "vocs3.agora.io", "vocs4.agora.io", "vocs5.agora.io",
          "qoslbs.agoralab.co", "qos.agoralab.co", "ap1.agora.io", "ap2.agora.io", "ap3.agora.io", "ap4.agora.io",
          "ap5.agora.io", "vocs.agora.io", "qoslbs.agora.io", "qos.agora.io"}},
    };
    std::map<std::string, std::set<std::string>> actual;
    for (const Entry& e : catalog_->entries()) {
        if (!seed_document(e.document)) continue;
        for (const Destination& d : e.destinations) actual[e.source.file].insert(d.as_written);
    }
    EXPECT_EQ(actual, expected);
}

TEST_F(SeedTuples, EditionsKeptWithTheirDates) {
    ASSERT_NE(catalog_, nullptr);
    std::map<std::string, std::string> dates;
    size_t seed_documents = 0;
    for (const Document& d : catalog_->documents()) {
        if (d.sources.empty()) continue;
        ++seed_documents;
        dates[d.vendor + " " + d.edition] = d.date;
    }
    EXPECT_EQ(dates["Agora 2020"], "2020-09-15");  // updatedAt: Tue Sep 15 2020
    EXPECT_EQ(dates["Agora 2018"], "2018-11-06");  // updatedAt: Tue Nov 06 2018
    EXPECT_EQ(dates["Sendbird "], "");
    EXPECT_EQ(dates["Whereby "], "");
    EXPECT_EQ(seed_documents, 4u);
}

TEST_F(SeedTuples, WherebyIsOnePolicyWithFieldProvenance) {
    ASSERT_NE(catalog_, nullptr);
    size_t whereby_documents = 0;
    for (const Document& d : catalog_->documents()) {
        if (d.vendor != "Whereby" || d.sources.empty()) continue;
        ++whereby_documents;
        EXPECT_EQ(d.sources, (std::vector<std::string>{kWhereby, kWherebyCopy}));
        EXPECT_EQ(d.authoritative, kWhereby);
    }
    EXPECT_EQ(whereby_documents, 1u);

    auto files_for = [&](const Entry& e, std::string_view field) {
        for (const FieldProvenance& p : e.provenance) {
            if (p.field == field) return std::set<std::string>(p.files.begin(), p.files.end());
        }
        return std::set<std::string>{};
    };
    const std::set<std::string> both = {kWhereby, kWherebyCopy};
    const std::set<std::string> only_001 = {kWhereby};
    for (const Entry& e : catalog_->entries()) {
        if (e.vendor != "Whereby" || !seed_document(e.document)) continue;
        EXPECT_EQ(e.source.file, kWhereby) << e.id;
        if (e.third_party) {
            // The five third-party domains are missing from 004; the page gives no port.
            EXPECT_EQ(files_for(e, "destinations"), only_001) << e.id;
            EXPECT_NE(std::find(e.assumed.begin(), e.assumed.end(), "ports"), e.assumed.end());
            EXPECT_NE(std::find(e.assumed.begin(), e.assumed.end(), "transport"), e.assumed.end());
            continue;
        }
        EXPECT_EQ(files_for(e, "ports"), both) << e.id;
        EXPECT_EQ(files_for(e, "transport"), both) << e.id;
        EXPECT_EQ(files_for(e, "destinations"), both) << e.id;
        // 004 lost the service names of table rows 1 (signaling) and 4 (high ports).
        const bool lost_in_copy = e.service == "Whereby signaling (wss)" || e.service == "Whereby TURN/SFU highport";
        EXPECT_EQ(files_for(e, "service"), lost_in_copy ? only_001 : both) << e.id;
        EXPECT_TRUE(e.assumed.empty()) << e.id;
    }
}

TEST_F(SeedTuples, VendorPreferencesAndDirections) {
    ASSERT_NE(catalog_, nullptr);
    EXPECT_TRUE(catalog_->prefers_udp(*catalog_->vendor_index("Whereby")));  // 001: "UDP is the preferred protocol"
    EXPECT_TRUE(catalog_->prefers_udp(*catalog_->vendor_index("Agora")));  // 003: "You must use UDP ports"
    EXPECT_FALSE(catalog_->prefers_udp(*catalog_->vendor_index("Sendbird")));
    for (const Entry& e : catalog_->entries()) {
        if (!seed_document(e.document)) continue;
        const bool downstream = e.id == "agora-2018.recording.udp-downstream";
        EXPECT_EQ(e.direction, downstream ? Direction::Inbound : Direction::Outbound) << e.id;
    }
    const Entry* rec = catalog_->find_entry("agora-2018.recording.udp-downstream");
    ASSERT_NE(rec, nullptr);
    ASSERT_TRUE(rec->conditions.local_config);
    EXPECT_EQ(rec->conditions.local_config->recommended, (PortRange{40000, 41000}));
    // Sendbird: "If you cannot use wildcard FQDN as the destination address, set it to ANY."
    EXPECT_TRUE(catalog_->find_entry("sendbird-calls.signal.tcp")->any_fallback);
    EXPECT_TRUE(catalog_->find_entry("sendbird-calls.media-direct-call.udp")->any_fallback);
}

TEST_F(SeedTuples, NoMojibakeCarriedOver) {
    ASSERT_NE(catalog_, nullptr);
    auto clean = [](const std::string& s) { return s.find("\xC3\xA2\xE2\x82\xAC") == std::string::npos; };
    for (const Document& d : catalog_->documents()) {
        for (const std::string& n : d.notes) EXPECT_TRUE(clean(n)) << n;
    }
    for (const Product& p : catalog_->products()) EXPECT_TRUE(clean(p.advice)) << p.advice;
    for (const Entry& e : catalog_->entries()) EXPECT_TRUE(clean(e.notes) && clean(e.service)) << e.id;
}

#ifdef CALLWALL_SHARED_DIR
// Each section a catalog record cites is made of headings/rows that appear
// verbatim in its seed file.
TEST_F(SeedTuples, SectionsAppearInTheSeedFiles) {
    ASSERT_NE(catalog_, nullptr);
    const std::filesystem::path seeds = std::filesystem::path(CALLWALL_SHARED_DIR) / "seeds";
    if (!std::filesystem::exists(seeds)) GTEST_SKIP() << "no seeds at " << seeds;
    auto read = [&](const std::string& file) {
        std::ifstream in(seeds / file, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    auto check = [&](const SourceRef& src, const std::string& who) {
        const std::string text = read(src.file);
        ASSERT_FALSE(text.empty()) << src.file;
        size_t start = 0;
        const std::string& s = src.section;
        while (start <= s.size()) {
            size_t end = std::min(s.find(" > ", start), s.find("; ", start));
            if (end == std::string::npos) end = s.size();
            const std::string part = s.substr(start, end - start);
            EXPECT_NE(text.find(part), std::string::npos) << who << ": '" << part << "' not in " << src.file;
            if (end == s.size()) break;
            start = end + (s.compare(end, 3, " > ") == 0 ? 3 : 2);
        }
    };
    for (const Entry& e : catalog_->entries()) {
        if (seed_document(e.document)) check(e.source, e.id);
    }
    for (const Product& p : catalog_->products()) {
        if (seed_document(p.document)) check(p.source, p.id);
    }
}
#endif

}  // namespace
}  // namespace callwall::catalog
