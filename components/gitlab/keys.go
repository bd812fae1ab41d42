package gitlab

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"sync"
)

// Omnibus makes two kinds of secret that are not random strings: an RSA key that signs OpenID Connect and CI
// ID tokens (OpenSSL::PKey::RSA.new(4096)) and the SSH host keys (ssh-keygen, in the image's init-container).
// pulumi-random makes only strings, and the tls provider is not available, so each such key is derived from a
// seed that pulumi-random generates and Pulumi keeps secret in the stack's state: the same seed gives the
// same key on every run of the program, so nothing churns, and replacing the seed's resource rotates the key.
// The derivation is deterministic key generation from a random seed, as FIPS 186-5 allows: a keystream drawn
// from the seed feeds the usual generation procedure.

// keyStream is AES-256 in counter mode, keyed with SHA-256 of the key's purpose and the seed: the output
// function of NIST's CTR_DRBG, without reseeding. Keys for different purposes never share a stream.
func keyStream(purpose, seed string) io.Reader {
	key := sha256.Sum256([]byte("gitlab-ha key derivation v1\x00" + purpose + "\x00" + seed))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always a valid AES-256 key
	}
	return cipher.StreamReader{S: cipher.NewCTR(block, make([]byte, aes.BlockSize)), R: zeros{}}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// rsaExponent is the public exponent OpenSSL and ssh-keygen use.
const rsaExponent = 65537

// rsaKeyFromSeed generates an RSA key of the given size from the seed, as FIPS 186-5 A.1.3 describes: two
// probable primes of half the size with their top two bits set, far enough apart, and a private exponent
// larger than 2^(bits/2).
func rsaKeyFromSeed(purpose, seed string, bits int) (*rsa.PrivateKey, error) {
	stream := keyStream(purpose, seed)
	e := big.NewInt(rsaExponent)
	one := big.NewInt(1)
	for {
		p, err := primeFromStream(stream, bits/2, e)
		if err != nil {
			return nil, err
		}
		q, err := primeFromStream(stream, bits-bits/2, e)
		if err != nil {
			return nil, err
		}
		if distance := new(big.Int).Sub(p, q); distance.Abs(distance).BitLen() <= bits/2-100 {
			continue
		}
		n := new(big.Int).Mul(p, q)
		pMinus1, qMinus1 := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
		gcd := new(big.Int).GCD(nil, nil, pMinus1, qMinus1)
		lambda := new(big.Int).Div(new(big.Int).Mul(pMinus1, qMinus1), gcd)
		d := new(big.Int).ModInverse(e, lambda)
		if n.BitLen() != bits || d == nil || d.BitLen() <= bits/2 {
			continue
		}
		key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: rsaExponent}, D: d, Primes: []*big.Int{p, q}}
		key.Precompute()
		if err := key.Validate(); err != nil {
			return nil, err
		}
		return key, nil
	}
}

// primeFromStream draws candidates of exactly bits bits, with the top two bits set so that the product of
// two has exactly twice as many, until one is a probable prime p with gcd(e, p-1) = 1. Miller-Rabin with 20
// random bases plus a Baillie-PSW test leaves no known composite undetected.
func primeFromStream(stream io.Reader, bits int, e *big.Int) (*big.Int, error) {
	buf := make([]byte, (bits+7)/8)
	p, remainder := new(big.Int), new(big.Int)
	for {
		if _, err := io.ReadFull(stream, buf); err != nil {
			return nil, err
		}
		buf[0] &= 0xff >> (len(buf)*8 - bits)
		p.SetBytes(buf)
		p.SetBit(p, bits-1, 1)
		p.SetBit(p, bits-2, 1)
		p.SetBit(p, 0, 1)
		if hasSmallFactor(p) || !p.ProbablyPrime(20) {
			continue
		}
		// e is prime, so gcd(e, p-1) = 1 unless e divides p-1, that is unless p mod e = 1.
		if remainder.Mod(p, e).Cmp(big.NewInt(1)) == 0 {
			continue
		}
		return new(big.Int).Set(p), nil
	}
}

// smallPrimes are the odd primes below 2000: a candidate divisible by one is rejected with a cheap remainder
// instead of a Miller-Rabin round, which makes the search several times faster.
var smallPrimes = func() []uint64 {
	var primes []uint64
	for n := uint64(3); n < 2000; n += 2 {
		prime := true
		for _, p := range primes {
			if p*p > n {
				break
			}
			if n%p == 0 {
				prime = false
				break
			}
		}
		if prime {
			primes = append(primes, n)
		}
	}
	return primes
}()

func hasSmallFactor(n *big.Int) bool {
	remainder := new(big.Int)
	for _, p := range smallPrimes {
		if remainder.Mod(n, new(big.Int).SetUint64(p)).Sign() == 0 {
			return true
		}
	}
	return false
}

// ecdsaKeyFromSeed generates a P-256 key as FIPS 186-5 A.2.1 does: 64 bits more than the group order, reduced
// into [1, n-1].
func ecdsaKeyFromSeed(purpose, seed string) (*ecdsa.PrivateKey, error) {
	curve := elliptic.P256()
	order := curve.Params().N
	buf := make([]byte, (order.BitLen()+64)/8)
	if _, err := io.ReadFull(keyStream(purpose, seed), buf); err != nil {
		return nil, err
	}
	nMinus1 := new(big.Int).Sub(order, big.NewInt(1))
	d := new(big.Int).SetBytes(buf)
	d.Mod(d, nMinus1).Add(d, big.NewInt(1))
	return ecdsa.ParseRawPrivateKey(curve, d.FillBytes(make([]byte, (order.BitLen()+7)/8)))
}

