// Observations and check rounds for tests of the evaluator and what reads its ZoneStatus
// (alert rules, exporters): a zone "example.test." probed at fixed times.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/zone_check.hpp"

namespace soawatch::test {

inline const Clock::time_point T0 = Clock::time_point(std::chrono::seconds(1'800'000'000));

// A moment at wall time `t` whose monotonic side reads the same number of seconds: tests that
// do not step the wall clock keep both sides in step. Tests of an NTP step build their own.
inline Instant instant(Clock::time_point t) {
    return {t, MonoClock::time_point(
                   std::chrono::duration_cast<MonoClock::duration>(t.time_since_epoch()))};
}

inline SoaObservation ok(const std::string& ns, const std::string& addr, uint32_t serial,
                         Instant at) {
    SoaObservation o;
    o.zone = "example.test.";
    o.target = {ns, addr, 53};
    o.answered = true;
    o.authoritative = true;
    dns::SoaRdata soa;
    soa.mname = "primary.example.test.";
    soa.rname = "hostmaster.example.test.";
    soa.serial = serial;
    soa.refresh = 3600;  // timers that pass the sanity rules (SOATimersUnsafe)
    soa.retry = 600;
    soa.expire = 1209600;
    soa.minimum = 300;
    o.soa = soa;
    o.at = at;
    return o;
}

inline SoaObservation failed(const std::string& ns, const std::string& addr, ProbeError e,
                             Instant at) {
    SoaObservation o;
    o.zone = "example.test.";
    o.target = {ns, addr, 53};
    o.error = e;
    o.at = at;
    return o;
}

inline SoaObservation ok(const std::string& ns, const std::string& addr, uint32_t serial,
                         Clock::time_point at) {
    return ok(ns, addr, serial, instant(at));
}

inline SoaObservation failed(const std::string& ns, const std::string& addr, ProbeError e,
                             Clock::time_point at) {
    return failed(ns, addr, e, instant(at));
}

inline ZoneCheckResult round(Instant at, std::vector<SoaObservation> obs,
                             std::optional<SoaObservation> primary = std::nullopt) {
    ZoneCheckResult r;
    r.zone = "example.test.";
    r.started = at;
    r.finished = at;
    r.observations = std::move(obs);
    r.primary = std::move(primary);
    return r;
}

inline ZoneCheckResult round(Clock::time_point at, std::vector<SoaObservation> obs,
                             std::optional<SoaObservation> primary = std::nullopt) {
    return round(instant(at), std::move(obs), std::move(primary));
}

}  // namespace soawatch::test
