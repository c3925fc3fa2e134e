// tls_alert() is constexpr and lives in the header; this file keeps the folder's one-library-per-folder build
// uniform for header-only pieces.
#include "proxy/core/tls_alert.hpp"

namespace sixgate::proxy {
static_assert(tls_alert(kAlertUnrecognizedName)[6] == 112);
}  // namespace sixgate::proxy
