#include <cstring>
#include <iostream>

#include "agent/commands.hpp"

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "check") == 0)
        return soawatch::run_check_command(argc - 2, argv + 2);
    if (argc >= 2 && std::strcmp(argv[1], "--version") == 0) {
        std::cout << "soawatch " << SOAWATCH_VERSION << '\n';
        return 0;
    }
    std::cerr << "usage: soawatch check [options] ZONE...   (soawatch check --help)\n";
    return 3;
}