// ed25519KeyFromSeed takes the 32-byte seed Ed25519 keys are defined by (RFC 8032) from the stream.
func ed25519KeyFromSeed(purpose, seed string) (ed25519.PrivateKey, error) {
	buf := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(keyStream(purpose, seed), buf); err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(buf), nil
}

// derivedKeys remembers what was derived, so that a program that asks twice (or tests that share a seed) pay
// for an RSA key once.
var derivedKeys sync.Map

func memoized(kind, purpose, seed string, derive func() (string, error)) (string, error) {
	cacheKey := kind + "\x00" + purpose + "\x00" + seed
	if value, ok := derivedKeys.Load(cacheKey); ok {
		return value.(string), nil
	}
	value, err := derive()
	if err != nil {
		return "", err
	}
	derivedKeys.Store(cacheKey, value)
	return value, nil
}

// openIDSigningKeyPEM is the key Omnibus would make for gitlab_rails['openid_connect_signing_key']: RSA, 4096
// bits, PEM-encoded PKCS #1, which is what Ruby's OpenSSL::PKey::RSA#to_pem writes.
func openIDSigningKeyPEM(seed string) (string, error) {
	return memoized("openid-pem", "openid_connect_signing_key", seed, func() (string, error) {
		key, err := rsaKeyFromSeed("openid_connect_signing_key", seed, 4096)
		if err != nil {
			return "", err
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})), nil
	})
}

// sshHostKey is one of the host keys the image's init-container would generate with ssh-keygen's defaults.
type sshHostKey struct {
	kind string // rsa, ecdsa or ed25519: the file is ssh_host_<kind>_key
}

var sshHostKeys = []sshHostKey{{"rsa"}, {"ecdsa"}, {"ed25519"}}

func (k sshHostKey) file() string { return "ssh_host_" + k.kind + "_key" }

// openSSHPrivateKey derives the key from its seed and writes it in OpenSSH's own format, unencrypted, as
// ssh-keygen does: RSA 3072 bits, ECDSA P-256 and Ed25519 are ssh-keygen's defaults.
func (k sshHostKey) openSSHPrivateKey(seed string) (string, error) {
	return memoized("openssh", k.file(), seed, func() (string, error) {
		switch k.kind {
		case "rsa":
			key, err := rsaKeyFromSeed(k.file(), seed, 3072)
			if err != nil {
				return "", err
			}
			return marshalOpenSSH(key)
		case "ecdsa":
			key, err := ecdsaKeyFromSeed(k.file(), seed)
			if err != nil {
				return "", err
			}
			return marshalOpenSSH(key)
		case "ed25519":
			key, err := ed25519KeyFromSeed(k.file(), seed)
			if err != nil {
				return "", err
			}
			return marshalOpenSSH(key)
		}
		return "", fmt.Errorf("unknown SSH host key type %q", k.kind)
	})
}

// sshWire builds the SSH wire encoding (RFC 4251): strings and mpints with a length prefix.
type sshWire []byte

func (w sshWire) uint32(v uint32) sshWire { return binary.BigEndian.AppendUint32(w, v) }

func (w sshWire) bytes(b []byte) sshWire { return append(w.uint32(uint32(len(b))), b...) }

func (w sshWire) string(s string) sshWire { return w.bytes([]byte(s)) }

// mpint is a two's complement integer: a positive number whose top bit is set gets a leading zero byte.
func (w sshWire) mpint(n *big.Int) sshWire {
	b := n.Bytes()
	if len(b) > 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return w.bytes(b)
}

// marshalOpenSSH writes the "openssh-key-v1" format (OpenSSH's PROTOCOL.key) with no cipher. The check
// integer, random when ssh-keygen writes a key, is taken from the public key here so that the same key always
// encodes to the same bytes.
func marshalOpenSSH(key any) (string, error) {
	var public, private sshWire
	switch k := key.(type) {
	case *rsa.PrivateKey:
		e := big.NewInt(int64(k.E))
		public = public.string("ssh-rsa").mpint(e).mpint(k.N)
		private = private.string("ssh-rsa").mpint(k.N).mpint(e).mpint(k.D).mpint(k.Precomputed.Qinv).mpint(k.Primes[0]).mpint(k.Primes[1])
	case *ecdsa.PrivateKey:
		point, err := k.PublicKey.Bytes()
		if err != nil {
			return "", err
		}
		scalar, err := k.Bytes()
		if err != nil {
			return "", err
		}
		public = public.string("ecdsa-sha2-nistp256").string("nistp256").bytes(point)
		private = private.string("ecdsa-sha2-nistp256").string("nistp256").bytes(point).mpint(new(big.Int).SetBytes(scalar))
	case ed25519.PrivateKey:
		pub := k.Public().(ed25519.PublicKey)
		public = public.string("ssh-ed25519").bytes(pub)
		private = private.string("ssh-ed25519").bytes(pub).bytes(k)
	default:
		return "", fmt.Errorf("unsupported key type %T", key)
	}
	digest := sha256.Sum256(public)
	check := binary.BigEndian.Uint32(digest[:4])
	section := sshWire{}.uint32(check).uint32(check)
	section = append(section, private...)
	section = section.string("") // comment
	for i := byte(1); len(section)%8 != 0; i++ {
		section = append(section, i) // padding to the cipher block size, 8 for "none"
	}
	blob := sshWire("openssh-key-v1\x00").string("none").string("none").string("").uint32(1).bytes(public).bytes(section)
	return string(pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: blob})), nil
}

// base64OfSecret encodes a generated string: Workhorse and KAS want a secret of an exact number of bytes,
// base64-encoded, which a RandomPassword of that length gives once encoded.
func base64OfSecret(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
