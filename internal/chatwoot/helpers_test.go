package chatwoot

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// signRaw is the mistaken scheme of chatwoot#13809: HMAC over the body only.
func signRaw(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
