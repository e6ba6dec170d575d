// Certificates for TLS tests, made at test time with the openssl CLI (nothing secret is
// committed): a CA, a server certificate for 127.0.0.1 signed by it, a client certificate, an
// unrelated key, an encrypted key and a file that is no PEM at all. EC P-256 keeps it fast.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace soawatch::test {

struct TestCertificates {
    std::string dir;
    std::string ca_cert;
    std::string server_cert;  // CN and subjectAltName 127.0.0.1
    std::string server_key;
    std::string client_cert;  // CN "client", extendedKeyUsage clientAuth
    std::string client_key;
    std::string other_key;      // matches no certificate
    std::string encrypted_key;  // server_key under a passphrase
    std::string not_pem;        // plain text
};

// Writes every file into `dir` (which must exist). Throws std::runtime_error when openssl fails.
inline TestCertificates make_test_certificates(const std::string& dir) {
    TestCertificates c{dir,
                       dir + "/ca.crt",
                       dir + "/server.crt",
                       dir + "/server.key",
                       dir + "/client.crt",
                       dir + "/client.key",
                       dir + "/other.key",
                       dir + "/encrypted.key",
                       dir + "/not-pem.txt"};
    {
        std::ofstream ext(dir + "/server.ext");
        ext << "subjectAltName=IP:127.0.0.1\n";
        std::ofstream client_ext(dir + "/client.ext");
        client_ext << "extendedKeyUsage=clientAuth\n";
        std::ofstream text(c.not_pem);
        text << "this is not a certificate\n";
    }
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    const std::string script =
        "set -e; cd '" + dir + "'; exec 2>openssl.log; " + "openssl req -x509" + ec +
        " -keyout ca.key -out ca.crt -days 2 -subj /CN=soawatch-test-ca; " + "openssl req" + ec +
        " -keyout server.key -out server.csr -subj /CN=127.0.0.1; " +
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile server.ext -out server.crt; " +
        "openssl req" + ec + " -keyout client.key -out client.csr -subj /CN=client; " +
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile client.ext -out client.crt; " +
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key; " +
        "openssl pkey -in server.key -aes256 -passout pass:secret -out encrypted.key";
    const std::string command = "sh -c \"" + script + "\"";
    if (std::system(command.c_str()) != 0) {
        throw std::runtime_error("openssl could not make the test certificates (see " + dir +
                                 "/openssl.log)");
    }
    return c;
}

// A fresh folder under the system temp folder holding the test certificates; removed with
// everything in it at scope exit.
class CertificateDir {
  public:
    CertificateDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "soawatch-certs-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = pattern;
        certs_ = make_test_certificates(dir_);
    }
    ~CertificateDir() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    CertificateDir(const CertificateDir&) = delete;
    CertificateDir& operator=(const CertificateDir&) = delete;

    const TestCertificates& certs() const { return certs_; }
    const std::string& dir() const { return dir_; }
    std::string file(const std::string& name) const { return dir_ + "/" + name; }

  private:
    std::string dir_;
    TestCertificates certs_;
};

}  // namespace soawatch::test
