// Quoting what a user wrote inside a one-line message (config errors, flag errors).
#pragma once

#include <string>
#include <string_view>

namespace soawatch {

// Text in double quotes with quotes, backslashes and control characters escaped (\x1f), so the
// message stays on one line whatever the input held.
std::string quoted(std::string_view text);

}  // namespace soawatch
