# Preloaded into zonemaster-cli by the delegation parity test: every nameserver object Zonemaster
# builds asks the lab's port (SOAWATCH_ZONEMASTER_PORT) instead of 53. Zonemaster::LDNS->port().
package SoawatchLabPort;
use strict;
use warnings;
use Zonemaster::Engine::Nameserver;
no warnings 'redefine';
my $original = \&Zonemaster::Engine::Nameserver::_build_dns;
*Zonemaster::Engine::Nameserver::_build_dns = sub {
    my $res = $original->(@_);
    $res->port($ENV{SOAWATCH_ZONEMASTER_PORT}) if $ENV{SOAWATCH_ZONEMASTER_PORT};
    return $res;
};
1;
