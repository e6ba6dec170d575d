// The status page at scale: bytes and render time of `/` for N zones of three servers each, all
// in sync but one zone with a lame server (the issue 14 case): the first page, a search by name
// and the last page. In-process, no HTTP: what the page costs the agent. Build with
// -DCMAKE_BUILD_TYPE=Release for figures worth quoting.
//
// usage: soawatch_page_bench [N[,N...]] [REPEATS [PAGE.html]]   (default 10000,100000 and 5)
//   PAGE.html: where to write the page of the last N, to look at.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "exporters/api/status_page.hpp"

using namespace soawatch;

namespace {

NameserverStatus in_sync_server(int index, uint32_t serial, Clock::time_point now) {
    NameserverStatus s;
    s.target = ProbeTarget{"ns" + std::to_string(index) + ".bench.test.",
                           "127.0.100." + std::to_string(100 + index), 5300};
    s.state = ServerState::in_sync;
    s.answered = true;
    s.authoritative = true;
    s.soa = dns::SoaRdata{
        "ns1.bench.test.", "hostmaster.bench.test.", serial, 7200, 3600, 1209600, 300};
    s.rtt = std::chrono::microseconds(300);
    s.last_success = now;
    s.last_in_sync = now;
    s.probes_total = 10;
    return s;
}

SnapshotPtr make_snapshot(std::size_t zones, Clock::time_point now) {
    auto snap = std::make_shared<Snapshot>();
    snap->taken = now;
    snap->stats.zones = zones;
    snap->stats.first_round_done = true;
    snap->zones.reserve(zones);
    for (std::size_t i = 0; i < zones; ++i) {
        char name[40];
        std::snprintf(name, sizeof name, "z%07zu.bench.test.", i);
        auto z = std::make_shared<ZoneStatus>();
        z->zone = name;
        z->reference_serial = 2024050101;
        z->reference_soa = dns::SoaRdata{
            "ns1.bench.test.", "hostmaster.bench.test.", 2024050101, 7200, 3600, 1209600, 300};
        z->last_serial_change = now - std::chrono::hours(1);
        z->last_check = now - std::chrono::seconds(5);
        for (int n = 1; n <= 3; ++n) z->servers.push_back(in_sync_server(n, 2024050101, now));
        z->consistent = true;
        z->verdict = Verdict::ok;
        z->usable_servers = 3;
        if (i == zones / 2) {  // one lame server: answers without authority
            NameserverStatus& lame = z->servers[2];
            lame.state = ServerState::unusable;
            lame.authoritative = false;
            lame.error = ProbeError::not_authoritative;
            lame.soa.reset();
            lame.consecutive_failures = 3;
            z->usable_servers = 2;
            z->verdict = Verdict::warning;
            z->reasons = {"ns3.bench.test. (127.0.100.103) is lame: not authoritative"};
        }
        snap->zones.push_back(std::move(z));
    }
    return snap;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::size_t> sizes = {10000, 100000};
    if (argc > 1) {
        sizes.clear();
        for (const char* p = argv[1]; *p != '\0';) {
            char* end = nullptr;
            sizes.push_back(std::strtoull(p, &end, 10));
            p = *end == ',' ? end + 1 : end;
            if (end == p && *p != '\0') return 2;
        }
    }
    const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    const Clock::time_point now = Clock::now();

    // The first page, then two pages an operator asks for: a zone found by name, and the last
    // page of the OK zones (the whole list walked to its end).
    const struct {
        const char* label;
        const char* query;
    } cases[] = {{"first page", ""},
                 {"name filter", "q=z0000777"},
                 {"last OK page", "state=ok&page=1000000"}};
    std::printf("| zones | page | bytes | render ms (median of %d) |\n|---:|---|---:|---:|\n",
                repeats);
    for (const std::size_t n : sizes) {
        const SnapshotPtr snap = make_snapshot(n, now);
        for (const auto& c : cases) {
            const PageQuery query = parse_page_query(c.query);
            std::vector<double> ms;
            std::string page;
            for (int r = 0; r < repeats; ++r) {
                const auto start = std::chrono::steady_clock::now();
                page = render_status_page(*snap, nullptr, query);
                ms.push_back(std::chrono::duration<double, std::milli>(
                                 std::chrono::steady_clock::now() - start)
                                 .count());
            }
            std::printf("| %zu | %s | %zu | %.2f |\n", n, c.label, page.size(), median(ms));
            if (argc > 3 && c.query[0] == '\0') {
                if (FILE* f = std::fopen(argv[3], "w")) {
                    std::fwrite(page.data(), 1, page.size(), f);
                    std::fclose(f);
                }
            }
        }
    }
    return 0;
}
