// RFC 4648 base64, decoding only: HTTP basic auth credentials (RFC 7617) and TSIG secrets (the
// form tsig-keygen and knotc print). The one decoder of the project.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace soawatch {

// Padding required where the length asks for it, '=' only at the very end, no white space.
// nullopt when the text is not valid base64; "" decodes to "".
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace soawatch
