// store::DnsNames: a run's DNS questions counted per name between commits
// (store/dns_names.hpp), the counts dns_name rows add up.
#include "store/dns_names.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callwall::store {
namespace {

std::vector<std::string> lines(const DnsNames& n) {
    std::vector<std::string> out;
    n.for_each([&](const DnsNameCount& c) {
        out.push_back(std::to_string(c.run_id) + " " + std::string(c.qname) + " " + std::to_string(c.queries) + " " +
                      std::to_string(c.answered) + " " + std::to_string(c.resolved) + " " + std::to_string(c.failed) +
                      " [" + std::string(c.last_failure) + "] " + std::to_string(c.first_ts) + " " +
                      std::to_string(c.last_ts));
    });
    return out;
}

// Resolved: answered NOERROR with records; an empty NOERROR answer is
// neither resolved nor failed; every other outcome fails and the latest
// failure is the one kept. Names in the order first counted, by run.
TEST(DnsNames, CountsWhatTheQuestionsWere) {
    DnsNames n;
    n.add(1, "b.example", 5.0, true, "NOERROR", 2);
    n.add(1, "a.example", 4.0, true, "NOERROR", 0);  // no AAAA record
    n.add(1, "b.example", 3.0, false, "", 0);
    n.add(1, "b.example", 6.0, true, "SERVFAIL", 0);
    n.add(2, "b.example", 7.0, true, "NXDOMAIN", 0);  // another run: another row
    n.add(1, "b.example", 4.5, true, "NOERROR", 1);
    EXPECT_EQ(lines(n), (std::vector<std::string>{
                            "1 b.example 4 3 2 2 [SERVFAIL] 3.000000 6.000000",
                            "1 a.example 1 1 0 0 [] 4.000000 4.000000",
                            "2 b.example 1 1 0 1 [NXDOMAIN] 7.000000 7.000000",
                        }));
    n.add(1, "b.example", 8.0, false, "", 0);
    EXPECT_EQ(lines(n)[0], "1 b.example 5 3 2 3 [no response] 3.000000 8.000000");
    n.clear();
    EXPECT_TRUE(n.empty());
    n.add(1, "c.example", 1.0, true, "REFUSED", 0);
    EXPECT_EQ(lines(n), std::vector<std::string>{"1 c.example 1 1 0 1 [REFUSED] 1.000000 1.000000"});
}

// Thousands of names (the index grows several times, every name still
// found), and a name whose answers alternate between failures for as long
// as a run lasts: the text held is the names' and each failure text's once.
TEST(DnsNames, ManyNamesAndFailuresHoldTextByNameNotByQuestion) {
    DnsNames n;
    for (int round = 0; round < 3; ++round)
        for (int i = 0; i < 5000; ++i) n.add(1, "n" + std::to_string(i) + ".example", i, true, "NOERROR", 1);
    ASSERT_EQ(n.size(), 5000u);
    const size_t names_bytes = n.text_bytes();
    size_t queries = 0;
    n.for_each([&](const DnsNameCount& c) { queries += c.queries; });
    EXPECT_EQ(queries, 15000u);
    static const char* const kCodes[] = {"NXDOMAIN", "SERVFAIL", "REFUSED"};
    for (int i = 0; i < 300000; ++i) n.add(1, "n7.example", 1.0, i % 4 != 3, i % 4 == 3 ? "" : kCodes[i % 3], 0);
    EXPECT_LE(n.text_bytes(), names_bytes + 64);
    EXPECT_EQ(n.size(), 5000u);
}

}  // namespace
}  // namespace callwall::store
