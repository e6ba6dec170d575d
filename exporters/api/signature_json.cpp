#include "exporters/api/signature_json.hpp"

#include "agent/common/text_util.hpp"

namespace soawatch {

using json = nlohmann::json;

namespace {

std::string timestamp(int64_t unix) {
    return rfc3339(Clock::time_point(std::chrono::seconds(unix)));
}

}  // namespace

json server_signature_json(const NameserverStatus& s) {
    const auto& f = s.signature_findings;
    json rrsig = nullptr;
    if (const auto sig = s.signature()) {
        rrsig = json{{"inception", timestamp(sig->inception)},
                     {"expiration", timestamp(sig->expiration)},
                     {"inception_unix", sig->inception},
                     {"expiration_unix", sig->expiration},
                     {"key_tag", sig->key_tag},
                     {"algorithm", sig->algorithm}};
    }
    return json{{"asked", s.dnssec_asked}, {"rrsig", std::move(rrsig)},      {"expired", f.expired},
                {"expiring", f.expiring},  {"below_expire", f.below_expire}, {"older", f.older},
                {"missing", f.missing}};
}

json zone_signature_json(const ZoneStatus& z) {
    json older = json::array();
    for (const auto& s : z.servers)
        if (s.signature_findings.older) older.push_back(s.target->address);
    return json{{"mode", dnssec_mode_name(z.dnssec)},
                {"signed", z.signed_zone},
                {"newest_expiration", z.newest_signature_expiration
                                          ? json(timestamp(*z.newest_signature_expiration))
                                          : json(nullptr)},
                {"older_signatures", std::move(older)}};
}

}  // namespace soawatch
