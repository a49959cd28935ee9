package chatwoot

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	vecSecret = "wQ7rT2vX9pL4mN8bC6dF1hJ3"
	vecTS     = "1778577268"
	vecBody   = `{"event":"message_created","id":98231}`
	vecSig    = "sha256=2f6684caab5fc94614182eae898de184a642d177afa55275aeb3b6500e3bb676"
)

func TestSignVector(t *testing.T) {
	assert.Equal(t, vecSig, Sign([]byte(vecSecret), vecTS, []byte(vecBody)))
}

func TestVerify(t *testing.T) {
	at := time.Unix(1778577268, 0)
	v := NewVerifier([]string{"old-secret", vecSecret}, DefaultTolerance)
	// chatwoot#13809: HMAC of the body alone, without "ts.".
	bodyOnly := signRaw([]byte(vecSecret), []byte(vecBody))
	require.True(t, strings.HasPrefix(bodyOnly, "sha256=c06c9af7"), "chatwoot.md quotes this prefix")
	tests := []struct {
		name string
		ts   string
		sig  string
		body string
		now  time.Time
		want error
	}{
		{"vector", vecTS, vecSig, vecBody, at, nil},
		{"second secret of the set", vecTS, Sign([]byte("old-secret"), vecTS, []byte(vecBody)), vecBody, at, nil},
		{"upper-case hex is not what Chatwoot sends but decodes the same", vecTS, "sha256=" + strings.ToUpper(vecSig[7:]), vecBody, at, nil},
		{"clock skew -300 s accepted", vecTS, vecSig, vecBody, at.Add(300 * time.Second), nil},
		{"clock skew +300 s accepted", vecTS, vecSig, vecBody, at.Add(-300 * time.Second), nil},
		{"stale 301 s", vecTS, vecSig, vecBody, at.Add(301 * time.Second), ErrStaleTimestamp},
		{"future 301 s", vecTS, vecSig, vecBody, at.Add(-301 * time.Second), ErrStaleTimestamp},
		{"body-only signature (chatwoot#13809)", vecTS, bodyOnly, vecBody, at, ErrSignatureMismatch},
		{"other body", vecTS, vecSig, `{"event":"message_created","id":98232}`, at, ErrSignatureMismatch},
		{"wrong secret", vecTS, Sign([]byte("nope"), vecTS, []byte(vecBody)), vecBody, at, ErrSignatureMismatch},
		{"timestamp changed", "1778577269", vecSig, vecBody, at, ErrSignatureMismatch},
		{"missing signature", vecTS, "", vecBody, at, ErrMissingSignature},
		{"missing timestamp", "", vecSig, vecBody, at, ErrMissingSignature},
		{"no prefix", vecTS, vecSig[7:], vecBody, at, ErrMalformedSignature},
		{"sha1 prefix", vecTS, "sha1=" + vecSig[7:], vecBody, at, ErrMalformedSignature},
		{"short hex", vecTS, vecSig[:70], vecBody, at, ErrMalformedSignature},
		{"non-hex", vecTS, "sha256=" + strings.Repeat("zz", 32), vecBody, at, ErrMalformedSignature},
		{"two signature headers joined by API Gateway", vecTS, vecSig + "," + vecSig, vecBody, at, ErrMalformedSignature},
		{"timestamp with fraction", "1778577268.5", vecSig, vecBody, at, ErrMalformedTimestamp},
		{"negative timestamp", "-1778577268", vecSig, vecBody, at, ErrMalformedTimestamp},
		{"huge timestamp", "99999999999999999999", vecSig, vecBody, at, ErrMalformedTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, v.Verify(tt.ts, tt.sig, []byte(tt.body), tt.now), tt.want)
		})
	}
}

func TestVerifyWithoutSecretsRejects(t *testing.T) {
	v := NewVerifier([]string{"", "  "}, DefaultTolerance)
	require.Equal(t, 0, v.Secrets())
	assert.ErrorIs(t, v.Verify(vecTS, vecSig, []byte(vecBody), time.Unix(1778577268, 0)), ErrSignatureMismatch)
}

func TestParseSecrets(t *testing.T) {
	got, err := ParseSecrets(" a, ,b ,")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, got)
	for _, none := range []string{"", " , ", ",,", "\t"} {
		_, err := ParseSecrets(none)
		assert.ErrorIs(t, err, ErrNoSecret, "%q", none)
	}
}
