#include <cstring>

#include "agent/cli/commands.hpp"
#include "agent/cli/huge_pages.hpp"

int main(int argc, char** argv) {
    soawatch::ask_for_huge_pages(argv);
    if (argc >= 2 && std::strcmp(argv[1], "check") == 0)
        return soawatch::run_check_command(argc - 2, argv + 2);
    return soawatch::run_agent_command(argc - 1, argv + 1);
}
