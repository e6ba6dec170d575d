#include "exporters/api/status_page_delegation.hpp"

#include "agent/common/text_util.hpp"
#include "exporters/api/status_page_zone.hpp"

namespace soawatch {

namespace {

void append_names(std::string& out, const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += ", ";
        append_html_escaped(out, names[i]);
    }
}

}  // namespace

void append_delegation_line(std::string& out, const ZoneStatus& z, Clock::time_point now) {
    if (!z.delegation) return;
    const DelegationAudit& d = *z.delegation;
    out += "<p class=\"meta delegation\">delegation check ";
    append_ago(out, z.delegation_checked_at.value_or(now), now);
    out += ": parent NS ";
    if (d.parent_ns) {
        append_names(out, d.parent_ns->items());
    } else {
        out += "<span title=\"";
        append_html_escaped(out, d.parent_error.str());
        out += "\">unknown</span>";
    }
    out += " &middot; zone NS ";
    if (d.child_ns) {
        append_names(out, d.child_ns->items());
    } else {
        out += "unknown";
    }
    if (d.findings.empty()) {
        out += " &middot; no problem found";
    }
    for (const auto& f : d.findings) {
        out += " &middot; <b class=\"open\">";
        append_html_escaped(out, delegation_problem_reason(f.problem));
        if (!f.side.empty()) {
            out += " (";
            append_html_escaped(out, f.side);
            out += ")";
        }
        if (!f.names.empty()) {
            out += ": ";
            append_names(out, f.names);
        }
        out += "</b>";
    }
    out += "</p>\n";
}

}  // namespace soawatch
