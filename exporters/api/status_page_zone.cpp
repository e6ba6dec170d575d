#include "exporters/api/status_page_zone.hpp"

#include <algorithm>
#include <cstdio>

#include "agent/common/text_util.hpp"
#include "agent/signatures.hpp"
#include "exporters/api/page_query.hpp"
#include "exporters/api/status_page_delegation.hpp"
#include "probes/nsid.hpp"

namespace soawatch {

namespace {

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

void append_number(std::string& out, unsigned long long n) {
    out += std::to_string(n);
}

const char* const kNone = "<span class=\"none\">&mdash;</span>";

// How bad a server's state is, for worst_server: 0 is fine.
int badness(const NameserverStatus& s) {
    switch (s.state) {
        case ServerState::unusable:
            return 4;
        case ServerState::behind:
            return 3;
        case ServerState::incomparable:
            return 2;
        case ServerState::ahead:
            return 1;
        case ServerState::reference:
        case ServerState::in_sync:
            return 0;
    }
    return 0;
}

void append_state(std::string& out, const NameserverStatus& s) {
    switch (s.state) {
        case ServerState::reference:
            out += "<span class=\"badge sync\">reference</span>";
            return;
        case ServerState::in_sync:
            out += "<span class=\"badge sync\">in sync</span>";
            return;
        case ServerState::behind:
            out += "<span class=\"badge drift\">behind (";
            append_number(out, s.serial_behind);
            out += ") for ";
            out += human_duration(s.lag_seconds);
            out += "</span>";
            return;
        case ServerState::ahead:
            out += "<span class=\"badge drift\">ahead</span>";
            return;
        case ServerState::incomparable:
            out += "<span class=\"badge drift\">incomparable</span>";
            return;
        case ServerState::unusable:
            out += "<span class=\"badge down\">unusable</span>";
            return;
    }
}

void append_server_name(std::string& out, const NameserverStatus& s) {
    if (s.target->nameserver.empty())
        append_html_escaped(out, s.target->address);
    else
        append_html_escaped(out, s.target->nameserver);
}

// The address, and its port when not 53; "port 5300" never breaks across lines.
void append_address(std::string& out, const NameserverStatus& s) {
    out += "<span class=\"ip\">";
    append_html_escaped(out, s.target->address);
    out += "</span>";
    if (s.target->port != 53) {
        out += " <span class=\"port\">port ";
        append_number(out, s.target->port);
        out += "</span>";
    }
}

// The secondary's own refresh clock (EDNS EXPIRE, RFC 7314): how long since it last reached its
// primary and how long it would still serve the zone without it, or that it does not say.
void append_refresh(std::string& out, const NameserverStatus& s) {
    if (s.expired) {
        out += "<span class=\"badge down\">expired</span>";
    } else if (s.refresh_age && s.expire_remaining) {
        out += s.refresh_failing ? "<span class=\"badge drift\" title=\"" : "<span title=\"";
        out += "seconds since it last reached its primary; it expires the zone in ";
        out += human_duration(*s.expire_remaining);
        out += "\">";
        out += human_duration(*s.refresh_age);
        out += " ago</span><br><span class=\"none\">expires in ";
        out += human_duration(*s.expire_remaining);
        out += "</span>";
    } else if (s.expire_supported && !*s.expire_supported) {
        out += "<span class=\"none\">EXPIRE not supported</span>";
    } else {
        out += kNone;
    }
}

// The instance behind the address (NSID, RFC 5001) as dig shows it: the text with its hex as a
// tooltip, or the hex alone when the octets are not printable.
void append_instance(std::string& out, const NameserverStatus& s) {
    if (s.nsid.empty()) {
        out += kNone;
        return;
    }
    out += "<span title=\"NSID ";
    out += nsid_hex(s.nsid);
    out += "\">";
    append_html_escaped(out, nsid_display(s.nsid));
    out += "</span>";
}

// The Instance column is there only for zones where some address named its instance: most
// zones have none (NSD and BIND send no NSID unless configured), and a page of 50 zones stays
// one screen.
bool any_nsid(const ZoneStatus& z) {
    return std::any_of(z.servers.begin(), z.servers.end(),
                       [](const NameserverStatus& s) { return !s.nsid.empty(); });
}

void append_server_row(std::string& out, const NameserverStatus& s, bool instance_column) {
    out += "<tr><td class=\"mono\">";
    if (s.target->nameserver.empty())
        out += "<span class=\"none\">(by address)</span>";
    else
        append_html_escaped(out, s.target->nameserver);
    if (s.is_primary)
        out += s.in_ns_set ? "<span class=\"tag\">primary</span>"
                           : "<span class=\"tag\">hidden primary</span>";
    out += "</td><td class=\"mono addr\">";
    append_address(out, s);
    if (instance_column) {
        out += "</td><td class=\"mono\">";
        append_instance(out, s);
    }
    out += "</td><td class=\"mono num\">";
    if (s.state != ServerState::unusable && s.soa)
        append_number(out, s.soa->serial);
    else
        out += kNone;
    out += "</td><td>";
    append_state(out, s);
    out += "</td><td class=\"num\">";
    if (s.answered) {
        char rtt[32];
        std::snprintf(rtt, sizeof rtt, "%.1f ms", s.rtt.count() * 1000);
        out += rtt;
    } else {
        out += kNone;
    }
    out += "</td><td class=\"num\">";
    if (s.last_propagation_seconds)
        out += human_duration(*s.last_propagation_seconds);
    else
        out += kNone;
    out += "</td><td class=\"num\">";
    append_refresh(out, s);
    out += "</td><td class=\"error\">";
    if (s.error != ProbeError::none) {
        append_html_escaped(out, probe_error_name(s.error));
        if (!s.error_detail.empty()) {
            out += ": ";
            append_html_escaped(out, s.error_detail.str());
        }
        if (s.consecutive_failures > 1) {
            out += " (";
            append_number(out, s.consecutive_failures);
            out += " checks in a row)";
        }
    }
    // DNSSEC: what is wrong with the RRSIG(SOA) it serves (agent/signatures.hpp).
    if (const std::string problem = signature_problem(s); !problem.empty())
        append_html_escaped(out, problem);
    out += "</td></tr>\n";
}

// The worst server in a few words: its name and what is wrong with it.
void append_worst(std::string& out, const ZoneStatus& z) {
    const NameserverStatus* worst = worst_server(z);
    if (worst == nullptr) {
        out += "<span class=\"none\">";
        if (z.servers.empty()) {
            out += "no addresses";
        } else {
            append_number(out, z.servers.size());
            out += z.servers.size() == 1 ? " server in sync" : " servers in sync";
        }
        out += "</span>";
        return;
    }
    out += "<span class=\"mono\">";
    append_server_name(out, *worst);
    out += "</span> ";
    switch (worst->state) {
        case ServerState::unusable:
            out += "<span class=\"badge down\">";
            append_html_escaped(out, worst->error != ProbeError::none
                                         ? probe_error_name(worst->error)
                                         : std::string_view("unusable"));
            out += "</span>";
            return;
        case ServerState::behind:
            out += "<span class=\"badge drift\">behind ";
            append_number(out, worst->serial_behind);
            out += "</span>";
            return;
        default:
            append_state(out, *worst);
    }
}

void append_server_table(std::string& out, const ZoneStatus& z) {
    if (z.servers.empty()) {
        out += "<p class=\"noservers\">No nameserver addresses.</p>\n";
        return;
    }
    const bool instance_column = any_nsid(z);
    // The column widths are by position (status_page_css.cpp): a table with the Instance column
    // says so, so that only those zones pay for it.
    out += instance_column ? "<table class=\"inst\">" : "<table>";
    out += "<thead><tr><th>Nameserver</th><th>Address</th>";
    if (instance_column)
        out += "<th title=\"The instance that answered (NSID, RFC 5001)\">Instance</th>";
    out +=
        "<th class=\"num\">Serial</th><th>State</th><th class=\"num\">RTT</th>"
        "<th class=\"num\" title=\"How long the last new serial took to arrive\">Propagation</th>"
        "<th class=\"num\" title=\"Last refresh from its primary (EDNS EXPIRE)\">Refresh</th>"
        "<th>Error</th></tr></thead>\n<tbody>\n";
    for (const NameserverStatus& s : z.servers) append_server_row(out, s, instance_column);
    out += "</tbody></table>\n";
}

// What the line leaves out: where the reference comes from, when the zone was checked, and
// every problem in a sentence.
// One line about the zone's last transfer audit (transfer_check): how many addresses refused the
// unsigned AXFR, which were open or failed, and the keyed IXFR of the primary.
void append_transfer_line(std::string& out, const ZoneStatus& z, Clock::time_point now) {
    if (!z.transfer) return;
    const TransferAudit& t = *z.transfer;
    std::size_t refused = 0;
    for (const auto& obs : t.axfr) refused += obs.result == TransferResult::refused;
    out += "<p class=\"meta transfer\">transfer audit ";
    append_ago(out, t.at, now);
    out += ": AXFR refused by ";
    append_number(out, refused);
    out += " of ";
    append_number(out, t.axfr.size());
    for (const auto& obs : t.axfr) {
        if (obs.result == TransferResult::refused) continue;
        out += obs.result == TransferResult::open ? " &middot; <b class=\"open\">open at "
                                                  : " &middot; <b>";
        if (obs.result != TransferResult::open) {
            append_html_escaped(out, transfer_result_name(obs.result));
            out += " at ";
        }
        append_html_escaped(out, nameserver_label(obs.target));
        if (!obs.target.nameserver.empty()) {
            out += " (";
            append_html_escaped(out, obs.target.address);
            out += ")";
        }
        out += "</b>";
    }
    if (t.signed_ixfr) {
        out += " &middot; signed IXFR of the primary: <b";
        if (t.signed_ixfr->result != TransferResult::ok) out += " class=\"open\"";
        out += ">";
        append_html_escaped(out, transfer_result_name(t.signed_ixfr->result));
        out += "</b>";
    }
    out += "</p>\n";
}

// One line per anycast address (two or more NSIDs within the window, agent/anycast.hpp): each
// instance with the serial it last answered, the lagging ones marked.
void append_instance_lines(std::string& out, const ZoneStatus& z) {
    for (const NameserverStatus& s : z.servers) {
        if (!s.instances) continue;
        out += "<p class=\"meta instances\">instances behind ";
        append_html_escaped(out, describe_server(s));
        out += ":";
        const char* separator = " ";
        for (const InstanceStatus& i : *s.instances) {
            out += separator;
            separator = " &middot; ";
            out += i.lagging ? "<b class=\"lagging\" title=\"NSID " : "<b title=\"NSID ";
            out += nsid_hex(i.nsid);
            out += "\">";
            append_html_escaped(out, nsid_display(i.nsid));
            out += "</b> ";
            append_number(out, i.serial);
            if (i.serial_behind > 0) {
                out += " (";
                append_number(out, i.serial_behind);
                out += i.lagging ? " behind, lagging)" : " behind)";
            }
        }
        out += "</p>\n";
    }
}

void append_zone_detail(std::string& out, const ZoneStatus& z, Clock::time_point now) {
    out += "<div class=\"zone-body\">\n<p class=\"meta\">reference serial ";
    if (z.reference_serial) {
        out += "<b>";
        append_number(out, *z.reference_serial);
        out += "</b> (";
        out += z.reference_from_primary ? "from the primary" : "newest seen";
        out += ")";
    } else {
        out += "<b>unknown</b>";
    }
    if (z.last_serial_change) {
        out += " &middot; changed ";
        append_ago(out, *z.last_serial_change, now);
    }
    if (z.last_check) {
        out += " &middot; checked ";
        append_ago(out, *z.last_check, now);
    }
    out += "</p>\n";
    append_transfer_line(out, z, now);
    append_instance_lines(out, z);
    append_delegation_line(out, z, now);
    if (!z.reasons.empty() || !z.discovery_error.empty() || !z.unresolved_nameservers.empty()) {
        out += "<ul class=\"reasons\">";
        for (const std::string& reason : z.reasons) {
            out += "<li>";
            append_html_escaped(out, reason);
            out += "</li>";
        }
        if (!z.discovery_error.empty()) {
            out += "<li>discovery failed";
            if (z.discovery_from_cache) out += " (using the last good answer)";
            out += ": ";
            append_html_escaped(out, z.discovery_error);
            out += "</li>";
        }
        for (const auto& ns : z.unresolved_nameservers) {
            out += "<li>no address for ";
            append_html_escaped(out, ns.name + " (" + ns.detail + ")");
            out += "</li>";
        }
        out += "</ul>\n";
    }
    append_server_table(out, z);
    out += "</div>\n";
}

bool unreserved(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

}  // namespace

const NameserverStatus* worst_server(const ZoneStatus& z) {
    const NameserverStatus* worst = nullptr;
    for (const NameserverStatus& s : z.servers) {
        if (badness(s) == 0) continue;
        if (worst == nullptr || badness(s) > badness(*worst) ||
            (badness(s) == badness(*worst) && s.lag_seconds > worst->lag_seconds))
            worst = &s;
    }
    return worst;
}

std::string zone_api_path(std::string_view zone) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out = "/api/v1/zones/";
    for (std::size_t i = 0; i < zone.size(); ++i) {
        unsigned char byte = static_cast<unsigned char>(zone[i]);
        // Undo the presentation escapes (RFC 1035 section 5.1): "\X" is X, "\DDD" the octet
        // DDD. An escaped dot or backslash stays escaped: unescaped it would be another name.
        if (byte == '\\' && i + 1 < zone.size()) {
            const auto digit = [&](std::size_t k) {
                return k < zone.size() && zone[k] >= '0' && zone[k] <= '9';
            };
            unsigned char next = static_cast<unsigned char>(zone[i + 1]);
            if (digit(i + 1) && digit(i + 2) && digit(i + 3)) {
                const int value =
                    (zone[i + 1] - '0') * 100 + (zone[i + 2] - '0') * 10 + (zone[i + 3] - '0');
                if (value <= 255 && value != '.' && value != '\\') {
                    byte = static_cast<unsigned char>(value);
                    i += 3;
                }
            } else if (next != '.' && next != '\\') {
                byte = next;
                i += 1;
            }
        }
        if (unreserved(byte)) {
            out += static_cast<char>(byte);
        } else {
            out += '%';
            out += kHex[byte >> 4];
            out += kHex[byte & 0xF];
        }
    }
    return out;
}

void append_count(std::string& out, std::size_t n) {
    const std::string digits = std::to_string(n);
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
}

void append_ago(std::string& out, Clock::time_point t, Clock::time_point now) {
    out += "<span title=\"";
    out += rfc3339(t);
    out += "\">";
    out += human_duration(seconds_between(t, now));
    out += " ago</span>";
}

void append_zone(std::string& out, const ZoneStatus& z, Clock::time_point now, bool open) {
    const std::string_view cls = verdict_info(z.verdict).css_class;
    out += "<details class=\"zone ";
    out += cls;
    out += open ? "\" open>" : "\">";
    // The line: the columns of the list's head (status_page.cpp).
    out += "<summary><span class=\"c-state\"><span class=\"badge ";
    out += cls;
    out += "\">";
    out += verdict_name(z.verdict);
    out += "</span>";
    if (!z.consistent && z.reference_serial)
        out += "<span class=\"badge warning\">out of sync</span>";
    // The name links to the list filtered by it: a page that keeps this zone open across the
    // page's refresh, to bookmark or to paste into a chat.
    out += "</span><span class=\"c-zone zone-name\"><a href=\"";
    PageQuery only_this;
    only_this.name = z.zone;
    append_html_escaped(out, page_query_string(only_this));
    out += "\">";
    append_html_escaped(out, z.zone);
    out += "</a></span><span class=\"c-serial num\">";
    if (z.reference_serial)
        append_number(out, *z.reference_serial);
    else
        out += kNone;
    out += "</span><span class=\"c-worst\">";
    append_worst(out, z);
    out += "</span><span class=\"c-lag num\">";
    double lag = 0;
    for (const NameserverStatus& s : z.servers) lag = std::max(lag, s.lag_seconds);
    if (lag > 0)
        out += human_duration(lag);
    else
        out += kNone;
    out += "</span><span class=\"c-change num\">";
    if (z.last_serial_change)
        append_ago(out, *z.last_serial_change, now);
    else
        out += kNone;
    out += "</span><a class=\"c-json\" href=\"";
    out += zone_api_path(z.zone);
    out += "\">JSON</a></summary>\n";
    append_zone_detail(out, z, now);
    out += "</details>\n";
}

}  // namespace soawatch
