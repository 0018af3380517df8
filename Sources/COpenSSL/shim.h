// OpenSSL 3 from Debian's libssl-dev, linked statically into release builds. Macros that Swift
// cannot import are wrapped here as static inline functions.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline long cossl_set_min_tls12(SSL_CTX *ctx) { return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); }
static inline long cossl_set_tlsext_host_name(SSL *ssl, const char *name) { return SSL_set_tlsext_host_name(ssl, name); }
static inline long cossl_mode_auto_retry(SSL_CTX *ctx) { return SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY); }
static inline long cossl_add_extra_chain_cert(SSL_CTX *ctx, X509 *x509) { return SSL_CTX_add_extra_chain_cert(ctx, x509); }
// The host's openssl.cnf may name providers or engines (.so files): a static binary must not load them.
static inline int cossl_init_without_config(void) { return OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL); }
