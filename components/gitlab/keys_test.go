package gitlab

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

func TestAKeyDerivedFromTheSameSeedIsTheSameKeySoNothingChurns(t *testing.T) {
	first, err := rsaKeyFromSeed("test", "seed-one", 2048)
	require.NoError(t, err)
	again, err := rsaKeyFromSeed("test", "seed-one", 2048)
	require.NoError(t, err)
	assert.True(t, first.Equal(again))

	other, err := rsaKeyFromSeed("test", "seed-two", 2048)
	require.NoError(t, err)
	assert.False(t, first.Equal(other), "another seed, another key")
	purpose, err := rsaKeyFromSeed("another purpose", "seed-one", 2048)
	require.NoError(t, err)
	assert.False(t, first.Equal(purpose), "one seed never gives two purposes the same key")
}

func TestADerivedRSAKeyMeetsFIPS186Requirements(t *testing.T) {
	key, err := rsaKeyFromSeed("test", "seed-one", 2048)
	require.NoError(t, err)
	require.NoError(t, key.Validate())
	assert.Equal(t, 2048, key.N.BitLen())
	assert.Equal(t, 65537, key.E)
	p, q := key.Primes[0], key.Primes[1]
	assert.True(t, p.ProbablyPrime(64) && q.ProbablyPrime(64))
	assert.Equal(t, 1024, p.BitLen())
	assert.Equal(t, 1024, q.BitLen())
	assert.Greater(t, new(big.Int).Abs(new(big.Int).Sub(p, q)).BitLen(), 1024-100, "|p-q| > 2^(nlen/2-100)")
	assert.Greater(t, key.D.BitLen(), 1024, "d > 2^(nlen/2)")
}

func TestSSHHostKeysAreWhatSSHKeygenWouldMakeInOpenSSHsOwnFormat(t *testing.T) {
	for _, key := range sshHostKeys {
		encoded, err := key.openSSHPrivateKey("seed-one")
		require.NoError(t, err)
		again, err := key.openSSHPrivateKey("seed-one")
		require.NoError(t, err)
		assert.Equal(t, encoded, again, "%s encodes to the same bytes every run", key.file())

		parsed, err := ssh.ParseRawPrivateKey([]byte(encoded))
		require.NoError(t, err, key.file())
		switch k := parsed.(type) {
		case *rsa.PrivateKey:
			assert.Equal(t, "rsa", key.kind)
			assert.Equal(t, 3072, k.N.BitLen())
			assert.NoError(t, k.Validate())
		case *ecdsa.PrivateKey:
			assert.Equal(t, "ecdsa", key.kind)
			assert.Equal(t, "P-256", k.Curve.Params().Name)
		case *ed25519.PrivateKey:
			assert.Equal(t, "ed25519", key.kind)
		default:
			t.Errorf("%s parsed as %T", key.file(), parsed)
		}
	}
}

func TestTheOpenIDConnectSigningKeyIsRSA4096InPEM(t *testing.T) {
	encoded, err := openIDSigningKeyPEM("seed-one")
	require.NoError(t, err)
	parsed, err := ssh.ParseRawPrivateKey([]byte(encoded)) // reads "RSA PRIVATE KEY" PEM as OpenSSL writes it
	require.NoError(t, err)
	key := parsed.(*rsa.PrivateKey)
	assert.Equal(t, 4096, key.N.BitLen())
	assert.NoError(t, key.Validate())
}
