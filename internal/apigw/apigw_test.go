package apigw

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// readBody reads what io.ReadAll of the limited body reads, whatever the
// announced Content-Length.
func TestReadBodyIsReadAll(t *testing.T) {
	for _, body := range []string{"", "x", strings.Repeat("y", 511), strings.Repeat("z", 4096)} {
		for _, cl := range []int64{-1, 0, 1, int64(len(body)) - 1, int64(len(body)), int64(len(body)) + 1, 10000} {
			for _, limit := range []int64{1, 100, 4096, 4097, 1 << 20} {
				r := &http.Request{Body: io.NopCloser(strings.NewReader(body)), ContentLength: cl}
				got, err := readBody(r, limit)
				want, _ := io.ReadAll(io.LimitReader(strings.NewReader(body), limit))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("len %d, Content-Length %d, limit %d: got %d bytes, %v; want %d", len(body), cl, limit, len(got), err, len(want))
				}
			}
		}
	}
}

func TestJSONNeverAnsweredEmpty(t *testing.T) {
	resp := JSON(http.StatusOK, map[string]any{"bad": math.Inf(1)})
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.JSONEq(t, `{"error":"response could not be encoded"}`, resp.Body)
	resp = JSON(http.StatusAccepted, map[string]int{"n": 1})
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.JSONEq(t, `{"n":1}`, resp.Body)
}
