// Captures of one direction only (a tap that copies one direction, a mirror
// of the client's side): not one packet from any server. The run says so
// once in its notes, and its silent flows, and the requirements they serve,
// are inconclusive, never blocked; a TCP connection whose client
// acknowledged the server's SYN-ACK or bytes is observed. Over the
// generated capture (captures/field/oneway_client_side.pcap,
// tools/gen_field_oneway.py) and the real ones of ../shared/captures/public
// that hold one direction, each listed with its run note (skipped, with the
// reason, when ../shared is absent).
#include <gtest/gtest.h>

#include <filesystem>

#include "attrib/attrib.hpp"
#include "capture/pcap_source.hpp"
#include "golden/run_util.hpp"
#include "run/session.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"

namespace callwall::test {
namespace {

namespace fs = std::filesystem;

struct Analyzed {
    TempDb db;
    std::string notes;
    attrib::RunVerdicts verdicts;
    /// `callwall analyze` on one file, as the command runs it (a session:
    /// its notes are the run row's).
    explicit Analyzed(const std::string& pcap) {
        run::Options o;
        o.db_path = db.path();
        o.kind = "analyze";
        o.sources = {pcap};
        o.command_line = "one_direction_test";
        // Every bundled vendor: the requirement below is Whereby's current edition.
        o.catalog = &full_bundled_catalog();
        run::Session s(std::move(o));
        auto src = capture::PcapSource::open_file(pcap);
        decode::RawFrame f;
        while (src->next(f) == capture::NextStatus::Frame) s.process(f);
        s.finish(run::Status::Completed);
        const auto v = s.attribute();
        if (v) verdicts = *v;
        notes = query_rows(db.path(), "SELECT notes FROM run")[0];
    }
    std::vector<std::string> rows(const std::string& sql) const { return query_rows(db.path(), sql); }
};

TEST(OneDirection, AClientSideCaptureIsSaidOnceAndNothingInItIsBlocked) {
    const Analyzed r(source_dir() + "/captures/field/oneway_client_side.pcap");
    const std::string note = "this capture holds one direction only: 7 flows, no packet from any server\n";
    ASSERT_NE(r.notes.find(note), std::string::npos) << r.notes;
    EXPECT_EQ(r.notes.find(note), r.notes.rfind(note)) << "said once";
    EXPECT_EQ(r.verdicts.one_direction.flows(), 7u);
    // The client's ACKs prove the two answered connections; the SYN sent
    // three times, the DNS queries, the STUN requests and the QUIC Initials
    // prove nothing.
    EXPECT_EQ(
        r.rows("SELECT server_ip || ':' || server_port || ' ' || outcome FROM flow WHERE transport IN "
               "('tcp','udp') ORDER BY first_ts"),
        (std::vector<std::string>{"10.1.0.1:53 inconclusive", "10.1.0.1:53 inconclusive", "198.51.100.30:443 observed",
                                  "198.51.100.32:443 observed", "198.51.100.33:443 inconclusive",
                                  "198.51.100.34:3478 inconclusive", "198.51.100.35:443 inconclusive"}));
    EXPECT_EQ(r.rows("SELECT count(*) FROM verdict WHERE verdict IN ('blocked', 'partial')"),
              std::vector<std::string>{"0"});
    // The requirement the unanswered QUIC Initials (SNI b.turn.whereby.com)
    // serve is inconclusive and says why; the product did not "fall back"
    // to TURN over TCP/TLS on that evidence.
    EXPECT_EQ(r.rows("SELECT verdict, why FROM verdict WHERE entry_id = 'whereby-current.turn.udp'"),
              std::vector<std::string>{
                  "inconclusive\t1 attempt(s) on port 443 unanswered in a capture of one direction only (no packet "
                  "from any server): the capture cannot show an answer"});
    EXPECT_EQ(r.rows("SELECT conclusion FROM product_verdict WHERE edition LIKE '%current%'"),
              std::vector<std::string>{"ready"});
}

TEST(OneDirection, ACaptureOfBothDirectionsHasNoSuchNote) {
    const Analyzed r(source_dir() + "/captures/field/server_side_lost.pcap");
    EXPECT_EQ(r.notes.find("one direction only"), std::string::npos) << r.notes;
    EXPECT_EQ(r.verdicts.one_direction.flows(), 0u);
    // A connection whose server packets are missing is observed by its
    // client's ACKs; the SYN never answered stays blocked.
    EXPECT_EQ(r.rows("SELECT client_port || ' ' || outcome || ' ' || coalesce(acked_s2c, '-') FROM flow WHERE "
                     "transport = 'tcp' ORDER BY first_ts"),
              (std::vector<std::string>{"52000 observed 1706", "52001 observed 0", "52002 blocked:no-answer -"}));
}

// A pcapng file of two interfaces, the second a tap of one direction: the
// note names that interface, its silent flows are inconclusive, and a SYN
// nobody answered on the first (which shows answers) stays blocked. Read
// as one file, the first interface's answers would have made the second's
// silence a refusal.
TEST(OneDirection, EachInterfaceOfAPcapngIsJudgedOnItsOwn) {
    const Analyzed r(source_dir() + "/captures/field/one_sided_interface.pcapng");
    const std::string note =
        "interface 1 of this capture holds one direction only: 2 flows, no packet from any server (the others show "
        "both)\n";
    ASSERT_NE(r.notes.find(note), std::string::npos) << r.notes;
    EXPECT_EQ(r.notes.rfind("this capture holds one direction only", 0), std::string::npos) << r.notes;
    EXPECT_EQ(r.notes.find("\nthis capture holds one direction only"), std::string::npos) << r.notes;
    EXPECT_EQ(r.verdicts.one_direction.flows(), 2u);
    EXPECT_EQ(r.verdicts.one_direction.one_sided(), 2u);
    EXPECT_EQ(r.rows("SELECT interfaces || ' ' || server_ip || ':' || server_port || ' ' || outcome FROM flow WHERE "
                     "transport IN ('tcp','udp') ORDER BY first_ts"),
              (std::vector<std::string>{"1 10.1.0.1:53 observed", "1 198.51.100.30:443 observed",
                                        "1 198.51.100.31:443 blocked:no-answer", "2 198.51.100.33:443 inconclusive",
                                        "2 198.51.100.34:3478 inconclusive"}));
}

// A tap's two halves as two interfaces, one direction each: together they
// show both, so no interface is said to hold one direction, and the SYN
// nobody answered is blocked.
TEST(OneDirection, ATapsTwoHalvesShowBothDirectionsTogether) {
    const Analyzed r(source_dir() + "/captures/field/split_tap.pcapng");
    EXPECT_EQ(r.notes.find("one direction only"), std::string::npos) << r.notes;
    EXPECT_EQ(r.verdicts.one_direction.flows(), 0u);
    EXPECT_EQ(r.rows("SELECT interfaces || ' ' || server_ip || ':' || server_port || ' ' || outcome FROM flow WHERE "
                     "transport IN ('tcp','udp') ORDER BY first_ts"),
              (std::vector<std::string>{"3 198.51.100.30:443 observed", "3 198.51.100.34:3478 observed",
                                        "1 198.51.100.31:443 blocked:no-answer"}));
}

// Real captures of one direction in ../shared/captures/public, with the
// note their run gets.
struct OneWayCapture {
    const char* file;
    const char* note;
};
const OneWayCapture kRealOneWay[] = {
    // WhatsApp's chat connections from 192.168.2.100, its packets alone:
    // every connection's ACKs acknowledge the server (all 86 observed).
    {"ndpi__whatsapp.pcap", "this capture holds one direction only: 86 flows, no packet from any server"},
    // A Windows client's ClientHellos and QUIC Initials, nothing back.
    {"ja4__tls-sni.pcapng", "this capture holds one direction only: 79 flows, no packet from any server"},
    // Two interfaces: 0 holds a client's STUN requests to 10.1.0.3, 1 the
    // relay's answers after a NAT (another 5-tuple, the answers alone):
    // interface 0 alone holds one direction.
    {"ndpi__stun_dtls_rtp_unidir.pcapng",
     "interface 0 of this capture holds one direction only: 1 flows, no packet from any server (the others show "
     "both)"},
    // 200 SYNs of a flood, one each.
    {"suricata-verify__tcp-session-syn-flood-drop-precedence__input.pcap",
     "this capture holds one direction only: 200 flows, no packet from any server"},
};

TEST(OneDirection, RealCapturesOfOneDirectionAreSaidSoAndNeverBlocked) {
    const std::string shared = shared_dir();
    if (shared.empty()) GTEST_SKIP() << "../shared is absent: no public captures of one direction to read";
    const std::string dir = shared + "/captures/public";
    for (const auto& c : kRealOneWay) {
        const std::string path = dir + "/" + c.file;
        if (!fs::exists(path)) {
            ADD_FAILURE() << path << " is missing from the public captures";
            continue;
        }
        const Analyzed r(path);
        EXPECT_NE(r.notes.find(std::string(c.note) + "\n"), std::string::npos) << c.file << ": " << r.notes;
        EXPECT_EQ(r.rows("SELECT count(*) FROM flow WHERE outcome LIKE 'blocked%'"), std::vector<std::string>{"0"})
            << c.file;
        EXPECT_EQ(r.rows("SELECT count(*) FROM verdict WHERE verdict IN ('blocked', 'partial')"),
                  std::vector<std::string>{"0"})
            << c.file;
    }
}

}  // namespace
}  // namespace callwall::test
