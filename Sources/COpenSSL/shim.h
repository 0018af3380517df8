// OpenSSL 3 from Debian's libssl-dev, linked statically into release builds. Macros that Swift
// cannot import are wrapped here as static inline functions.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline long cossl_set_min_tls12(SSL_CTX *ctx) { return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); }
static inline long cossl_set_tlsext_host_name(SSL *ssl, const char *name) { return SSL_set_tlsext_host_name(ssl, name); }
// 1 when the mode took (SSL_CTX_set_mode returns the new mode, not a status).
static inline int cossl_mode_auto_retry(SSL_CTX *ctx) { return (SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY) & SSL_MODE_AUTO_RETRY) != 0; }
static inline long cossl_add_extra_chain_cert(SSL_CTX *ctx, X509 *x509) { return SSL_CTX_add_extra_chain_cert(ctx, x509); }
// Client sessions go to our new-session callback only; OpenSSL keeps no cache of its own.
// 1 when the mode took (the setter returns the previous mode, not a status).
static inline int cossl_client_session_callback_only(SSL_CTX *ctx) {
    const long mode = SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE;
    SSL_CTX_set_session_cache_mode(ctx, mode);
    return SSL_CTX_get_session_cache_mode(ctx) == mode;
}
static inline int cossl_set_app_data(SSL *ssl, void *data) { return SSL_set_app_data(ssl, data); }
static inline void *cossl_get_app_data(const SSL *ssl) { return SSL_get_app_data(ssl); }
// Initialises OpenSSL once per process, as cheaply as it allows.
// - The host's openssl.cnf may name providers or engines (.so files): a static binary must not
//   load them, so no config is read.
// - OpenSSL 3.0 copies its legacy table of every cipher and digest name into the provider name map
//   on first use, a third of what creating the first SSL_CTX costs (3.4M of 10.9M instructions).
//   TLS fetches its algorithms from the provider by their own names and does not need it. The one
//   reader left is the strength check of a certificate's signature (EVP_get_digestbynid), which
//   calls a chain "too weak" when its digest is not in the table, so the digests certificates are
//   signed with go in by hand.
// - The error-string tables (1M instructions) are loaded by cossl_error_text, when there is an
//   error to print, instead of on the first error-queue call of every process.
static inline int cossl_init_lean(void) {
    if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS
                             | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL))
        return 0;
    const EVP_MD *signing[] = {
        EVP_sha1(), EVP_sha224(), EVP_sha256(), EVP_sha384(), EVP_sha512(), EVP_sha512_224(), EVP_sha512_256(),
        EVP_sha3_224(), EVP_sha3_256(), EVP_sha3_384(), EVP_sha3_512(),
    };
    for (size_t i = 0; i < sizeof signing / sizeof signing[0]; i++) EVP_add_digest(signing[i]);
    return OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_LOAD_SSL_STRINGS, NULL);
}

// Text for an error code, e.g. "error:0A00010B:SSL routines::wrong version number". The first call
// loads the tables cossl_init_lean skipped. Once skipped, OpenSSL 3.0 offers only the (deprecated)
// per-library loaders for that; they cover every library TLS and PEM parsing report from. Newer
// libraries (decoder, provider) then print their reason as a number.
static inline void cossl_error_text(unsigned long code, char *buffer, size_t size) {
    static int loaded = 0;
    if (!loaded) {
        loaded = 1;
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
        ERR_load_ERR_strings(); ERR_load_SSL_strings(); ERR_load_X509_strings(); ERR_load_X509V3_strings();
        ERR_load_PEM_strings(); ERR_load_ASN1_strings(); ERR_load_EVP_strings(); ERR_load_BIO_strings();
        ERR_load_EC_strings(); ERR_load_RSA_strings(); ERR_load_BN_strings(); ERR_load_BUF_strings();
        ERR_load_OBJ_strings(); ERR_load_CRYPTO_strings(); ERR_load_RAND_strings(); ERR_load_DH_strings();
        ERR_load_DSA_strings(); ERR_load_KDF_strings(); ERR_load_PKCS12_strings(); ERR_load_PKCS7_strings();
#pragma clang diagnostic pop
    }
    ERR_error_string_n(code, buffer, size);
}
