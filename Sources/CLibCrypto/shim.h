// OpenSSL's libcrypto (Debian: libssl-dev), for SHA-256 only: the system library libpq already
// links, instead of compiling BoringSSL through swift-crypto.
#include <openssl/evp.h>
