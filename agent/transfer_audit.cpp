#include "agent/transfer_audit.hpp"

#include <set>
#include <string>
#include <utility>

namespace soawatch {

namespace {

std::string where(const ProbeTarget& target) {
    std::string text(nameserver_label(target));
    if (!target.nameserver.empty()) text += " (" + target.address + ")";
    return text;
}

}  // namespace

void TransferAuditor::audit(const ZoneStatus& status, const TransferCheckConfig& check,
                            std::chrono::milliseconds timeout, Callback done) {
    struct Round {
        std::shared_ptr<TransferAudit> audit = std::make_shared<TransferAudit>();
        std::size_t pending = 1;  // +1 until every request is out
        Callback done;
        void finish_one() {
            if (--pending > 0) return;
            audit->at = Clock::now();
            done(std::move(audit));
        }
    };
    auto round = std::make_shared<Round>();
    round->done = std::move(done);

    // Each (name, address, port) once: statuses list the primary first, then by name.
    std::set<std::tuple<std::string, std::string, uint16_t>> seen;
    const NameserverStatus* primary = nullptr;
    for (const auto& server : status.servers) {
        if (server.is_primary && !primary) primary = &server;
        if (!seen.emplace(server.target->nameserver, server.target->address, server.target->port)
                 .second)
            continue;
        round->audit->axfr.emplace_back();
    }
    std::size_t slot = 0;
    seen.clear();
    for (const auto& server : status.servers) {
        if (!seen.emplace(server.target->nameserver, server.target->address, server.target->port)
                 .second)
            continue;
        ++round->pending;
        prober_.axfr(status.zone, server.target, timeout, [round, slot](TransferObservation obs) {
            round->audit->axfr[slot] = std::move(obs);
            round->finish_one();
        });
        ++slot;
    }
    if (check.tsig && primary) {
        // RFC 1995 4: asked with the current serial, an up-to-date primary answers one SOA. The
        // primary's serial as last seen; 0 (the primary never answered) still proves the key.
        uint32_t serial = 0;
        if (primary->soa) serial = primary->soa->serial;
        ++round->pending;
        prober_.signed_ixfr(status.zone, serial, *check.tsig, primary->target, timeout,
                            [round](TransferObservation obs) {
                                round->audit->signed_ixfr = std::move(obs);
                                round->finish_one();
                            });
    }
    round->finish_one();
}

void apply_transfer_findings(ZoneStatus& status) {
    if (status.reasons.size() > status.evaluated_reasons)
        status.reasons.resize(status.evaluated_reasons);
    status.verdict = status.evaluated_verdict;
    if (!status.transfer) return;
    bool finding = false;
    for (const auto& obs : status.transfer->axfr) {
        if (obs.result != TransferResult::open) continue;
        finding = true;
        status.reasons.push_back("zone transfer open at " + where(obs.target) +
                                 ": an unsigned AXFR from anyone is answered with the zone");
    }
    if (const auto& keyed = status.transfer->signed_ixfr;
        keyed && keyed->result != TransferResult::ok) {
        finding = true;
        status.reasons.push_back("the primary " + keyed->target.address +
                                 " does not serve a TSIG-signed IXFR with the secondaries' key: " +
                                 std::string(transfer_result_name(keyed->result)) +
                                 (keyed->detail.empty() ? "" : " (" + keyed->detail + ")"));
    }
    if (finding && status.verdict == Verdict::ok) status.verdict = Verdict::warning;
}

}  // namespace soawatch
