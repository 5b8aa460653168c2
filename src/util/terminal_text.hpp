// Text for a terminal from bytes nobody vouches for: a name off the wire, a
// catalog file's strings. The text report, `-v`, the live view and the
// catalog's text output write such strings through these, so no packet byte
// can move the cursor, clear the screen, set the window title or forge a line
// of the report, and what they print is always valid UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace callwall::util {

/// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs,
/// surrogates or code points past U+10FFFF) that starts at `s[at]`, with its
/// code point; 0 when the byte there starts none.
struct Utf8Step {
    size_t length = 0;
    char32_t code_point = 0;
};
[[nodiscard]] Utf8Step utf8_step(std::string_view s, size_t at) noexcept;

/// Whether a code point must not reach a terminal as itself: C0 controls
/// (newline and tab included), DEL, C1 controls (U+0080-U+009F, which some
/// terminals read as CSI and OSC) and the bidirectional overrides and
/// isolates (U+202A-U+202E, U+2066-U+2069) that reorder what a line shows.
[[nodiscard]] bool unsafe_on_terminal(char32_t cp) noexcept;

/// `s` as a terminal may print it: every byte of a code point
/// `unsafe_on_terminal` names, and every byte that is not part of
/// well-formed UTF-8, written as \xHH (as tcpdump and Zeek write raw bytes);
/// everything else as is. The result is valid UTF-8 with no control byte.
[[nodiscard]] std::string terminal_text(std::string_view s);

/// The same for a text of several lines: each line escaped, the newlines
/// between them kept (a carriage return is still escaped).
[[nodiscard]] std::string terminal_lines(std::string_view s);

/// Whether `s` is already what terminal_text would leave unchanged.
[[nodiscard]] bool terminal_safe(std::string_view s) noexcept;

}  // namespace callwall::util
