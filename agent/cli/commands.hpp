// The subcommands of the soawatch executable.
#pragma once

namespace soawatch {

// `soawatch check [options] ZONE...`: one round over the zones, a table or JSON, and a
// Nagios/Icinga plugin exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
int run_check_command(int argc, char** argv);

}  // namespace soawatch

namespace soawatch {

// `soawatch [--config.file=FILE] [--web.listen-address=ADDR] ...`: the long-running agent.
int run_agent_command(int argc, char** argv);

}  // namespace soawatch
