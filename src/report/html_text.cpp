// The HTML report's text helpers and fixed vocabularies (see html_parts.hpp).
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "decode/icmp_text.hpp"
#include "report/html_parts.hpp"

namespace callwall::report::html {
namespace {

/// Length of the valid UTF-8 sequence at s[i], 0 if it is not one
/// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_sequence_length(std::string_view s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return 1;
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (cc & 0x3Fu);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

std::string endpoint(const std::string& ip, uint16_t port) {
    const bool v6 = ip.find(':') != std::string::npos;
    return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

}  // namespace

// ---------------------------------------------------------------------------
// Text.

/// HTML-escapes text for element content and quoted attribute values.
std::string esc(std::string_view s) {
    std::string o;
    o.reserve(s.size() + 8);
    for (size_t i = 0; i < s.size();) {
        const char c = s[i];
        const size_t n = utf8_sequence_length(s, i);
        if (n == 0) {
            o += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
            ++i;
            continue;
        }
        if (n > 1) {
            o.append(s.substr(i, n));
            i += n;
            continue;
        }
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            case '\'': o += "&#39;"; break;
            case '\t':
            case '\n': o += c; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
                    o += "\xEF\xBF\xBD";
                else
                    o += c;
        }
        ++i;
    }
    return o;
}

/// s in at most `max_chars` code points: if longer, its middle becomes "…"
/// and both ends stay, the start a little shorter than the end (the end of a
/// lane label carries the ports or the entry id that tell lanes apart).
std::string clip_middle(std::string_view s, size_t max_chars) {
    std::vector<size_t> starts;  // byte offset of each code point
    for (size_t i = 0; i < s.size();) {
        starts.push_back(i);
        const size_t n = utf8_sequence_length(s, i);
        i += n == 0 ? 1 : n;
    }
    if (starts.size() <= max_chars || max_chars < 3) return std::string(s);
    const size_t head = (max_chars - 1) * 2 / 5, tail = max_chars - 1 - head;
    return std::string(s.substr(0, starts[head])) + "\u2026" + std::string(s.substr(starts[starts.size() - tail]));
}

std::string clip_words(std::string_view s, size_t max_chars) {
    std::vector<size_t> starts;  // byte offset of each code point
    for (size_t i = 0; i < s.size();) {
        starts.push_back(i);
        const size_t n = utf8_sequence_length(s, i);
        i += n == 0 ? 1 : n;
    }
    const size_t n = starts.size();
    if (n <= max_chars || max_chars < 5) return std::string(s);
    // " … " takes three of the characters; the head keeps two fifths of the rest.
    const size_t budget = max_chars - 3, head_max = budget * 2 / 5, tail_max = budget - head_max;
    // Words end at a space or after a comma (a port list, "80,443,3478").
    // The head ends at such a boundary within head_max characters, the tail
    // starts at one within its last tail_max: a word longer than its share is
    // the one thing still cut.
    const auto boundary = [&](size_t k) {  // between code points k-1 and k
        return s[starts[k]] == ' ' || s[starts[k - 1]] == ' ' || s[starts[k - 1]] == ',';
    };
    size_t head = head_max;
    for (size_t k = head_max; k > 0; --k)
        if (boundary(k)) {
            head = k;
            break;
        }
    size_t tail = n - tail_max;  // first code point of the tail
    for (size_t k = n - tail_max; k < n; ++k)
        if (boundary(k)) {
            tail = k;
            break;
        }
    std::string_view h = s.substr(0, starts[head]);
    while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
    std::string_view tl = s.substr(starts[tail]);
    while (!tl.empty() && tl.front() == ' ') tl.remove_prefix(1);
    return std::string(h) + " \u2026 " + std::string(tl);
}

std::string fixed(double v, int decimals) {
    if (!std::isfinite(v)) return "?";
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    return b;
}

/// 1234567 -> "1,234,567".
std::string grouped(uint64_t v) {
    const std::string digits = std::to_string(v);
    std::string s;
    s.reserve(digits.size() + digits.size() / 3);
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
        s += digits[i];
    }
    return s;
}

/// Seconds since the epoch as "2024-05-01T12:00:03.250Z"; "—" when unset.
std::string iso_utc(double ts) {
    // Beyond year 5138 (1e11 s) the cast to time_t or gmtime could fail:
    // such a time is a corrupt value, not a date.
    if (!std::isfinite(ts) || ts <= 0 || ts > 1e11) return "\u2014";
    double whole = std::floor(ts);
    auto ms = static_cast<int>(std::lround((ts - whole) * 1000.0));
    if (ms >= 1000) {
        whole += 1;
        ms -= 1000;
    }
    const auto t = static_cast<time_t>(whole);
    struct tm tm {};
    if (gmtime_r(&t, &tm) == nullptr) return "\u2014";
    char b[64];
    std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return b;
}

