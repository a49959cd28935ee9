package chatwoot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header names as Chatwoot sends them, lower-cased as API Gateway delivers them.
const (
	HeaderSignature = "x-chatwoot-signature"
	HeaderTimestamp = "x-chatwoot-timestamp"
	HeaderDelivery  = "x-chatwoot-delivery"
)

// DefaultTolerance is the accepted clock skew in both directions.
const DefaultTolerance = 300 * time.Second

// Verification failures. Each maps to a 401 and its own rejection counter.
var (
	ErrMissingSignature   = errors.New("missing signature or timestamp header")
	ErrMalformedSignature = errors.New("malformed signature header")
	ErrMalformedTimestamp = errors.New("malformed timestamp header")
	ErrStaleTimestamp     = errors.New("timestamp outside tolerance")
	ErrSignatureMismatch  = errors.New("signature does not match")
)

// Sign returns the X-Chatwoot-Signature value for body sent at ts:
// "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Sign(secret []byte, ts string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verifier checks Chatwoot webhook signatures against a set of secrets, so a
// rotated secret and its successor are both valid during the change-over.
type Verifier struct {
	secrets   [][]byte
	tolerance time.Duration
}

// NewVerifier returns a verifier for the given secrets (empty ones are skipped).
func NewVerifier(secrets []string, tolerance time.Duration) *Verifier {
	v := &Verifier{tolerance: tolerance}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); s != "" {
			v.secrets = append(v.secrets, []byte(s))
		}
	}
	return v
}

// ErrNoSecret is ParseSecrets' error for a value that names no secret: a
// verifier without one would answer 401 to every webhook while health
// says all is well.
var ErrNoSecret = errors.New("CHATWOOT_WEBHOOK_SECRET holds no secret (only commas and spaces)")

// ParseSecrets splits the comma-separated CHATWOOT_WEBHOOK_SECRET value.
func ParseSecrets(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoSecret
	}
	return out, nil
}

// Secrets reports how many secrets are configured.
func (v *Verifier) Secrets() int { return len(v.secrets) }

// Verify checks sig over "ts.body" at time now. It returns nil or one of the
// Err* values above; it never says which secret matched or what was expected.
func (v *Verifier) Verify(ts, sig string, body []byte, now time.Time) error {
	if ts == "" || sig == "" {
		return ErrMissingSignature
	}
	got, err := parseSignature(sig)
	if err != nil {
		return err
	}
	sec, err := parseTimestamp(ts)
	if err != nil {
		return err
	}
	if d := now.Unix() - sec; d > int64(v.tolerance/time.Second) || -d > int64(v.tolerance/time.Second) {
		return ErrStaleTimestamp
	}
	ok := 0
	// Compare against every secret so timing does not reveal which one matched.
	for _, s := range v.secrets {
		ok |= subtleEqual(mac(s, ts, body), got)
	}
	if ok == 0 {
		return ErrSignatureMismatch
	}
	return nil
}

func subtleEqual(a, b []byte) int {
	if hmac.Equal(a, b) {
		return 1
	}
	return 0
}

// NormalizeSignature returns a signature header that Verify accepted in one
// spelling: hex digits are case-insensitive, so "sha256=ABC…" and
// "sha256=abc…" are the same request and must key a replay check alike.
func NormalizeSignature(sig string) string {
	return strings.ToLower(strings.TrimSpace(sig))
}

func parseSignature(sig string) ([]byte, error) {
	hexPart, ok := strings.CutPrefix(strings.TrimSpace(sig), "sha256=")
	if !ok || len(hexPart) != sha256.Size*2 {
		return nil, ErrMalformedSignature
	}
	raw, err := hex.DecodeString(hexPart)
	if err != nil {
		return nil, ErrMalformedSignature
	}
	return raw, nil
}

func parseTimestamp(ts string) (int64, error) {
	if len(ts) == 0 || len(ts) > 12 {
		return 0, ErrMalformedTimestamp
	}
	for _, c := range ts {
		if c < '0' || c > '9' {
			return 0, ErrMalformedTimestamp
		}
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, ErrMalformedTimestamp
	}
	return n, nil
}
