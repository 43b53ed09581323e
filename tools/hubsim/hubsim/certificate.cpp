// Self-signed certificate generation (OpenSSL 3).

#include "hubsim/certificate.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace nhpush::hubsim {
namespace {

template <class T, void (*Free)(T*)>
using owned = std::unique_ptr<T, std::integral_constant<decltype(Free), Free>>;

void require(bool ok, const char* what) {
    if (!ok) {
        throw std::runtime_error(std::string("certificate generation failed: ") + what);
    }
}

void add_extension(X509* cert, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    owned<X509_EXTENSION, X509_EXTENSION_free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    require(ext != nullptr && X509_add_ext(cert, ext.get(), -1) == 1, value);
}

template <class Write>
std::string to_pem(Write write) {
    owned<BIO, BIO_free_all> bio(BIO_new(BIO_s_mem()));
    require(bio != nullptr && write(bio.get()) == 1, "PEM encoding");
    char* data = nullptr;
    const auto len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

pem_certificate make_self_signed_certificate(std::chrono::hours validity) {
    owned<EVP_PKEY, EVP_PKEY_free> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    require(key != nullptr, "key generation");
    owned<X509, X509_free> cert(X509_new());
    require(cert != nullptr && X509_set_version(cert.get(), X509_VERSION_3) == 1, "X509_new");

    owned<BIGNUM, BN_free> serial(BN_new());
    require(serial != nullptr && BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
                BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr,
            "serial number");
    require(
        X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                            std::chrono::duration_cast<std::chrono::seconds>(validity).count()) != nullptr,
        "validity");

    X509_NAME* name = X509_get_subject_name(cert.get());
    require(
        X509_NAME_add_entry_by_txt(
            name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("nhpush-hubsim"), -1, -1, 0) ==
                1 &&
            X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key.get()) == 1,
        "names");

    add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), NID_subject_key_identifier, "hash");
    add_extension(cert.get(), NID_authority_key_identifier, "keyid:always");
    add_extension(cert.get(), NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost");
    require(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "signing");

    return {to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); }), to_pem([&](BIO* b) {
                return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
            })};
}

}  // namespace nhpush::hubsim
