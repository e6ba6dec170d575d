// The status page's stylesheet, served at kStatusPageCssPath: the Content-Security-Policy allows
// no inline style, so every rule of the page is here.
#include "exporters/api/status_page.hpp"

namespace soawatch {

const std::string_view kStatusPageCss = R"css(:root {
  --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --panel: #f6f8fa;
  --link: #0969da; --hover: #f3f6f9;
  --ok: #1a7f37; --ok-bg: #dafbe1; --warn: #9a6700; --warn-bg: #fff8c5;
  --bad: #cf222e; --bad-bg: #ffebe9; --unknown: #59636e; --unknown-bg: #eaeef2;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
header { padding: 16px 24px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0 0 4px; font-size: 20px; }
header h1 .product { font-weight: 700; }
header h1 .vantage { font-weight: 400; }
.summary { margin: 0; font-size: 15px; }
.summary a { color: var(--fg); }
.summary .count { font-weight: 600; }
.summary .sep { color: var(--muted); margin: 0 6px; }
.generated { margin: 4px 0 0; color: var(--muted); font-size: 12px; }
main { padding: 8px 24px 32px; max-width: 1400px; }
.empty { color: var(--muted); padding: 24px 0; }
.badge {
  display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; letter-spacing: .02em; white-space: nowrap; margin-right: 4px;
}
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.badge.warning { color: var(--warn); background: var(--warn-bg); }
.badge.critical { color: var(--bad); background: var(--bad-bg); }
.badge.unknown { color: var(--unknown); background: var(--unknown-bg); }
.badge.sync { color: var(--ok); background: var(--ok-bg); }
.badge.drift { color: var(--warn); background: var(--warn-bg); }
.badge.down { color: var(--bad); background: var(--bad-bg); }
section.alerts { margin: 16px 0; border: 1px solid var(--line); border-left: 6px solid var(--bad); border-radius: 6px; padding: 10px 14px; }
section.alerts.quiet { border-left-color: var(--warn); }
section.alerts h2 { margin: 0 0 6px; font-size: 16px; }
section.alerts ul { margin: 0; padding-left: 0; list-style: none; }
section.alerts li { margin: 4px 0; }
section.alerts .name { font-weight: 600; margin: 0 6px; }
section.alerts .since { color: var(--muted); font-size: 12px; margin-left: 6px; }

/* The filter: a GET form, and one link per state with its count. */
form.filter { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; margin: 16px 0 8px; }
form.filter label { color: var(--muted); font-size: 13px; }
form.filter input, form.filter select, form.filter button {
  font: inherit; color: var(--fg); padding: 4px 8px; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); margin-left: 4px;
}
form.filter input { width: 22em; font-family: var(--mono); }
form.filter button { background: var(--panel); font-weight: 600; cursor: pointer; }
nav.states { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0; }
nav.states a {
  border: 1px solid var(--line); border-radius: 14px; padding: 2px 10px; color: var(--fg);
  white-space: nowrap; font-size: 13px;
}
nav.states a .n { color: var(--muted); font-variant-numeric: tabular-nums; margin-left: 2px; }
nav.states a.current { background: var(--fg); border-color: var(--fg); color: var(--bg); }
nav.states a.current .n { color: var(--bg); }
nav.pager { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 14px; margin: 10px 0; color: var(--muted); }
nav.pager .range { color: var(--fg); margin-right: auto; }
nav.pager .off { color: var(--line); }
nav.pager .at { color: var(--fg); }

