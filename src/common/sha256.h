// SHA-256 through OpenSSL's EVP interface (the low-level SHA256_* calls are deprecated in 3.0).
#pragma once
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>

namespace cim {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new()) {
        if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
    }
    // A copy continues from the same state (used to hash many blocks after one salt).
    Sha256(const Sha256& o) : ctx_(EVP_MD_CTX_new()) {
        if (!ctx_ || EVP_MD_CTX_copy_ex(ctx_, o.ctx_) != 1) throw std::bad_alloc();
    }
    Sha256& operator=(const Sha256&) = delete;
    ~Sha256() { EVP_MD_CTX_free(ctx_); }

    Sha256& update(const void* p, size_t n) {
        EVP_DigestUpdate(ctx_, p, n);
        return *this;
    }
    Sha256& update(std::span<const std::byte> b) { return update(b.data(), b.size()); }
    // Copies `base`'s state into this context (cheaper than constructing a new one).
    void reset(const Sha256& base) { EVP_MD_CTX_copy_ex(ctx_, base.ctx_); }
    void finish(uint8_t* out32) {
        unsigned n = 0;
        EVP_DigestFinal_ex(ctx_, out32, &n);
    }
    Sha256Digest finish() {
        Sha256Digest d;
        finish(d.data());
        return d;
    }

    static Sha256Digest of(const void* p, size_t n) { return Sha256().update(p, n).finish(); }
    static Sha256Digest of(std::span<const std::byte> b) { return of(b.data(), b.size()); }

private:
    EVP_MD_CTX* ctx_;
};

}  // namespace cim
