#include "common/http/http_tls.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace sluice {
namespace {

absl::StatusOr<std::string> ReadPem(const Config& config, absl::string_view key) {
  const std::string& path = config.GetString(key);
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(key, " is not set"));
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return absl::NotFoundError(absl::StrCat(key, ": cannot read ", path));
  return text.str();
}

template <typename T, void (*Free)(T*)>
using OpenSsl = std::unique_ptr<T, decltype([](T* p) { Free(p); })>;

}  // namespace

absl::StatusOr<HttpTls> LoadHttpTls(const Config& config, absl::string_view certificate_key,
                                    absl::string_view private_key_key) {
  absl::StatusOr<std::string> certificate = ReadPem(config, certificate_key);
  if (!certificate.ok()) return certificate.status();
  absl::StatusOr<std::string> private_key = ReadPem(config, private_key_key);
  if (!private_key.ok()) return private_key.status();
  OpenSsl<BIO, BIO_free_all> cert_bio(
      BIO_new_mem_buf(certificate->data(), static_cast<int>(certificate->size())));
  OpenSsl<X509, X509_free> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return absl::InvalidArgumentError(absl::StrCat(
        certificate_key, ": ", config.GetString(certificate_key), " holds no PEM certificate"));
  }
  OpenSsl<BIO, BIO_free_all> key_bio(
      BIO_new_mem_buf(private_key->data(), static_cast<int>(private_key->size())));
  OpenSsl<EVP_PKEY, EVP_PKEY_free> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(absl::StrCat(private_key_key, ": ",
                                                   config.GetString(private_key_key),
                                                   " holds no unencrypted PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(private_key_key, " is not the key of the ", certificate_key, " certificate"));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(certificate_key, ": the certificate has expired"));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) >= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(certificate_key, ": the certificate is not valid yet"));
  }
  return HttpTls{*std::move(certificate), *std::move(private_key)};
}

}  // namespace sluice