/* The list: one line per zone; the line is a <summary> that opens the zone's servers. */
.zones { border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
.list-head, details.zone > summary {
  display: grid; align-items: baseline; column-gap: 12px; padding: 6px 14px 6px 30px;
  /* In px: the head's smaller font must not change the columns. */
  grid-template-columns: 190px minmax(160px, 2.2fr) 120px minmax(180px, 2fr) 70px 100px 40px;
}
.list-head {
  background: var(--panel); border-bottom: 1px solid var(--line); font-size: 12px;
  color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em;
}
details.zone { border-bottom: 1px solid var(--line); border-left: 5px solid transparent; }
details.zone:last-child { border-bottom: none; }
details.zone.critical { border-left-color: var(--bad); }
details.zone.warning { border-left-color: var(--warn); }
details.zone.unknown { border-left-color: var(--unknown); }
details.zone.ok { border-left-color: var(--ok-bg); }
details.zone > summary { cursor: pointer; list-style: none; position: relative; padding-left: 25px; }
details.zone > summary::-webkit-details-marker { display: none; }
details.zone > summary::before {
  content: "\25B8"; position: absolute; left: 9px; color: var(--muted);
}
details.zone[open] > summary::before { content: "\25BE"; }
details.zone > summary:hover { background: var(--hover); }
details.zone[open] > summary { background: var(--panel); border-bottom: 1px solid var(--line); }
.zone-name, .mono { font-family: var(--mono); }
.c-zone { overflow-wrap: anywhere; }
.c-zone a { color: var(--fg); }
.c-worst { overflow-wrap: anywhere; }
.c-worst .mono { margin-right: 4px; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.c-serial { font-family: var(--mono); }
.c-json { text-align: right; font-size: 12px; }
.zone-body { padding: 4px 0 8px 25px; }
.zone-body .meta { margin: 6px 14px; color: var(--muted); }
.meta b { color: var(--fg); font-family: var(--mono); }
.reasons { margin: 6px 14px; padding-left: 18px; }
.reasons li { margin: 1px 0; }
.tag { font-size: 11px; color: var(--muted); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; margin-left: 6px; white-space: nowrap; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
/* Column widths from the head row (table-layout: fixed): nameserver, address, serial, state,
   RTT, propagation, error. */
th:nth-child(1) { width: 18%; } th:nth-child(2) { width: 19%; } th:nth-child(3) { width: 10%; }
th:nth-child(4) { width: 13%; } th:nth-child(5) { width: 7%; } th:nth-child(6) { width: 9%; }
th:nth-child(7) { width: 11%; } th:nth-child(8) { width: 13%; }
table.inst th:nth-child(1) { width: 15%; } table.inst th:nth-child(2) { width: 16%; }
table.inst th:nth-child(3) { width: 10%; } table.inst th:nth-child(4) { width: 9%; }
table.inst th:nth-child(5) { width: 11%; } table.inst th:nth-child(6) { width: 6%; }
table.inst th:nth-child(7) { width: 8%; } table.inst th:nth-child(8) { width: 11%; }
table.inst th:nth-child(9) { width: 14%; }
th, td { text-align: left; padding: 5px 14px; border-top: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
td.mono { overflow-wrap: anywhere; }
td.addr .ip { overflow-wrap: anywhere; }
td.addr .port { white-space: nowrap; color: var(--muted); }
th.num { text-align: right; }
td.error { color: var(--bad); overflow-wrap: anywhere; }
.none { color: var(--muted); }
.noservers { color: var(--muted); margin: 0; padding: 10px 14px; }
.transfer .open, .delegation .open { color: var(--bad); }
.instances .lagging { color: var(--bad); }

/* A phone: the line keeps state, zone, worst server and the JSON link (the opened zone shows
   the rest); the server table scrolls sideways instead of breaking every word. */
@media (max-width: 900px) {
  main, header { padding-left: 12px; padding-right: 12px; }
  .list-head { display: none; }
  details.zone > summary { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 8px; }
  details.zone > summary .c-zone { flex: 1 1 50%; }
  details.zone > summary .c-worst { flex: 1 1 60%; }
  details.zone > summary .c-serial, details.zone > summary .c-lag,
  details.zone > summary .c-change { display: none; }
  details.zone > summary .c-json { text-align: left; }
  .zone-body { overflow-x: auto; }
  .zone-body table { min-width: 860px; }
  form.filter input { width: 100%; margin-left: 0; }
}
)css";

}  // namespace soawatch
