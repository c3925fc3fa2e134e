#pragma once
// Canonical form of a client-supplied host name (SNI or HTTP Host) before it is resolved or logged.
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sixgate::proxy {

// Lowercases ASCII letters and removes one trailing dot. Refuses: empty names, NUL/control/non-ASCII bytes,
// '/', labels outside 1..63 characters of [a-z0-9-_], names longer than 253, and IP literals (anything with
// ':' or '[', and names whose last label is all digits or 0x-hex, as in "1.2.3.4" or "0x7f000001"). The error
// message says what was wrong and shows the name only through log::bounded().
Result<std::string> canonical_hostname(std::string_view raw);

}  // namespace sixgate::proxy
