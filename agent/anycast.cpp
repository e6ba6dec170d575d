#include "agent/anycast.hpp"

#include <algorithm>

#include "agent/serial.hpp"
#include "probes/nsid.hpp"

namespace soawatch {

namespace {

// The instance's entry, new or refreshed; a new one past the cap replaces the one heard longest
// ago (a server that sends a new identity with every answer keeps churning one slot).
void record(std::vector<InstanceStatus>& table, const SharedNsid& nsid, uint32_t serial,
            Clock::time_point at) {
    auto it = std::find_if(table.begin(), table.end(),
                           [&](const InstanceStatus& i) { return i.nsid.view() == nsid.view(); });
    if (it == table.end()) {
        if (table.size() < kMaxInstancesPerAddress) {
            table.emplace_back();
            it = std::prev(table.end());
        } else {
            it = std::min_element(table.begin(), table.end(), [](const auto& a, const auto& b) {
                return a.last_seen < b.last_seen;
            });
        }
        it->nsid = nsid;
    }
    it->serial = serial;
    it->last_seen = at;
}

// The newest serial (RFC 1982) any instance answered.
uint32_t newest_serial(const std::vector<InstanceStatus>& table) {
    uint32_t newest = table.front().serial;
    for (const auto& i : table)
        if (compare_serials(newest, i.serial) == SerialOrder::less) newest = i.serial;
    return newest;
}

}  // namespace

std::vector<InstanceSampling> instance_sampling(const ZoneStatus& previous) {
    std::vector<InstanceSampling> out;
    for (const auto& s : previous.servers) {
        if (!s.instances) continue;
        const auto samples = std::min<std::size_t>(
            kInstanceSamplesPerInstance * s.instances->size(), kMaxInstancesPerAddress);
        out.push_back({s.target, static_cast<unsigned>(samples)});
    }
    return out;
}

void track_instances(const NameserverStatus* previous,
                     const std::vector<const SoaObservation*>& heard,
                     std::optional<uint32_t> reference, Clock::time_point now, Duration window,
                     NameserverStatus& row) {
    const auto answered = [](const SoaObservation* o) { return o->usable() && !o->nsid.empty(); };
    // Without a table, one starts only when an NSID differs from the last usable answer's (the
    // previous round's): the common case, one identity, allocates nothing.
    const bool previous_heard =
        previous && previous->soa && !previous->nsid.empty() && previous->last_success;
    if (!previous || !previous->instances) {
        std::string_view first = previous_heard ? previous->nsid.view() : std::string_view();
        bool two = false;
        for (const SoaObservation* o : heard) {
            if (!answered(o)) continue;
            if (first.empty())
                first = o->nsid.view();
            else if (o->nsid.view() != first)
                two = true;
        }
        if (!two) return;
    }

    std::vector<InstanceStatus> table;
    if (previous && previous->instances)
        table = *previous->instances;
    else if (previous_heard)
        record(table, previous->nsid, previous->soa->serial, *previous->last_success);
    for (const SoaObservation* o : heard)
        if (answered(o)) record(table, o->nsid, o->soa->serial, o->at.wall);
    std::erase_if(table, [&](const InstanceStatus& i) { return now - i.last_seen > window; });
    if (table.size() < 2) return;  // one identity left: the row's own nsid and serial say it

    const uint32_t newest = newest_serial(table);
    for (auto& i : table) {
        i.serial_behind = 0;
        if (reference && compare_serials(i.serial, *reference) == SerialOrder::less)
            i.serial_behind = serial_steps(i.serial, *reference);
        i.lagging = i.serial_behind > 0 && compare_serials(i.serial, newest) == SerialOrder::less;
    }
    std::sort(table.begin(), table.end(), [](const InstanceStatus& a, const InstanceStatus& b) {
        return a.nsid.view() < b.nsid.view();
    });
    row.instances = std::make_shared<const std::vector<InstanceStatus>>(std::move(table));
}

std::string describe_instance(const NameserverStatus& server, const InstanceStatus& instance) {
    return "instance \"" + nsid_display(instance.nsid) + "\" of " + describe_server(server);
}

void instance_findings(const ZoneStatus& zone, std::vector<std::string>& warning) {
    for (const auto& s : zone.servers) {
        if (!s.instances) continue;
        const uint32_t newest = newest_serial(*s.instances);
        for (const auto& i : *s.instances) {
            if (!i.lagging) continue;
            warning.push_back(describe_instance(s, i) + " answers serial " +
                              std::to_string(i.serial) + ", " + std::to_string(i.serial_behind) +
                              " behind the reference, while another instance of the address "
                              "answers " +
                              std::to_string(newest) + " (anycast instance lagging)");
        }
    }
}

}  // namespace soawatch