std::string seconds_text(double s) {
    if (!std::isfinite(s)) return "?";
    if (std::fabs(s) >= 100) return fixed(s, 0) + " s";
    if (std::fabs(s) >= 10) return fixed(s, 1) + " s";
    return fixed(s, 3) + " s";
}

std::string five_tuple(const std::string& transport, const std::string& cip, uint16_t cport, const std::string& sip,
                       uint16_t sport) {
    return transport + " " + endpoint(cip, cport) + " \u2192 " + endpoint(sip, sport);
}

std::string five_tuple(const EvidenceFlow& f) {
    return five_tuple(f.transport, f.client_ip, f.client_port, f.server_ip, f.server_port);
}

std::string or_dash(const std::string& s) { return s.empty() ? "\u2014" : s; }

/// Escaped, with a line-break opportunity after each comma (long port lists).
std::string esc_breakable(std::string_view s) {
    std::string o;
    for (char c : esc(s)) {
        o += c;
        if (c == ',') o += "<wbr>";
    }
    return o;
}

// ---------------------------------------------------------------------------
// Fixed vocabularies: data words to class names and labels.

Badge verdict_badge(const std::string& v, bool audit) {
    if (v == "observed") return {"ok", "\u2713", audit ? "passes" : "observed"};
    if (v == "blocked") return {"bad", "\u2717", "blocked"};
    if (v == "partial") return {"mid", "\u25D0", "partial"};
    if (v == "inconclusive") return {"unk", "?", "inconclusive"};
    if (v == "not_exercised") return {"none", "\u2013", "not exercised"};
    return {"unk", "?", v.empty() ? "unknown" : v};
}

/// A flow's stored outcome is a word with an optional reason after a colon
/// ("blocked:reset", "blocked:stun-timeout"): the word picks the colour, the
/// reason stays in the label.
Badge outcome_badge(const std::string& o) {
    const size_t colon = o.find(':');
    const std::string word = o.substr(0, colon);
    const std::string reason = colon == std::string::npos ? "" : o.substr(colon + 1);
    const std::string label = reason.empty() ? word : word + " (" + reason + ")";
    if (word == "observed") return {"ok", "\u2713", label};
    if (word == "blocked") return {"bad", "\u2717", label};
    if (word == "inconclusive") return {"unk", "?", label};
    // An ICE check its agent gave up on: neither through nor blocked.
    if (word == "abandoned") return {"abn", "\u2205", label};
    return {"none", "\u2013", o.empty() ? "unknown" : o};
}

Badge conclusion_badge(const std::string& c) {
    if (c == "ready") return {"ok", "\u2713", "ready"};
    if (c == "works, degraded") return {"mid", "\u25D0", "works, degraded"};
    if (c == "broken") return {"bad", "\u2717", "broken"};
    if (c == "not exercised") return {"none", "\u2013", "not exercised"};
    if (c == "inconclusive") return {"unk", "?", "inconclusive"};
    if (c == "cannot be allow-listed") return {"nolist", "\u2298", "cannot be allow-listed"};
    return {"unk", "?", c.empty() ? "unknown" : c};
}

std::string badge_html(const Badge& b) {
    return std::string("<span class=\"badge b-") + b.css + "\"><span class=\"glyph\" aria-hidden=\"true\">" + b.glyph +
           "</span> " + esc(b.label) + "</span>";
}

/// What an ICMP error says, as far as type and code tell (family from the sender's address).
std::string icmp_text(const EvidenceFlow& f) {
    if (f.icmp_type < 0) return "";
    const bool v6 = f.icmp_from.find(':') != std::string::npos || f.server_ip.find(':') != std::string::npos;
    const std::string_view what =
        f.icmp_type == (v6 ? 1 : 3) ? decode::unreachable_code_text(v6, f.icmp_code) : std::string_view{};
    std::string s = (v6 ? "ICMPv6 type " : "ICMP type ") + std::to_string(f.icmp_type) + " code " +
                    std::to_string(f.icmp_code < 0 ? 0 : f.icmp_code);
    if (!what.empty()) s += " (" + std::string(what) + ")";
    if (!f.icmp_from.empty()) {
        s += " from " + f.icmp_from;
        s += f.icmp_from == f.server_ip ? " = the destination" : " \u2260 the destination";
    }
    return s;
}

/// Flows counted for a verdict: the evidence lists at most kMaxEvidence of them.
uint64_t flows_counted(const VerdictRow& v) {
    return uint64_t{v.flows_observed} + v.flows_blocked + v.flows_inconclusive;
}

uint64_t flows_not_shown(const VerdictRow& v) {
    const uint64_t total = flows_counted(v);
    return total > v.evidence.size() ? total - v.evidence.size() : 0;
}

std::string requirement_label(const VerdictRow& v) {
    std::string s = v.vendor + " \u00b7 " + v.product + " \u00b7 " + v.service;
    if (!v.transport.empty() || !v.ports.empty())
        s += " (" + v.transport + (v.ports.empty() ? "" : " " + v.ports) + ")";
    return s;
}

}  // namespace callwall::report::html
